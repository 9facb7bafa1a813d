// Collector for pg_stat_database_conflicts: queries a replica cancelled
// because replay needed what they held, per database and kind.
#include "exporter/collector/pg_stat_database_conflicts.h"

#include "exporter/base/metric_sink.h"
#include "exporter/model/snapshot.h"
#include "exporter/pg/row_source.h"
#include "exporter/pg/values.h"

namespace pgrepl {

// Sample row (PostgreSQL 16+; before 16 confl_active_logicalslot is NULL):
//   datname  | confl_tablespace | confl_lock | confl_snapshot |
//   payments | 0                | 0          | 3              |
//   confl_bufferpin | confl_deadlock | confl_active_logicalslot
//   1               | 0              | 0
// One row per database of pg_database (a handful): each column is a
// lookup in the statistics snapshot, no scan.
std::string DatabaseConflictsSql(int server_version_num) {
  return std::string(
             "SELECT datname, confl_tablespace, confl_lock, confl_snapshot, "
             "confl_bufferpin, confl_deadlock, ") +
         (server_version_num >= 160000 ? "confl_active_logicalslot"
                                       : "NULL::bigint AS "
                                         "confl_active_logicalslot") +
         " FROM pg_stat_database_conflicts WHERE datname IS NOT NULL "
         "ORDER BY datname";
}

Status ParseDatabaseConflicts(const Rows& rows,
                              std::vector<DatabaseConflicts>* out) {
  out->clear();
  for (size_t i = 0; i < rows.values.size(); ++i) {
    DatabaseConflicts d;
    const auto& name = rows.Get(i, "datname");
    if (!name) continue;  // not a database
    d.datname = *name;
    for (size_t k = 0; k < kConflictKinds.size(); ++k) {
      auto v = ParseInt(rows.Get(i, std::string("confl_") + kConflictKinds[k]));
      if (v && *v >= 0) d.counts[k] = static_cast<uint64_t>(*v);
    }
    out->push_back(std::move(d));
  }
  return Status::Ok();
}

std::vector<std::string> PgStatDatabaseConflictsCollector::Statements(
    const StatementPlan& plan) const {
  return {DatabaseConflictsSql(plan.server_version_num)};
}

Status PgStatDatabaseConflictsCollector::Update(RowSource& db,
                                                const PollContext&,
                                                InstanceSnapshot* s) const {
  auto rows = db.Query(DatabaseConflictsSql(db.server_version()));
  if (!rows.ok()) return rows.status();
  std::vector<DatabaseConflicts> out;
  Status st = ParseDatabaseConflicts(rows.value(), &out);
  if (!st.ok()) return st;
  s->readings[name()] = std::move(out);
  return Status::Ok();
}

void PgStatDatabaseConflictsCollector::Emit(const InstanceSnapshot& s,
                                            MetricSink& sink) const {
  if (s.role() != Role::kReplica || !s.CollectorOk(name())) return;
  const auto* dbs = s.Reading<std::vector<DatabaseConflicts>>(name());
  if (dbs == nullptr) return;
  for (const auto& d : *dbs) {
    for (size_t k = 0; k < kConflictKinds.size(); ++k) {
      if (!d.counts[k]) continue;
      sink.Counter("pgrepl_database_conflicts_total",
                   "Queries on the replica cancelled because of a recovery "
                   "conflict, per database and kind "
                   "(pg_stat_database_conflicts.confl_<kind>).",
                   static_cast<double>(*d.counts[k]),
                   {{"datname", d.datname}, {"kind", kConflictKinds[k]}});
    }
  }
}

}  // namespace pgrepl
