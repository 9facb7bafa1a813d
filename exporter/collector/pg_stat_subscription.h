// Collector for pg_stat_subscription: on a logical-replication subscriber,
// each subscription's apply worker, positions and message ages.
#ifndef PGREPL_EXPORTER_COLLECTOR_PG_STAT_SUBSCRIPTION_H_
#define PGREPL_EXPORTER_COLLECTOR_PG_STAT_SUBSCRIPTION_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "exporter/base/status.h"
#include "exporter/collector/collector.h"
#include "exporter/pg/rows.h"

namespace pgrepl {

// One subscription, as its apply worker reports it. Without a worker
// (disabled, or crashed and not yet restarted) every optional is absent.
struct SubscriptionRow {
  std::string name;
  bool enabled = false;
  std::optional<int64_t> pid;  // the apply worker's
  std::optional<uint64_t> received_lsn, latest_end_lsn;
  // Seconds, on the subscriber's clock; last_msg_send_age compares the
  // publisher's send time with it, so clock skew enters that one.
  std::optional<double> last_msg_send_age, last_msg_receipt_age, latest_end_age;
};

// What this collector stores in InstanceSnapshot::readings.
using SubscriptionReading = std::vector<SubscriptionRow>;

// The statement for a server version: one row per subscription, its
// apply worker's (tablesync workers, and parallel apply workers from
// PostgreSQL 16, are left out).
std::string SubscriptionSql(int server_version_num);
Result<SubscriptionReading> ParseSubscriptions(const Rows& rows);

class PgStatSubscriptionCollector : public Collector {
 public:
  const char* name() const override { return "pg_stat_subscription"; }
  // On full polls only (positions behind a 15-minute alert); the polls between
  // keep the last reading.
  bool Due(const StatementPlan& plan) const override { return plan.full; }
  std::vector<std::string> Statements(const StatementPlan& plan) const override;
  // Runs on both roles; renders on a primary only (a physical standby of a
  // subscriber lists its subscriptions but runs no worker).
  Status Update(RowSource& db, const PollContext& ctx,
                InstanceSnapshot* s) const override;
  void Emit(const InstanceSnapshot& s, MetricSink& sink) const override;
};

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_COLLECTOR_PG_STAT_SUBSCRIPTION_H_
