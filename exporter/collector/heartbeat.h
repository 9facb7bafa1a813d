// The opt-in heartbeat (--heartbeat): the exporter writes a row on the
// primary every poll and reads it back on every replica.
#ifndef PGREPL_EXPORTER_COLLECTOR_HEARTBEAT_H_
#define PGREPL_EXPORTER_COLLECTOR_HEARTBEAT_H_

#include <cstdint>
#include <optional>
#include <string>

#include "exporter/base/status.h"
#include "exporter/pg/rows.h"

namespace pgrepl {

// The table it needs is in docs/heartbeat.sql. `id` names this exporter's
// row (letters, digits, '.', '_' and '-' only: ValidHeartbeatId in
// exporter/config/config.h, checked by Validate), so
// several exporters can share the table. `seq` is the exporter's wall clock
// in milliseconds at the write: it only orders writes, and lag is measured
// from when the exporter wrote each `seq`, on its own steady clock.
std::string HeartbeatWriteSql(const std::string& id, int64_t seq);
std::string HeartbeatReadSql(const std::string& id);

// The `seq` visible on a replica; nullopt when the row is not there yet.
std::optional<int64_t> ParseHeartbeatRow(const Rows& rows);

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_COLLECTOR_HEARTBEAT_H_
