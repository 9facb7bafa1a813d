// The list of collectors, in poll order.
#include "exporter/collector/collector.h"

#include "exporter/collector/pg_is_in_recovery.h"
#include "exporter/collector/pg_replication_slots.h"
#include "exporter/collector/pg_stat_replication.h"
#include "exporter/collector/pg_stat_wal_receiver.h"

namespace pgrepl {

std::vector<std::unique_ptr<Collector>> DefaultCollectors() {
  std::vector<std::unique_ptr<Collector>> out;
  out.push_back(std::make_unique<PgIsInRecoveryCollector>());
  out.push_back(std::make_unique<PgStatWalReceiverCollector>());
  out.push_back(std::make_unique<PgStatReplicationCollector>());
  out.push_back(std::make_unique<PgReplicationSlotsCollector>());
  return out;
}

}  // namespace pgrepl
