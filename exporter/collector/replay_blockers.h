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

// True when the snapshot's replica lagged by half of kLagCauseMinSeconds
// or more, or its lag was unknown, or replay was paused: what holds
// replay back must be read on the next poll.
bool ReplicaMayLag(const InstanceSnapshot& s);

class ReplayBlockersCollector : public Collector {
 public:
  const char* name() const override { return kReplayBlockersCollector; }
  // Replicas only (its scan of pg_stat_activity is the costliest read of
  // a replica's poll): on full polls, and on every poll while the latest
  // one saw the replica lagging (ReplicaMayLag), so that a lag of
  // kLagCauseMinSeconds or more has its cause named by the next poll.
  bool Due(const StatementPlan& plan) const override;
  std::vector<std::string> Statements(const StatementPlan& plan) const override;
  // Keeps the latest reading without its waits (waits_read false): a
  // replica under half a second behind is not held back by a query.
  void CarryForward(const InstanceSnapshot& last,
                    InstanceSnapshot* s) const override;
  Status Update(RowSource& db, const PollContext& ctx,
                InstanceSnapshot* s) const override;
  void Emit(const InstanceSnapshot& s, MetricSink& sink) const override;
};

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_COLLECTOR_REPLAY_BLOCKERS_H_
