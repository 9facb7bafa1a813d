// The opt-in heartbeat (--heartbeat): the exporter writes a row on the
// primary every poll and reads it back on every replica.
#include "exporter/collector/heartbeat.h"

#include <chrono>

#include "exporter/base/metric_sink.h"
#include "exporter/model/position_history.h"
#include "exporter/model/snapshot.h"
#include "exporter/pg/row_source.h"
#include "exporter/pg/values.h"

namespace pgrepl {

// The session is read-only by default; this one transaction opts in.
// One small row update per poll: about 150 bytes of WAL per second at a
// 1 s interval, and one dead tuple that HOT pruning reclaims.
std::string HeartbeatWriteSql(const std::string& id, int64_t seq) {
  return "BEGIN READ WRITE; "
         "INSERT INTO pgrepl_heartbeat (exporter, seq, written_at) VALUES ('" +
         id + "', " + std::to_string(seq) +
         ", now()) ON CONFLICT (exporter) DO UPDATE SET seq = excluded.seq, "
         "written_at = excluded.written_at; COMMIT";
}

// Sample row:
//   seq
//   1795752286210
std::string HeartbeatReadSql(const std::string& id) {
  return "SELECT seq FROM pgrepl_heartbeat WHERE exporter = '" + id + "'";
}

std::optional<int64_t> ParseHeartbeatRow(const Rows& rows) {
  if (rows.values.size() != 1) return std::nullopt;
  return ParseInt(rows.Get(0, "seq"));
}

std::vector<std::string> HeartbeatCollector::Statements(
    const StatementPlan&) const {
  return {HeartbeatReadSql(id_)};
}

Status HeartbeatCollector::Update(RowSource& db, const PollContext& ctx,
                                  InstanceSnapshot* s) const {
  using Clock = std::chrono::steady_clock;
  if (ctx.history == nullptr) return Status::Invalid("no cluster history");
  PositionHistory& history = ctx.history->heartbeat;
  if (s->role() == Role::kPrimary) {
    const auto t0 = Clock::now();
    const int64_t seq = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    auto written = db.Query(HeartbeatWriteSql(id_, seq));
    if (!written.ok()) {
      (void)db.Query("ROLLBACK");  // leave no aborted transaction behind
      return written.status();
    }
    history.Record(s->instance, t0, static_cast<uint64_t>(seq),
                   ctx.keep_source);
    return Status::Ok();
  }
  if (s->role() != Role::kReplica) return Status::Ok();
  auto rows = db.Query(HeartbeatReadSql(id_));
  if (!rows.ok()) return rows.status();
  const auto now = Clock::now();
  if (auto seq = ParseHeartbeatRow(rows.value())) {
    auto behind =
        history.Estimate(static_cast<uint64_t>(*seq), now, ctx.keep_source);
    if (behind) {
      s->heartbeat_lag_seconds =
          behind->caught_up
              ? 0.0
              : std::max(
                    0.0,
                    std::chrono::duration<double>(now - behind->since).count());
    }
  }
  return Status::Ok();
}

void HeartbeatCollector::Emit(const InstanceSnapshot& s,
                              MetricSink& sink) const {
  if (s.role() != Role::kReplica || !s.heartbeat_lag_seconds) return;
  sink.Gauge("pgrepl_heartbeat_lag_seconds",
             "Time since the exporter wrote the oldest heartbeat this "
             "replica cannot see yet; 0 when it sees the latest. One clock "
             "only (--heartbeat).",
             *s.heartbeat_lag_seconds);
}

}  // namespace pgrepl
