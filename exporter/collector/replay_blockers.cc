// Collector for what holds a replica's replay back: the startup process's
// wait (pg_stat_activity), the oldest open transaction, the replay delay
// settings; and, rendered from them, the cause of the replica's lag.
#include "exporter/collector/replay_blockers.h"

#include <cmath>

#include "exporter/base/metric_sink.h"
#include "exporter/model/lag_cause.h"
#include "exporter/model/snapshot.h"
#include "exporter/pg/row_source.h"
#include "exporter/pg/values.h"

namespace pgrepl {

// Sample row (a replica whose replay waits for a repeatable-read query):
//   startup_wait_event_type | startup_wait_event       | oldest_xact_age |
//   IPC                     | RecoveryConflictSnapshot | 12.5            |
//   max_standby_streaming_delay | recovery_min_apply_delay |
//   30                          | 0                        |
//   hot_standby_feedback
//   f
// One pass over pg_stat_activity (an array in shared memory, one entry per
// backend slot); the settings come from current_setting(), which reads
// the process's own copy. A primary has no startup process: NULL waits.
// Read on full polls and while the replica may lag (Due); the settings
// change on a reload, so a changed one shows within kFullPollEvery polls.
std::string ReplayBlockersSql(int /*server_version_num*/) {
  return "SELECT a.startup_wait_event_type, a.startup_wait_event, "
         "extract(epoch FROM clock_timestamp() - a.oldest_xact_start) "
         "AS oldest_xact_age, "
         "extract(epoch FROM current_setting('max_standby_streaming_delay')"
         "::interval) AS max_standby_streaming_delay, "
         "extract(epoch FROM current_setting('recovery_min_apply_delay')"
         "::interval) AS recovery_min_apply_delay, "
         "current_setting('hot_standby_feedback')::bool "
         "AS hot_standby_feedback "
         "FROM (SELECT max(wait_event_type) FILTER "
         "(WHERE backend_type = 'startup') AS startup_wait_event_type, "
         "max(wait_event) FILTER (WHERE backend_type = 'startup') "
         "AS startup_wait_event, "
         "min(xact_start) FILTER (WHERE backend_type = 'client backend' "
         "AND pid <> pg_backend_pid()) AS oldest_xact_start "
         "FROM pg_stat_activity) a";
}

Status ParseReplayBlockers(const Rows& rows, ReplayBlockers* out) {
  if (rows.values.size() != 1) {
    return Status::Query("replay_blockers: expected one row");
  }
  ReplayBlockers b;
  b.startup_wait_event_type =
      rows.Get(0, "startup_wait_event_type").value_or("");
  b.startup_wait_event = rows.Get(0, "startup_wait_event").value_or("");
  b.oldest_xact_age = ParseDouble(rows.Get(0, "oldest_xact_age"));
  b.max_standby_streaming_delay =
      ParseDouble(rows.Get(0, "max_standby_streaming_delay"));
  b.apply_delay = ParseDouble(rows.Get(0, "recovery_min_apply_delay"));
  b.hot_standby_feedback = ParseBool(rows.Get(0, "hot_standby_feedback"));
  *out = std::move(b);
  return Status::Ok();
}

bool ReplicaMayLag(const InstanceSnapshot& s) {
  if (s.recovery && s.recovery->replay_paused.value_or(false)) return true;
  if (!s.replica_lag_seconds || std::isnan(*s.replica_lag_seconds)) {
    return true;
  }
  return *s.replica_lag_seconds >= kLagCauseMinSeconds / 2;
}

bool ReplayBlockersCollector::Due(const StatementPlan& plan) const {
  if (plan.role == Role::kPrimary) return false;
  return plan.full || ReplicaMayLag(*plan.last);
}

void ReplayBlockersCollector::CarryForward(const InstanceSnapshot& last,
                                           InstanceSnapshot* s) const {
  const auto* b = last.Reading<ReplayBlockers>(name());
  if (b == nullptr) return;
  ReplayBlockers carried = *b;
  carried.startup_wait_event_type.clear();
  carried.startup_wait_event.clear();
  carried.waits_read = false;
  s->readings[name()] = std::move(carried);
}

std::vector<std::string> ReplayBlockersCollector::Statements(
    const StatementPlan& plan) const {
  return {ReplayBlockersSql(plan.server_version_num)};
}

Status ReplayBlockersCollector::Update(RowSource& db, const PollContext&,
                                       InstanceSnapshot* s) const {
  auto rows = db.Query(ReplayBlockersSql(db.server_version()));
  if (!rows.ok()) return rows.status();
  ReplayBlockers b;
  Status st = ParseReplayBlockers(rows.value(), &b);
  if (!st.ok()) return st;
  s->readings[name()] = std::move(b);
  return Status::Ok();
}

void ReplayBlockersCollector::Emit(const InstanceSnapshot& s,
                                   MetricSink& sink) const {
  if (s.role() != Role::kReplica || !s.CollectorOk(name())) return;
  const auto* b = s.Reading<ReplayBlockers>(name());
  if (b == nullptr) return;
  // Absent when it cannot be told (PostgreSQL 12, a transaction open).
  if (auto waiting =
          RecoveryConflictWaiting(*b, s.server_version_num.value_or(0))) {
    sink.Gauge("pgrepl_replica_recovery_conflict_waiting",
               "1 when the replica's startup process waits on a recovery "
               "conflict (a query holds back replay), else 0.",
               *waiting ? 1 : 0);
  }
  if (b->oldest_xact_age) {
    sink.Gauge("pgrepl_replica_oldest_xact_age_seconds",
               "Age of the oldest open transaction of a client on the "
               "replica (pg_stat_activity.xact_start); absent when none is "
               "open.",
               *b->oldest_xact_age);
  }
  if (b->max_standby_streaming_delay) {
    sink.Gauge("pgrepl_replica_max_standby_streaming_delay_seconds",
               "max_standby_streaming_delay: how long replay waits for "
               "conflicting queries before cancelling them; -1 = forever.",
               *b->max_standby_streaming_delay);
  }
  if (b->apply_delay) {
    sink.Gauge("pgrepl_replica_apply_delay_seconds",
               "recovery_min_apply_delay: how long the replica delays "
               "replaying each commit.",
               *b->apply_delay);
  }
  if (b->hot_standby_feedback) {
    sink.Gauge("pgrepl_replica_hot_standby_feedback",
               "1 when hot_standby_feedback is on (the replica's queries "
               "hold back the primary's vacuum), else 0.",
               *b->hot_standby_feedback ? 1 : 0);
  }
  auto verdict = ReplicaLagCause(s);
  if (!verdict) return;  // lag unknown: no cause, not "none"
  const auto& st = verdict->stages;
  struct Stage {
    const char* name;
    const std::optional<double>& bytes;
  };
  for (const Stage& stage :
       {Stage{"network", st.network}, Stage{"disk", st.disk},
        Stage{"replay", st.replay}}) {
    if (!stage.bytes) continue;
    sink.Gauge("pgrepl_replica_lag_stage_bytes",
               "The replica's lag split by stage, in bytes: network = the "
               "primary's position minus what the replica wrote, disk = "
               "written minus flushed, replay = flushed minus replayed.",
               *stage.bytes, {{"stage", stage.name}});
  }
  for (LagCause cause : kLagCauses) {
    sink.Gauge("pgrepl_replica_lag_cause",
               "The dominant cause of the replica's lag: 1 for the cause, 0 "
               "for the others; none when the lag is under 1 s "
               "(docs/metrics.md). Absent while the lag is unknown.",
               cause == verdict->cause ? 1 : 0,
               {{"cause", LagCauseName(cause)}});
  }
}

}  // namespace pgrepl
