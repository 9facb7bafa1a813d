// Collector for what holds a replica's replay back: the startup process's
// wait (pg_stat_activity), the oldest open transaction, the replay delay
// settings; and, rendered from them, the cause of the replica's lag.
#ifndef PGREPL_EXPORTER_COLLECTOR_REPLAY_BLOCKERS_H_
#define PGREPL_EXPORTER_COLLECTOR_REPLAY_BLOCKERS_H_

#include <string>
#include <vector>

#include "exporter/collector/collector.h"
#include "exporter/model/view_rows.h"
#include "exporter/pg/rows.h"

namespace pgrepl {

// One text for PostgreSQL 12-17: the columns it reads exist in all of
// them; the wait event names differ (model/lag_cause.h).
std::string ReplayBlockersSql(int server_version_num);

// Parses the one row.
Status ParseReplayBlockers(const Rows& rows, ReplayBlockers* out);

class ReplayBlockersCollector : public Collector {
 public:
  const char* name() const override { return kReplayBlockersCollector; }
  std::vector<std::string> Statements(const StatementPlan& plan) const override;
  // Runs on every role (the statement is valid on both); renders on
  // replicas only.
  Status Update(RowSource& db, const PollContext& ctx,
                InstanceSnapshot* s) const override;
  void Emit(const InstanceSnapshot& s, MetricSink& sink) const override;
};

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_COLLECTOR_REPLAY_BLOCKERS_H_
