// Collector for pg_stat_replication: each connected standby as the
// upstream (normally the primary) sees it.
#ifndef PGREPL_EXPORTER_COLLECTOR_PG_STAT_REPLICATION_H_
#define PGREPL_EXPORTER_COLLECTOR_PG_STAT_REPLICATION_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "exporter/collector/collector.h"
#include "exporter/model/view_rows.h"
#include "exporter/pg/rows.h"

namespace pgrepl {

// The positions of every walsender, each row with its pid; the standby's
// name, address and xmin age are left for the details.
std::string StatReplicationSql(int server_version_num);
// Parses the positions' rows, sorted by pid.
Status ParseStatReplication(const Rows& rows, std::vector<StandbyRow>* out);
// Per walsender pid: application_name, client_addr, backend_xmin_age.
std::string StandbyDetailsSql();
Status ParseStandbyDetails(const Rows& rows,
                           std::map<int64_t, StandbyRow>* out);
// Fills the rows' details by pid, drops rows without any (the walsender
// ended in between), and orders them by application_name, then pid.
void MergeStandbyDetails(const std::map<int64_t, StandbyRow>& details,
                         std::vector<StandbyRow>* standbys);

// The time lag to report for one stage, applying the NULL rule:
// PostgreSQL sets write/flush/replay_lag to NULL once the standby has caught
// up and nothing new is written. The lag is then 0, but only when the
// stage's LSN equals the upstream's current LSN; otherwise it is unknown
// (NaN), never a silent 0.
double StageLagSeconds(const std::optional<double>& lag,
                       const std::optional<uint64_t>& stage_lsn,
                       const std::optional<uint64_t>& current_lsn);

class PgStatReplicationCollector : public Collector {
 public:
  const char* name() const override { return "pg_stat_replication"; }
  bool Due(const StatementPlan& plan) const override;
  std::vector<std::string> Statements(const StatementPlan& plan) const override;
  Status Update(RowSource& db, const PollContext& ctx,
                InstanceSnapshot* s) const override;
  void CarryForward(const InstanceSnapshot& last,
                    InstanceSnapshot* s) const override;
  void Emit(const InstanceSnapshot& s, MetricSink& sink) const override;
};

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_COLLECTOR_PG_STAT_REPLICATION_H_
