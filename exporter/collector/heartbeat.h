// The opt-in heartbeat (--heartbeat): the exporter writes a row on the
// primary every poll and reads it back on every replica.
#ifndef PGREPL_EXPORTER_COLLECTOR_HEARTBEAT_H_
#define PGREPL_EXPORTER_COLLECTOR_HEARTBEAT_H_

#include <cstdint>
#include <optional>
#include <string>

#include "exporter/base/status.h"
#include "exporter/collector/collector.h"
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

// On a primary, writes this poll's `seq` and records when, in the
// cluster's heartbeat history; on a replica, reads the `seq` it sees and
// sets heartbeat_lag_seconds from that history. Needs PollContext.history.
class HeartbeatCollector : public Collector {
 public:
  explicit HeartbeatCollector(std::string id) : id_(std::move(id)) {}
  const char* name() const override { return "heartbeat"; }
  // The replica's read. A primary's write (a read-write transaction,
  // invalid on a replica) is not declared: it costs a round trip of its own.
  std::vector<std::string> Statements(const StatementPlan& plan) const override;
  Status Update(RowSource& db, const PollContext& ctx,
                InstanceSnapshot* s) const override;
  void Emit(const InstanceSnapshot& s, MetricSink& sink) const override;

 private:
  const std::string id_;
};

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_COLLECTOR_HEARTBEAT_H_
