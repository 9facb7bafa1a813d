// Collector for the instance's role: pg_is_in_recovery() and version.
#include "exporter/collector/pg_is_in_recovery.h"

#include "exporter/metric_sink.h"
#include "exporter/pg/row_source.h"
#include "exporter/snapshot.h"

namespace pgrepl {
namespace {

// Sample row:
//   in_recovery | server_version_num
//   f           | 150018
constexpr char kSql[] =
    "SELECT pg_is_in_recovery() AS in_recovery, "
    "current_setting('server_version_num') AS server_version_num";

}  // namespace

Status ParseRecoveryRow(const Rows& rows, RecoveryInfo* out) {
  if (rows.values.size() != 1) return Status::Query("expected one role row");
  const auto& rec = rows.Get(0, "in_recovery");
  const auto& ver = rows.Get(0, "server_version_num");
  if (!rec || (*rec != "t" && *rec != "f")) {
    return Status::Query("pg_is_in_recovery() returned no boolean");
  }
  if (!ver) return Status::Query("server_version_num is NULL");
  int v = 0;
  try {
    v = std::stoi(*ver);
  } catch (...) {
    return Status::Query("server_version_num is not a number");
  }
  out->in_recovery = (*rec == "t");
  out->server_version_num = v;
  return Status::Ok();
}

Status PgIsInRecoveryCollector::Update(RowSource& db, InstanceSnapshot* s) const {
  auto rows = db.Query(kSql);
  if (!rows.ok()) return rows.status();
  RecoveryInfo info;
  Status st = ParseRecoveryRow(rows.value(), &info);
  if (!st.ok()) return st;
  s->recovery = info;
  s->server_version_num = info.server_version_num;
  return Status::Ok();
}

void PgIsInRecoveryCollector::Emit(const InstanceSnapshot& s,
                                   MetricSink& sink) const {
  // Role is unknown while the instance is down: no sample, not a guess.
  if (!s.up || !s.recovery) return;
  const bool replica = s.recovery->in_recovery;
  sink.Gauge("pgrepl_in_recovery",
             "1 when pg_is_in_recovery() is true (a standby), 0 on a primary.",
             replica ? 1 : 0);
  const char* kRoleHelp =
      "The instance's role from pg_is_in_recovery(): 1 for the current role, "
      "0 for the other. Absent while the instance is down.";
  sink.Gauge("pgrepl_role", kRoleHelp, replica ? 0 : 1, {{"role", "primary"}});
  sink.Gauge("pgrepl_role", kRoleHelp, replica ? 1 : 0, {{"role", "replica"}});
  sink.Gauge("pgrepl_server_version_num",
             "The server's server_version_num, e.g. 150004.",
             s.recovery->server_version_num);
}

}  // namespace pgrepl
