// Collector for the instance's role and WAL positions: pg_is_in_recovery(),
// pg_current_wal_lsn(), pg_last_wal_receive/replay_lsn() and replay pause.
#include "exporter/collector/pg_is_in_recovery.h"

#include "exporter/base/metric_sink.h"
#include "exporter/model/snapshot.h"
#include "exporter/pg/row_source.h"
#include "exporter/pg/values.h"

namespace pgrepl {

// Sample rows:
//   in_recovery | server_version_num | current_lsn | walfile                  |
//   receive_lsn | replay_lsn | replay_paused f           | 150018             |
//   0/3000148   | 000000010000000000000003 |             |            | t |
//   150018             |             |                          | 0/3000148   |
//   0/3000148  | f
// CASE keeps primary-only and standby-only functions from raising errors.
// Each CASE asks pg_is_in_recovery() again rather than reading it once in
// a subquery: the function only reads shared memory, and a subquery would
// add a plan node that the server sets up on every poll. Within one
// statement the answer can only go from true to false (a promotion). Each
// CASE asks just before its own call, so the pause function (which raises
// an error outside recovery) fails only if a promotion lands between the
// two; that poll then fails and the next one reads the new role.
std::string RecoverySql(int server_version_num) {
  const char* paused = server_version_num >= 140000
                           ? "pg_get_wal_replay_pause_state() <> 'not paused'"
                           : "pg_is_wal_replay_paused()";
  return std::string(
             "SELECT pg_is_in_recovery() AS in_recovery, "
             "current_setting('server_version_num') AS server_version_num, "
             "CASE WHEN NOT pg_is_in_recovery() THEN "
             "pg_current_wal_lsn()::text END AS current_lsn, "
             "CASE WHEN NOT pg_is_in_recovery() THEN "
             "pg_walfile_name(pg_current_wal_lsn()) END AS walfile, "
             "CASE WHEN pg_is_in_recovery() THEN "
             "pg_last_wal_receive_lsn()::text END AS receive_lsn, "
             "CASE WHEN pg_is_in_recovery() THEN "
             "pg_last_wal_replay_lsn()::text END AS replay_lsn, "
             "CASE WHEN pg_is_in_recovery() THEN ") +
         paused + " END AS replay_paused";
}

Status ParseRecoveryRow(const Rows& rows, RecoveryInfo* out) {
  if (rows.values.size() != 1) return Status::Query("expected one role row");
  auto rec = ParseBool(rows.Get(0, "in_recovery"));
  if (!rec) return Status::Query("pg_is_in_recovery() returned no boolean");
  auto ver = ParseInt(rows.Get(0, "server_version_num"));
  if (!ver) return Status::Query("server_version_num is not a number");
  RecoveryInfo info;
  info.in_recovery = *rec;
  info.server_version_num = static_cast<int>(*ver);
  info.current_lsn = ParseLsnCell(rows.Get(0, "current_lsn"));
  info.receive_lsn = ParseLsnCell(rows.Get(0, "receive_lsn"));
  info.replay_lsn = ParseLsnCell(rows.Get(0, "replay_lsn"));
  info.replay_paused = ParseBool(rows.Get(0, "replay_paused"));
  info.timeline = TimelineFromWalFile(rows.Get(0, "walfile"));
  *out = info;
  return Status::Ok();
}

std::vector<std::string> PgIsInRecoveryCollector::Statements(
    const StatementPlan& plan) const {
  return {RecoverySql(plan.server_version_num)};
}

Status PgIsInRecoveryCollector::Update(RowSource& db, const PollContext&,
                                       InstanceSnapshot* s) const {
  auto rows = db.Query(RecoverySql(db.server_version()));
  if (!rows.ok()) return rows.status();
  RecoveryInfo info;
  Status st = ParseRecoveryRow(rows.value(), &info);
  if (!st.ok()) return st;
  s->recovery = info;
  s->server_version_num = info.server_version_num;
  return Status::Ok();
}

void PgIsInRecoveryCollector::Emit(const InstanceSnapshot& s,
                                   MetricSink& sink) const {
  // Role is unknown while the instance is down: no sample, not a guess.
  if (!s.up || !s.recovery) return;
  const RecoveryInfo& r = *s.recovery;
  const bool replica = r.in_recovery;
  sink.Gauge("pgrepl_in_recovery",
             "1 when pg_is_in_recovery() is true (a standby), 0 on a primary.",
             replica ? 1 : 0);
  const char* kRoleHelp =
      "The instance's role from pg_is_in_recovery(): 1 for the current role, "
      "0 for the other. Absent while the instance is down.";
  sink.Gauge("pgrepl_role", kRoleHelp, replica ? 0 : 1, {{"role", "primary"}});
  sink.Gauge("pgrepl_role", kRoleHelp, replica ? 1 : 0, {{"role", "replica"}});
  sink.Gauge("pgrepl_server_version_num",
             "The server's server_version_num, e.g. 150004.",
             r.server_version_num);
  if (r.current_lsn) {
    sink.Gauge("pgrepl_wal_lsn_bytes",
               "A primary's current WAL write position (pg_current_wal_lsn) "
               "in bytes; rate() of it is the WAL generation rate.",
               static_cast<double>(*r.current_lsn));
  }
  if (r.receive_lsn) {
    sink.Gauge("pgrepl_replica_receive_lsn_bytes",
               "Last WAL position received and flushed by the replica "
               "(pg_last_wal_receive_lsn), in bytes.",
               static_cast<double>(*r.receive_lsn));
  }
  if (r.replay_lsn) {
    sink.Gauge("pgrepl_replica_replay_lsn_bytes",
               "Last WAL position replayed by the replica "
               "(pg_last_wal_replay_lsn), in bytes.",
               static_cast<double>(*r.replay_lsn));
  }
  if (r.receive_lsn && r.replay_lsn) {
    // Replay can run ahead of receive right after a restart, when it
    // replays WAL already on disk: that is 0 bytes waiting, not negative.
    double waiting = *r.receive_lsn > *r.replay_lsn
                         ? static_cast<double>(*r.receive_lsn - *r.replay_lsn)
                         : 0.0;
    sink.Gauge("pgrepl_replica_receive_replay_lag_bytes",
               "WAL received but not yet replayed on the replica, in bytes.",
               waiting);
  }
  if (r.replay_paused) {
    sink.Gauge("pgrepl_replica_replay_paused",
               "1 when WAL replay is paused or a pause is requested.",
               *r.replay_paused ? 1 : 0);
  }
}

}  // namespace pgrepl
