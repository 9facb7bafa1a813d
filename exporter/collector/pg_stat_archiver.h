// Collector for pg_stat_archiver: WAL archiving's successes, failures, the
// age of the last archived segment and the segments still waiting.
#ifndef PGREPL_EXPORTER_COLLECTOR_PG_STAT_ARCHIVER_H_
#define PGREPL_EXPORTER_COLLECTOR_PG_STAT_ARCHIVER_H_

#include <cstdint>
#include <optional>
#include <string>

#include "exporter/base/status.h"
#include "exporter/collector/collector.h"
#include "exporter/pg/rows.h"

namespace pgrepl {

// What this collector stores in InstanceSnapshot::readings. Every
// optional is absent when PostgreSQL reports NULL (nothing archived or
// failed yet since the statistics were reset).
struct ArchiverReading {
  std::string archive_mode;  // off, on, always
  std::optional<int64_t> archived_count, failed_count;
  std::optional<std::string> last_archived_wal, last_failed_wal;
  std::optional<double> last_archived_time, last_failed_time;  // Unix s
  std::optional<double> last_archived_age;  // s, the server's clock
  std::optional<int64_t> ready_segments;    // archive_status/*.ready
  bool can_list = false;                    // the role may list archive_status
};

// With `list_status`, ready_segments counts archive_status/*.ready; else
// it is NULL (the role may not list the directory, or it is not known yet).
std::string ArchiverSql(bool list_status);
// Whether this poll lists archive_status: the latest reading said it may.
bool ListsArchiveStatus(const StatementPlan& plan);
Result<ArchiverReading> ParseArchiver(const Rows& rows);

// Whether this instance runs an archiver: archive_mode always, or on
// while it is a primary (a standby with "on" archives nothing).
bool ArchiverActive(const std::string& archive_mode, bool primary);

class PgStatArchiverCollector : public Collector {
 public:
  const char* name() const override { return "pg_stat_archiver"; }
  // On full polls (counters and times behind 10-minute alerts), and on
  // the poll after one that learned it may list archive_status but did
  // not (a session's first); the polls between keep the last reading.
  bool Due(const StatementPlan& plan) const override;
  std::vector<std::string> Statements(const StatementPlan& plan) const override;
  Status Update(RowSource& db, const PollContext& ctx,
                InstanceSnapshot* s) const override;
  void Emit(const InstanceSnapshot& s, MetricSink& sink) const override;
};

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_COLLECTOR_PG_STAT_ARCHIVER_H_
