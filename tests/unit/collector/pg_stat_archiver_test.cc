// Tests for exporter/collector/pg_stat_archiver with canned rows.
#include "exporter/collector/pg_stat_archiver.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "exporter/base/metric_sink.h"
#include "exporter/model/snapshot.h"
#include "tests/unit/testing/canned_rows.h"
#include "tests/unit/testing/fake_session.h"
#include "tests/unit/testing/metric_matchers.h"

namespace pgrepl {
namespace {

using canned::ArchiverCells;
using canned::ArchiverRows;

// pg_stat_archiver's columns, the same in PostgreSQL 12 to 17.
const std::vector<std::string> kArchiverColumns = {
    "archived_count", "last_archived_wal", "last_archived_time",
    "failed_count",   "last_failed_wal",   "last_failed_time",
    "stats_reset"};

// A primary whose archive_command fails: the sample row above ArchiverSql.
ArchiverCells Failing() {
  ArchiverCells c;
  c.archive_mode = "on";
  c.archived_count = "41";
  c.last_archived_wal = "000000010000000000000029";
  c.last_archived_time = "1795766400.5";
  c.last_archived_age = "12.25";
  c.failed_count = "3";
  c.last_failed_wal = "00000001000000000000002A";
  c.last_failed_time = "1795766410.5";
  c.ready_segments = "2";
  return c;
}

std::vector<prometheus::MetricFamily> EmitFor(const ArchiverCells& cells,
                                              bool primary = true,
                                              bool up = true) {
  InstanceSnapshot s;
  s.up = up;
  s.recovery = RecoveryInfo{};
  s.recovery->in_recovery = !primary;
  FakeDatabase db;
  canned::AnswerArchiver(&db, cells);
  PgStatArchiverCollector c;
  // After a reading that said the role may list archive_status.
  InstanceSnapshot last;
  ArchiverReading listed;
  listed.can_list = true;
  last.readings[c.name()] = listed;
  PollContext ctx;
  ctx.plan.last = &last;
  EXPECT_TRUE(c.Update(db.rows(), ctx, &s).ok());
  MetricSink sink(LabelPairs{{"cluster", "c"}, {"instance", "primary"}});
  c.Emit(s, sink);
  return sink.Take();
}

TEST(ArchiverSql, ReadsOnlyDocumentedColumns) {
  const std::string sql = ArchiverSql(true);
  for (const char* used :
       {"archived_count", "last_archived_wal", "last_archived_time",
        "failed_count", "last_failed_wal", "last_failed_time"}) {
    EXPECT_TRUE(ReadsColumn(sql, used)) << used;
    EXPECT_NE(std::find(kArchiverColumns.begin(), kArchiverColumns.end(), used),
              kArchiverColumns.end());
  }
}

TEST(ParseArchiver, SampleRow) {
  auto r = ParseArchiver(ArchiverRows(Failing()));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value().archive_mode, "on");
  EXPECT_EQ(r.value().archived_count, 41);
  EXPECT_EQ(r.value().failed_count, 3);
  EXPECT_EQ(r.value().last_failed_wal, "00000001000000000000002A");
  EXPECT_EQ(r.value().last_archived_age, 12.25);
  EXPECT_EQ(r.value().ready_segments, 2);
}

TEST(ParseArchiver, ErrorsOnShape) {
  Rows none = ArchiverRows(ArchiverCells{});
  none.values.clear();
  EXPECT_FALSE(ParseArchiver(none).ok());
  ArchiverCells null_mode;
  null_mode.archive_mode = std::nullopt;
  EXPECT_FALSE(ParseArchiver(ArchiverRows(null_mode)).ok());
}

TEST(ArchiverActive, ByModeAndRole) {
  EXPECT_TRUE(ArchiverActive("on", true));
  EXPECT_FALSE(ArchiverActive("on", false));
  EXPECT_TRUE(ArchiverActive("always", false));
  EXPECT_TRUE(ArchiverActive("always", true));
  EXPECT_FALSE(ArchiverActive("off", true));
}

TEST(PgStatArchiver, FailingArchiveCommand) {
  auto fams = EmitFor(Failing());
  EXPECT_EQ(Value(fams, "pgrepl_archiver_active", {{"archive_mode", "on"}}),
            1.0);
  EXPECT_EQ(CounterValue(fams, "pgrepl_archiver_archived_total"), 41.0);
  EXPECT_EQ(CounterValue(fams, "pgrepl_archiver_failed_total"), 3.0);
  EXPECT_EQ(Value(fams, "pgrepl_archiver_last_archived_timestamp_seconds"),
            1795766400.5);
  EXPECT_EQ(Value(fams, "pgrepl_archiver_last_failed_timestamp_seconds"),
            1795766410.5);
  EXPECT_EQ(Value(fams, "pgrepl_archiver_last_archived_age_seconds"), 12.25);
  EXPECT_EQ(Value(fams, "pgrepl_archiver_pending_segments"), 2.0);
  EXPECT_EQ(
      Value(fams, "pgrepl_archiver_last_wal_info",
            {{"result", "archived"}, {"wal", "000000010000000000000029"}}),
      1.0);
  EXPECT_EQ(Value(fams, "pgrepl_archiver_last_wal_info",
                  {{"result", "failed"}, {"wal", "00000001000000000000002A"}}),
            1.0);
}

TEST(PgStatArchiver, NeverArchivedHasNoTimesNotZero) {
  auto fams = EmitFor(ArchiverCells{});
  EXPECT_EQ(Value(fams, "pgrepl_archiver_active", {{"archive_mode", "off"}}),
            0.0);
  EXPECT_EQ(CounterValue(fams, "pgrepl_archiver_failed_total"), 0.0);
  EXPECT_EQ(Count(fams, "pgrepl_archiver_last_archived_timestamp_seconds"), 0u);
  EXPECT_EQ(Count(fams, "pgrepl_archiver_last_archived_age_seconds"), 0u);
  EXPECT_EQ(Count(fams, "pgrepl_archiver_last_failed_timestamp_seconds"), 0u);
  EXPECT_EQ(Count(fams, "pgrepl_archiver_last_wal_info"), 0u);
}

TEST(PgStatArchiver, StandbyWithModeOnDoesNotArchive) {
  ArchiverCells on;
  on.archive_mode = "on";
  EXPECT_EQ(Value(EmitFor(on, false), "pgrepl_archiver_active"), 0.0);
  ArchiverCells always;
  always.archive_mode = "always";
  EXPECT_EQ(Value(EmitFor(always, false), "pgrepl_archiver_active"), 1.0);
}

TEST(PgStatArchiver, NegativeAgeFromRoundingIsZero) {
  ArchiverCells c = Failing();
  c.last_archived_age = "-0.000001";
  EXPECT_EQ(Value(EmitFor(c), "pgrepl_archiver_last_archived_age_seconds"),
            0.0);
}

TEST(PgStatArchiver, NothingWhenDownOrFailed) {
  EXPECT_TRUE(EmitFor(Failing(), true, false).empty());
  InstanceSnapshot s;
  FakeDatabase db;
  PgStatArchiverCollector c;
  db.Answer(ArchiverSql(false), Status::Query("canceled"));
  EXPECT_FALSE(c.Update(db.rows(), PollContext{}, &s).ok());
  s.up = true;
  MetricSink sink;
  c.Emit(s, sink);
  EXPECT_TRUE(sink.Take().empty());
}

TEST(PgStatArchiver, ListsArchiveStatusOnlyOnceTheRoleIsKnownToMay) {
  FakeDatabase db;
  ArchiverCells cells = Failing();
  canned::AnswerArchiver(&db, cells);
  PgStatArchiverCollector c;
  // The first reading: no listing, so no pending count, and whether the
  // role may list.
  InstanceSnapshot first;
  first.up = true;
  first.recovery = RecoveryInfo{};
  ASSERT_TRUE(c.Update(db.rows(), PollContext{}, &first).ok());
  EXPECT_EQ(db.queries(ArchiverSql(false)), 1);
  const auto* r = first.Reading<ArchiverReading>(c.name());
  ASSERT_NE(r, nullptr);
  EXPECT_TRUE(r->can_list);
  EXPECT_FALSE(r->ready_segments.has_value()) << "unknown, not 0";
  // The next one lists.
  PollContext ctx;
  ctx.plan.last = &first;
  EXPECT_EQ(c.Statements(ctx.plan),
            std::vector<std::string>{ArchiverSql(true)});
  InstanceSnapshot second;
  ASSERT_TRUE(c.Update(db.rows(), ctx, &second).ok());
  EXPECT_EQ(second.Reading<ArchiverReading>(c.name())->ready_segments, 2);
  // A role without pg_monitor never asks: the statement cannot fail on it.
  cells.can_list = "f";
  canned::AnswerArchiver(&db, cells);
  InstanceSnapshot third;
  ASSERT_TRUE(c.Update(db.rows(), PollContext{}, &third).ok());
  ctx.plan.last = &third;
  EXPECT_EQ(c.Statements(ctx.plan),
            std::vector<std::string>{ArchiverSql(false)});
}

TEST(PgStatArchiver, DeclaresTheOneStatementItRuns) {
  FakeDatabase db(170000);
  canned::AnswerArchiver(&db, ArchiverCells{});
  InstanceSnapshot s;
  PgStatArchiverCollector c;
  ASSERT_TRUE(c.Update(db.rows(), PollContext{}, &s).ok());
  EXPECT_EQ(db.asked(), c.Statements(StatementPlan{170000, true}));
}

}  // namespace
}  // namespace pgrepl
