// Collector for pg_stat_wal_receiver: a replica's stream from its upstream,
// and the names it uses there (application_name, slot).
#ifndef PGREPL_EXPORTER_COLLECTOR_PG_STAT_WAL_RECEIVER_H_
#define PGREPL_EXPORTER_COLLECTOR_PG_STAT_WAL_RECEIVER_H_

#include <cstdint>
#include <optional>
#include <string>

#include "exporter/collector/collector.h"
#include "exporter/model/view_rows.h"
#include "exporter/pg/rows.h"

namespace pgrepl {

std::string WalReceiverSql(int server_version_num);
std::string IdentitySql();

// The error of a receiver row whose columns the role may not read.
extern const char kInsufficientPrivilege[];

// Parses at most one receiver row; `out` is reset when there is none. A row
// with a NULL status (a role without pg_read_all_stats) is an error,
// kInsufficientPrivilege: the stream's state is unknown, not broken.
Status ParseWalReceiver(const Rows& rows, std::optional<WalReceiverInfo>* out);

// The standby name the upstream sees: application_name in
// primary_conninfo, else cluster_name, else "walreceiver" (PostgreSQL's
// rule). `primary_conninfo` may hold a password: it is parsed here and
// dropped, never stored or logged.
Status ParseIdentity(const Rows& rows, ReplicaIdentity* out);

class PgStatWalReceiverCollector : public Collector {
 public:
  const char* name() const override { return "pg_stat_wal_receiver"; }
  // Not on a primary (its role known from the previous poll).
  bool Due(const StatementPlan& plan) const override {
    return plan.role != Role::kPrimary;
  }
  // The receiver's row every poll; its settings (IdentitySql) only on a
  // full poll. Both are valid on a primary (no row; the settings are
  // empty), where Update does not read them.
  std::vector<std::string> Statements(const StatementPlan& plan) const override;
  // Runs on replicas only; on a primary it clears the receiver state.
  // Reads the settings on a full poll or when none were read yet;
  // otherwise the sticky identity of an earlier poll stays.
  Status Update(RowSource& db, const PollContext& ctx,
                InstanceSnapshot* s) const override;
  void Emit(const InstanceSnapshot& s, MetricSink& sink) const override;
};

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_COLLECTOR_PG_STAT_WAL_RECEIVER_H_
