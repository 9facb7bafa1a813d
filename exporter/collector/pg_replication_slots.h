// Collector for pg_replication_slots: activity, retained WAL, wal_status.
#ifndef PGREPL_EXPORTER_COLLECTOR_PG_REPLICATION_SLOTS_H_
#define PGREPL_EXPORTER_COLLECTOR_PG_REPLICATION_SLOTS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "exporter/collector/collector.h"
#include "exporter/model/view_rows.h"
#include "exporter/pg/rows.h"

namespace pgrepl {

// The wal_status values, in order of growing danger.
constexpr const char* kWalStatuses[] = {"reserved", "extended", "unreserved",
                                        "lost"};

std::string ReplicationSlotsSql(int server_version_num);
// Parses the slots' rows, sorted by slot name.
Status ParseReplicationSlots(const Rows& rows, std::vector<SlotRow>* out);
// Names each walsender's slot: the slot whose active_pid is its pid, ""
// for none. pg_stat_get_wal_senders() has no slot column; this collector
// runs after pg_stat_replication's (registry order) and names the
// standbys it read, so the slot label is as fresh as the slots.
void NameStandbySlots(const std::vector<SlotRow>& slots,
                      std::vector<StandbyRow>* standbys);

class PgReplicationSlotsCollector : public Collector {
 public:
  const char* name() const override { return "pg_replication_slots"; }
  // Every poll on a primary; on a replica, every poll while it had slots
  // at the latest reading (it cascades), else on full polls.
  bool Due(const StatementPlan& plan) const override;
  std::vector<std::string> Statements(const StatementPlan& plan) const override;
  void CarryForward(const InstanceSnapshot& last,
                    InstanceSnapshot* s) const override;
  Status Update(RowSource& db, const PollContext& ctx,
                InstanceSnapshot* s) const override;
  void Emit(const InstanceSnapshot& s, MetricSink& sink) const override;
};

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_COLLECTOR_PG_REPLICATION_SLOTS_H_
