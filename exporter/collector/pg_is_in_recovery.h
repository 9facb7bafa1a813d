// Collector for the instance's role: pg_is_in_recovery() and version.
#ifndef PGREPL_EXPORTER_COLLECTOR_PG_IS_IN_RECOVERY_H_
#define PGREPL_EXPORTER_COLLECTOR_PG_IS_IN_RECOVERY_H_

#include <optional>

#include "exporter/collector/collector.h"
#include "exporter/pg/rows.h"

namespace pgrepl {

struct RecoveryInfo {
  bool in_recovery = false;
  int server_version_num = 0;
};

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
