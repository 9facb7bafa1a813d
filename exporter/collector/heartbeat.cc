// The opt-in heartbeat (--heartbeat): the exporter writes a row on the
// primary every poll and reads it back on every replica.
#include "exporter/collector/heartbeat.h"

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

}  // namespace pgrepl
