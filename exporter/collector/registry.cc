// The registry: every collector, in poll order. A new collector is its own
// file plus one line here.
#include "exporter/collector/collector.h"
#include "exporter/collector/heartbeat.h"
#include "exporter/collector/pg_is_in_recovery.h"
#include "exporter/collector/pg_replication_slots.h"
#include "exporter/collector/pg_stat_archiver.h"
#include "exporter/collector/pg_stat_database_conflicts.h"
#include "exporter/collector/pg_stat_replication.h"
#include "exporter/collector/pg_stat_subscription.h"
#include "exporter/collector/pg_stat_wal.h"
#include "exporter/collector/pg_stat_wal_receiver.h"
#include "exporter/collector/replay_blockers.h"
#include "exporter/collector/sync_replication.h"

namespace pgrepl {

std::vector<std::unique_ptr<Collector>> DefaultCollectors(
    const CollectorOptions& options) {
  std::vector<std::unique_ptr<Collector>> out;
  out.push_back(std::make_unique<PgIsInRecoveryCollector>());  // the role
  out.push_back(std::make_unique<PgStatWalReceiverCollector>());
  out.push_back(std::make_unique<PgStatReplicationCollector>());
  out.push_back(std::make_unique<PgReplicationSlotsCollector>());
  out.push_back(std::make_unique<ReplayBlockersCollector>());
  out.push_back(std::make_unique<PgStatDatabaseConflictsCollector>());
  out.push_back(std::make_unique<SyncReplicationCollector>());
  out.push_back(std::make_unique<PgStatArchiverCollector>());
  out.push_back(std::make_unique<PgStatSubscriptionCollector>());
  out.push_back(std::make_unique<PgStatWalCollector>());
  if (options.heartbeat) {
    out.push_back(std::make_unique<HeartbeatCollector>(options.heartbeat_id));
  }
  return out;
}

}  // namespace pgrepl
