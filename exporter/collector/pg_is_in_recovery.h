// Collector for the instance's role and WAL positions: pg_is_in_recovery(),
// pg_current_wal_lsn(), pg_last_wal_receive/replay_lsn() and replay pause.
#ifndef PGREPL_EXPORTER_COLLECTOR_PG_IS_IN_RECOVERY_H_
#define PGREPL_EXPORTER_COLLECTOR_PG_IS_IN_RECOVERY_H_

#include <cstdint>
#include <optional>
#include <string>

#include "exporter/collector/collector.h"
#include "exporter/model/view_rows.h"
#include "exporter/pg/rows.h"

namespace pgrepl {

// The SQL for a server version (pause state moved to a new function in 14).
std::string RecoverySql(int server_version_num);

// Parses the role row. Exposed for unit tests.
Status ParseRecoveryRow(const Rows& rows, RecoveryInfo* out);

class PgIsInRecoveryCollector : public Collector {
 public:
  const char* name() const override { return "pg_is_in_recovery"; }
  bool ReadsRole() const override { return true; }
  std::vector<std::string> Statements(const StatementPlan& plan) const override;
  Status Update(RowSource& db, const PollContext& ctx,
                InstanceSnapshot* s) const override;
  void Emit(const InstanceSnapshot& s, MetricSink& sink) const override;
};

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_COLLECTOR_PG_IS_IN_RECOVERY_H_
