// Tests for exporter/collector/pg_stat_database_conflicts with rows shaped
// as each version's view returns them (PostgreSQL 12-15: five kinds; 16+:
// confl_active_logicalslot too).
#include "exporter/collector/pg_stat_database_conflicts.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "exporter/base/metric_sink.h"
#include "exporter/model/snapshot.h"
#include "tests/unit/testing/fake_session.h"
#include "tests/unit/testing/metric_matchers.h"
#include "tests/unit/testing/snapshots.h"

namespace pgrepl {
namespace {

using Cell = std::optional<std::string>;

Rows ConflictRows(const std::vector<std::vector<Cell>>& rows) {
  Rows r;
  r.columns = {"datname",
               "confl_tablespace",
               "confl_lock",
               "confl_snapshot",
               "confl_bufferpin",
               "confl_deadlock",
               "confl_active_logicalslot"};
  r.values = rows;
  return r;
}

TEST(DatabaseConflictsSql, ActiveLogicalSlotFrom16On) {
  // The column is read only where the view has it; before 16 it is a NULL
  // under the same name, so one parser serves every version.
  for (int v : {120000, 130000, 140000, 150000}) {
    EXPECT_FALSE(
        ReadsColumn(DatabaseConflictsSql(v), "confl_active_logicalslot"))
        << v;
  }
  for (int v : {160000, 170000}) {
    EXPECT_TRUE(
        ReadsColumn(DatabaseConflictsSql(v), "confl_active_logicalslot"))
        << v;
  }
}

TEST(ParseDatabaseConflicts, Version15Row) {
  std::vector<DatabaseConflicts> out;
  ASSERT_TRUE(
      ParseDatabaseConflicts(
          ConflictRows({{"payments", "0", "2", "7", "1", "0", std::nullopt},
                        {"postgres", "0", "0", "0", "0", "0", std::nullopt}}),
          &out)
          .ok());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].datname, "payments");
  EXPECT_EQ(out[0].counts[0], 0u);             // tablespace
  EXPECT_EQ(out[0].counts[1], 2u);             // lock
  EXPECT_EQ(out[0].counts[2], 7u);             // snapshot
  EXPECT_EQ(out[0].counts[3], 1u);             // bufferpin
  EXPECT_EQ(out[0].counts[4], 0u);             // deadlock
  EXPECT_FALSE(out[0].counts[5].has_value());  // no such column before 16
}

TEST(ParseDatabaseConflicts, Version16RowAndNoDatabaseName) {
  std::vector<DatabaseConflicts> out;
  ASSERT_TRUE(ParseDatabaseConflicts(
                  ConflictRows({{"app", "0", "0", "0", "0", "0", "4"},
                                {std::nullopt, "0", "0", "0", "0", "0", "0"}}),
                  &out)
                  .ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].counts[5], 4u);
}

TEST(PgStatDatabaseConflicts, UpdateRunsExactlyTheDeclaredStatement) {
  for (int version : {120000, 150000, 160000, 170000}) {
    FakeDatabase db(version);
    PgStatDatabaseConflictsCollector c;
    auto statements = c.Statements({version, true});
    ASSERT_EQ(statements.size(), 1u);
    db.Answer(statements[0],
              ConflictRows({{"app", "0", "0", "3", "0", "0", "0"}}));
    InstanceSnapshot s;
    ASSERT_TRUE(c.Update(db.rows(), PollContext{}, &s).ok()) << version;
    const auto* got = s.Reading<std::vector<DatabaseConflicts>>(c.name());
    ASSERT_NE(got, nullptr);
    ASSERT_EQ(got->size(), 1u);
    EXPECT_EQ((*got)[0].counts[2], 3u);
  }
}

InstanceSnapshot WithReading(InstanceSnapshot s,
                             std::vector<DatabaseConflicts> dbs) {
  s.collectors.push_back({"pg_stat_database_conflicts", true, 0});
  s.readings["pg_stat_database_conflicts"] = std::move(dbs);
  return s;
}

std::vector<prometheus::MetricFamily> Emit(const InstanceSnapshot& s) {
  MetricSink sink(LabelPairs{{"cluster", "c"}, {"instance", "r1"}});
  PgStatDatabaseConflictsCollector().Emit(s, sink);
  return sink.Take();
}

TEST(PgStatDatabaseConflicts, ReplicaCountersPerDatabaseAndKind) {
  DatabaseConflicts d;
  d.datname = "payments";
  d.counts = {0, 2, 7, 1, 0, std::nullopt};
  auto fams = Emit(WithReading(fixtures::Replica("r1", "r1", "r1"), {d}));
  EXPECT_EQ(Count(fams, "pgrepl_database_conflicts_total"), 5u);
  EXPECT_EQ(CounterValue(fams, "pgrepl_database_conflicts_total",
                         {{"datname", "payments"}, {"kind", "snapshot"}}),
            7);
  EXPECT_EQ(CounterValue(fams, "pgrepl_database_conflicts_total",
                         {{"datname", "payments"}, {"kind", "lock"}}),
            2);
  // Absent before 16, not 0.
  EXPECT_EQ(Count(fams, "pgrepl_database_conflicts_total",
                  {{"kind", "active_logicalslot"}}),
            0u);
}

TEST(PgStatDatabaseConflicts, NothingOnAPrimaryOrAfterAFailure) {
  DatabaseConflicts d;
  d.datname = "payments";
  d.counts = {0, 0, 0, 0, 0, 0};
  EXPECT_TRUE(Emit(WithReading(fixtures::Primary("p"), {d})).empty());
  InstanceSnapshot failed =
      WithReading(fixtures::Replica("r1", "r1", "r1"), {d});
  failed.collectors.back().ok = false;
  EXPECT_TRUE(Emit(failed).empty());
}

}  // namespace
}  // namespace pgrepl
