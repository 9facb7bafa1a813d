// Collector for the instance's role and WAL positions: pg_is_in_recovery(),
// pg_current_wal_lsn(), pg_last_wal_receive/replay_lsn() and replay pause.
#ifndef PGREPL_EXPORTER_COLLECTOR_PG_IS_IN_RECOVERY_H_
#define PGREPL_EXPORTER_COLLECTOR_PG_IS_IN_RECOVERY_H_

#include <cstdint>
#include <optional>
#include <string>

#include "exporter/collector/collector.h"
#include "exporter/pg/rows.h"

namespace pgrepl {

struct RecoveryInfo {
  bool in_recovery = false;
  int server_version_num = 0;
  std::optional<uint64_t> current_lsn;  // primary: pg_current_wal_lsn()
  std::optional<uint64_t> receive_lsn;  // replica: pg_last_wal_receive_lsn()
  std::optional<uint64_t> replay_lsn;   // replica: pg_last_wal_replay_lsn()
  std::optional<bool> replay_paused;    // replica only; "pause requested" counts
  std::optional<uint32_t> timeline;     // primary: from its current WAL file
};

// The SQL for a server version (pause state moved to a new function in 14).
std::string RecoverySql(int server_version_num);

// Parses the role row. Exposed for unit tests.
Status ParseRecoveryRow(const Rows& rows, RecoveryInfo* out);

class PgIsInRecoveryCollector : public Collector {
 public:
  const char* name() const override { return "pg_is_in_recovery"; }
  Status Update(RowSource& db, InstanceSnapshot* s) const override;
  void Emit(const InstanceSnapshot& s, MetricSink& sink) const override;
};

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_COLLECTOR_PG_IS_IN_RECOVERY_H_
