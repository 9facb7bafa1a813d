// Collector for pg_stat_archiver: WAL archiving's successes, failures, the
// age of the last archived segment and the segments still waiting.
#include "exporter/collector/pg_stat_archiver.h"

#include "exporter/base/metric_sink.h"
#include "exporter/model/snapshot.h"
#include "exporter/pg/row_source.h"
#include "exporter/pg/values.h"

namespace pgrepl {

// The view has the same columns in PostgreSQL 12 to 17. Sample row:
//   archive_mode | archived_count | last_archived_wal        |
//   on           | 41             | 000000010000000000000029 |
//   last_archived_time | last_archived_age | failed_count |
//   1795766400.5       | 12.25             | 3            |
//   last_failed_wal          | last_failed_time | ready_segments
//   00000001000000000000002A | 1795766410.5     | 2
//   can_list
//   t
// ready_segments lists archive_status (pg_monitor may, since PostgreSQL
// 12): the segments the archiver has still to copy. With archive_mode off
// PostgreSQL marks no segment .ready, so the directory is not read: 0.
// The function's EXECUTE privilege is checked when the statement starts,
// even where CASE would not call it, so a role without it would fail the
// whole statement: the listing is asked for only once the latest reading
// said the role may (can_list); until then ready_segments is NULL.
std::string ArchiverSql(bool list_status) {
  const char* ready =
      list_status
          ? "CASE WHEN current_setting('archive_mode') = 'off' THEN 0 ELSE "
            "(SELECT count(*) FROM pg_ls_archive_statusdir() "
            "WHERE name LIKE '%.ready') END AS ready_segments, "
          : "NULL::bigint AS ready_segments, ";
  return std::string(
             "SELECT current_setting('archive_mode') AS archive_mode, "
             "archived_count, last_archived_wal, "
             "extract(epoch FROM last_archived_time) AS last_archived_time, "
             "extract(epoch FROM clock_timestamp() - last_archived_time) "
             "AS last_archived_age, failed_count, last_failed_wal, "
             "extract(epoch FROM last_failed_time) AS last_failed_time, ") +
         ready +
         "has_function_privilege('pg_ls_archive_statusdir()', 'EXECUTE') "
         "AS can_list FROM pg_stat_archiver";
}

bool ListsArchiveStatus(const StatementPlan& plan) {
  if (plan.last == nullptr) return false;
  const auto* r = plan.last->Reading<ArchiverReading>("pg_stat_archiver");
  return r != nullptr && r->can_list;
}

Result<ArchiverReading> ParseArchiver(const Rows& rows) {
  if (rows.values.size() != 1) {
    return Status::Query("pg_stat_archiver: expected one row");
  }
  ArchiverReading r;
  const auto& mode = rows.Get(0, "archive_mode");
  if (!mode) return Status::Query("pg_stat_archiver: archive_mode is NULL");
  r.archive_mode = *mode;
  r.archived_count = ParseInt(rows.Get(0, "archived_count"));
  r.failed_count = ParseInt(rows.Get(0, "failed_count"));
  r.last_archived_wal = rows.Get(0, "last_archived_wal");
  r.last_failed_wal = rows.Get(0, "last_failed_wal");
  r.last_archived_time = ParseDouble(rows.Get(0, "last_archived_time"));
  r.last_failed_time = ParseDouble(rows.Get(0, "last_failed_time"));
  r.last_archived_age = ParseDouble(rows.Get(0, "last_archived_age"));
  if (r.last_archived_age && *r.last_archived_age < 0) {
    r.last_archived_age = 0;  // the same clock; only rounding goes below 0
  }
  r.ready_segments = ParseInt(rows.Get(0, "ready_segments"));
  r.can_list = ParseBool(rows.Get(0, "can_list")).value_or(false);
  return r;
}

bool ArchiverActive(const std::string& archive_mode, bool primary) {
  return archive_mode == "always" || (archive_mode == "on" && primary);
}

bool PgStatArchiverCollector::Due(const StatementPlan& plan) const {
  if (plan.full) return true;
  const auto* r = plan.last->Reading<ArchiverReading>(name());
  return r != nullptr && r->can_list && !r->ready_segments;
}

std::vector<std::string> PgStatArchiverCollector::Statements(
    const StatementPlan& plan) const {
  return {ArchiverSql(ListsArchiveStatus(plan))};
}

Status PgStatArchiverCollector::Update(RowSource& db, const PollContext& ctx,
                                       InstanceSnapshot* s) const {
  auto rows = db.Query(ArchiverSql(ListsArchiveStatus(ctx.plan)));
  if (!rows.ok()) return rows.status();
  auto reading = ParseArchiver(rows.value());
  if (!reading.ok()) return reading.status();
  s->readings[name()] = std::move(reading.value());
  return Status::Ok();
}

void PgStatArchiverCollector::Emit(const InstanceSnapshot& s,
                                   MetricSink& sink) const {
  if (!s.up) return;
  const auto* r = s.Reading<ArchiverReading>(name());
  if (r == nullptr) return;
  sink.Gauge(
      "pgrepl_archiver_active",
      "1 when this instance archives WAL: archive_mode always, or on "
      "while it is a primary; 0 otherwise.",
      ArchiverActive(r->archive_mode, s.role() == Role::kPrimary) ? 1 : 0,
      {{"archive_mode", r->archive_mode}});
  if (r->archived_count) {
    sink.Counter("pgrepl_archiver_archived_total",
                 "WAL files archived successfully since the statistics were "
                 "reset (pg_stat_archiver.archived_count).",
                 static_cast<double>(*r->archived_count));
  }
  if (r->failed_count) {
    sink.Counter("pgrepl_archiver_failed_total",
                 "Failed archive_command (or archive_library) attempts since "
                 "the statistics were reset (pg_stat_archiver.failed_count).",
                 static_cast<double>(*r->failed_count));
  }
  if (r->last_archived_time) {
    sink.Gauge("pgrepl_archiver_last_archived_timestamp_seconds",
               "When the last WAL file was archived, Unix time.",
               *r->last_archived_time);
  }
  if (r->last_archived_age) {
    sink.Gauge("pgrepl_archiver_last_archived_age_seconds",
               "Seconds since the last WAL file was archived (the server's "
               "clock at both ends); absent when none was.",
               *r->last_archived_age);
  }
  if (r->last_failed_time) {
    sink.Gauge("pgrepl_archiver_last_failed_timestamp_seconds",
               "When archiving last failed, Unix time.", *r->last_failed_time);
  }
  if (r->ready_segments) {
    sink.Gauge("pgrepl_archiver_pending_segments",
               "WAL segments waiting to be archived (.ready files in "
               "pg_wal/archive_status); they cannot be removed until then.",
               static_cast<double>(*r->ready_segments));
  }
  const char* kWalHelp =
      "The WAL file last archived (result=archived) and the one whose "
      "archiving last failed (result=failed); value is 1.";
  if (r->last_archived_wal) {
    sink.Gauge("pgrepl_archiver_last_wal_info", kWalHelp, 1,
               {{"result", "archived"}, {"wal", *r->last_archived_wal}});
  }
  if (r->last_failed_wal) {
    sink.Gauge("pgrepl_archiver_last_wal_info", kWalHelp, 1,
               {{"result", "failed"}, {"wal", *r->last_failed_wal}});
  }
}

}  // namespace pgrepl
