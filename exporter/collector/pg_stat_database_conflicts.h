// Collector for pg_stat_database_conflicts: queries a replica cancelled
// because replay needed what they held, per database and kind.
#ifndef PGREPL_EXPORTER_COLLECTOR_PG_STAT_DATABASE_CONFLICTS_H_
#define PGREPL_EXPORTER_COLLECTOR_PG_STAT_DATABASE_CONFLICTS_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "exporter/collector/collector.h"
#include "exporter/pg/rows.h"

namespace pgrepl {

// The kinds, as the view's columns confl_<kind> name them, in label order.
// active_logicalslot exists from PostgreSQL 16 on.
constexpr std::array<const char*, 6> kConflictKinds = {
    "tablespace", "lock",     "snapshot",
    "bufferpin",  "deadlock", "active_logicalslot"};

// One database's counters, by kConflictKinds; nullopt where the server
// has no such column (active_logicalslot before 16).
struct DatabaseConflicts {
  std::string datname;
  std::array<std::optional<uint64_t>, kConflictKinds.size()> counts;
};

std::string DatabaseConflictsSql(int server_version_num);

Status ParseDatabaseConflicts(const Rows& rows,
                              std::vector<DatabaseConflicts>* out);

class PgStatDatabaseConflictsCollector : public Collector {
 public:
  const char* name() const override { return "pg_stat_database_conflicts"; }
  // On full polls only (counters behind a 10-minute alert); the polls between
  // keep the last reading.
  bool Due(const StatementPlan& plan) const override { return plan.full; }
  std::vector<std::string> Statements(const StatementPlan& plan) const override;
  // Runs on every role (the view exists on both; a primary's counters stay
  // 0); renders on replicas only.
  Status Update(RowSource& db, const PollContext& ctx,
                InstanceSnapshot* s) const override;
  void Emit(const InstanceSnapshot& s, MetricSink& sink) const override;
};

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_COLLECTOR_PG_STAT_DATABASE_CONFLICTS_H_
