// Collector for synchronous replication: synchronous_standby_names, each
// walsender's sync_priority / sync_state, and commits waiting on SyncRep.
#ifndef PGREPL_EXPORTER_COLLECTOR_SYNC_REPLICATION_H_
#define PGREPL_EXPORTER_COLLECTOR_SYNC_REPLICATION_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "exporter/base/status.h"
#include "exporter/collector/collector.h"
#include "exporter/model/view_rows.h"
#include "exporter/pg/rows.h"

namespace pgrepl {

// synchronous_standby_names, parsed as PostgreSQL's syncrep grammar does.
struct SyncStandbyConfig {
  enum class Method { kOff, kFirst, kAny };
  Method method = Method::kOff;
  int num_sync = 0;  // synchronous standbys a commit waits for; 0 when off
  std::vector<std::string> names;  // as written, quotes removed; "*" = any
};

// "off", "first" or "any".
const char* SyncMethodName(SyncStandbyConfig::Method method);

// Parses the setting: "" (off), a plain list "a, b" (FIRST 1), "n (list)"
// (FIRST n, the pre-10 form), "FIRST n (list)" and "ANY n (list)".
// Keywords are case-insensitive; names are identifiers, numbers, "*" or
// double-quoted strings ("" is an escaped quote). Anything else, and
// n < 1, is an error naming what is wrong.
Result<SyncStandbyConfig> ParseSyncStandbyNames(const std::string& text);

// True when `application_name` matches `name` of the list the way
// PostgreSQL matches them: "*" matches all, otherwise case-insensitively.
bool SyncNameMatches(const std::string& name,
                     const std::string& application_name);

// What this collector stores in InstanceSnapshot::readings. The
// walsenders (state, sync_priority, sync_state) are pg_stat_replication's,
// read by that collector in the same poll.
struct SyncReplicationReading {
  SyncStandbyConfig config;
  std::string standby_names;  // the setting as the server reports it
  int64_t commits_waiting = 0;
};

// The setting, and the backends waiting on SyncRep, counted only while
// the setting is non-empty: with it empty no commit waits, and the scan
// of every backend is skipped.
std::string SyncReplicationSql();
Result<SyncReplicationReading> ParseSyncReplication(const Rows& rows);

// Walsenders that can confirm a synchronous commit now: streaming, with a
// sync_priority above 0 (named in the list).
int64_t ConnectedSyncStandbys(const std::vector<StandbyRow>& standbys);

class SyncReplicationCollector : public Collector {
 public:
  const char* name() const override { return "sync_replication"; }
  // Every poll on a primary whose synchronous_standby_names was set at
  // the latest reading (waiting commits are a page); else on full polls,
  // which see the setting change within kFullPollEvery polls.
  bool Due(const StatementPlan& plan) const override;
  std::vector<std::string> Statements(const StatementPlan&) const override;
  // Reads on both roles (one statement, valid on each); synchronous
  // replication is the primary's, so Emit renders on a primary only. It
  // runs after pg_stat_replication, whose walsender rows it counts.
  Status Update(RowSource& db, const PollContext& ctx,
                InstanceSnapshot* s) const override;
  void Emit(const InstanceSnapshot& s, MetricSink& sink) const override;
};

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_COLLECTOR_SYNC_REPLICATION_H_
