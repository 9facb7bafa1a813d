// Tests for exporter/collector/sync_replication: the synchronous_standby_names
// parser, and the collector with canned rows.
#include "exporter/collector/sync_replication.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "exporter/base/metric_sink.h"
#include "exporter/model/snapshot.h"
#include "tests/unit/testing/canned_rows.h"
#include "tests/unit/testing/fake_session.h"
#include "tests/unit/testing/metric_matchers.h"

namespace pgrepl {
namespace {

using canned::SyncRows;
using Method = SyncStandbyConfig::Method;
using Names = std::vector<std::string>;

SyncStandbyConfig Parse(const std::string& text) {
  auto r = ParseSyncStandbyNames(text);
  EXPECT_TRUE(r.ok()) << text << ": " << r.status().message();
  return r.ok() ? r.value() : SyncStandbyConfig{};
}

TEST(ParseSyncStandbyNames, EmptyIsOff) {
  for (const char* text : {"", "   ", "\t\n"}) {
    auto c = Parse(text);
    EXPECT_EQ(c.method, Method::kOff) << text;
    EXPECT_EQ(c.num_sync, 0) << text;
    EXPECT_TRUE(c.names.empty()) << text;
  }
}

TEST(ParseSyncStandbyNames, PlainListIsFirstOne) {
  auto c = Parse("replica1, replica2 ,replica3");
  EXPECT_EQ(c.method, Method::kFirst);
  EXPECT_EQ(c.num_sync, 1);
  EXPECT_EQ(c.names, (Names{"replica1", "replica2", "replica3"}));
  EXPECT_EQ(Parse("replica1").names, Names{"replica1"});
}

TEST(ParseSyncStandbyNames, FirstAndAnyWithCount) {
  auto first = Parse("FIRST 2 (s1, s2, s3)");
  EXPECT_EQ(first.method, Method::kFirst);
  EXPECT_EQ(first.num_sync, 2);
  EXPECT_EQ(first.names, (Names{"s1", "s2", "s3"}));
  auto any = Parse("any 3(a,b,c,d)");
  EXPECT_EQ(any.method, Method::kAny);
  EXPECT_EQ(any.num_sync, 3);
  EXPECT_EQ(any.names, (Names{"a", "b", "c", "d"}));
  EXPECT_EQ(Parse("First 1 (x)").method, Method::kFirst);
  EXPECT_EQ(Parse("aNy 1 (x)").method, Method::kAny);
}

TEST(ParseSyncStandbyNames, CountWithoutKeywordIsFirst) {
  // The form before PostgreSQL 10.
  auto c = Parse("2 (s1, s2)");
  EXPECT_EQ(c.method, Method::kFirst);
  EXPECT_EQ(c.num_sync, 2);
  EXPECT_EQ(c.names, (Names{"s1", "s2"}));
}

TEST(ParseSyncStandbyNames, StarAndQuotedNames) {
  auto star = Parse("*");
  EXPECT_EQ(star.num_sync, 1);
  EXPECT_EQ(star.names, Names{"*"});
  EXPECT_EQ(Parse("ANY 2 (*)").names, Names{"*"});
  auto quoted = Parse(R"(FIRST 1 ("Replica One", "first", "a""b", "*"))");
  EXPECT_EQ(quoted.names, (Names{"Replica One", "first", "a\"b", "*"}));
  // Identifiers may hold digits, '$' and bytes above 0x7f; a bare number
  // is a name too.
  EXPECT_EQ(Parse("node_1$x, \xc3\xa9t\xc3\xa9, 42").names,
            (Names{"node_1$x", "\xc3\xa9t\xc3\xa9", "42"}));
}

TEST(ParseSyncStandbyNames, Errors) {
  for (const char* text :
       {"FIRST 0 (a)", "ANY 0 (a)", "0 (a)", "FIRST (a)", "ANY 2 a, b",
        "FIRST 2 (a, b", "a,", ",a", "a b", "(a)", "\"unterminated", "a; b",
        "FIRST 1 (a) b", "FIRST 1 ()", "first", "99999999999 (a)"}) {
    auto r = ParseSyncStandbyNames(text);
    EXPECT_FALSE(r.ok()) << text;
    if (!r.ok()) {
      EXPECT_EQ(r.status().message().rfind("synchronous_standby_names: ", 0),
                0u)
          << r.status().message();
    }
  }
}

TEST(SyncNameMatches, StarAndCaseInsensitive) {
  EXPECT_TRUE(SyncNameMatches("*", "replica1"));
  EXPECT_TRUE(SyncNameMatches("Replica1", "replica1"));
  EXPECT_FALSE(SyncNameMatches("replica1", "replica10"));
}

// A walsender row as pg_stat_replication's collector reads it.
StandbyRow Sender(const std::string& name, const std::string& state,
                  std::optional<int64_t> priority,
                  const std::string& sync_state) {
  StandbyRow r;
  r.application_name = name;
  r.state = state;
  r.sync_priority = priority;
  r.sync_state = sync_state;
  return r;
}

// Runs the collector on a primary (or replica) answering `rows`, with the
// walsenders pg_stat_replication read this poll (nullopt: not read).
std::vector<prometheus::MetricFamily> EmitFor(
    const Rows& rows, std::optional<std::vector<StandbyRow>> senders,
    bool primary = true) {
  InstanceSnapshot s;
  s.up = true;
  s.recovery = RecoveryInfo{};
  s.recovery->in_recovery = !primary;
  s.standbys = std::move(senders);
  FakeDatabase db;
  db.Answer(SyncReplicationSql(), rows);
  SyncReplicationCollector c;
  EXPECT_TRUE(c.Update(db.rows(), PollContext{}, &s).ok());
  MetricSink sink(LabelPairs{{"cluster", "c"}, {"instance", "primary"}});
  c.Emit(s, sink);
  return sink.Take();
}

TEST(SyncReplication, OffWithAsyncStandbys) {
  auto fams = EmitFor(SyncRows("", "0"),
                      {{Sender("replica1", "streaming", 0, "async")}});
  EXPECT_EQ(Value(fams, "pgrepl_sync_standbys_required"), 0.0);
  EXPECT_EQ(Value(fams, "pgrepl_sync_standbys_connected"), 0.0);
  EXPECT_EQ(Value(fams, "pgrepl_sync_commits_waiting"), 0.0);
  EXPECT_EQ(Value(fams, "pgrepl_sync_replication_info",
                  {{"method", "off"}, {"standby_names", ""}}),
            1.0);
  EXPECT_EQ(Value(fams, "pgrepl_standby_sync_priority",
                  {{"standby", "replica1"}, {"sync_state", "async"}}),
            0.0);
}

TEST(SyncReplication, StoppedSyncStandbyLeavesCommitsWaiting) {
  // FIRST 1 (replica1): replica1 is gone, replica2 is async.
  auto fams = EmitFor(SyncRows("replica1", "3"),
                      {{Sender("replica2", "streaming", 0, "async")}});
  EXPECT_EQ(Value(fams, "pgrepl_sync_standbys_required"), 1.0);
  EXPECT_EQ(Value(fams, "pgrepl_sync_standbys_connected"), 0.0);
  EXPECT_EQ(Value(fams, "pgrepl_sync_commits_waiting"), 3.0);
  EXPECT_EQ(Value(fams, "pgrepl_sync_replication_info",
                  {{"method", "first"}, {"standby_names", "replica1"}}),
            1.0);
}

TEST(SyncReplication, CountsStreamingStandbysWithPriority) {
  auto fams = EmitFor(SyncRows("ANY 2 (replica1, replica2, replica3)", "0"),
                      {{Sender("replica1", "streaming", 1, "quorum"),
                        Sender("replica2", "streaming", 1, "quorum"),
                        Sender("replica3", "catchup", 1, "potential"),
                        Sender("reporting", "streaming", 0, "async")}});
  EXPECT_EQ(Value(fams, "pgrepl_sync_standbys_required"), 2.0);
  EXPECT_EQ(Value(fams, "pgrepl_sync_standbys_connected"), 2.0);
  EXPECT_EQ(Value(fams, "pgrepl_standby_sync_priority",
                  {{"standby", "replica3"}, {"sync_state", "potential"}}),
            1.0);
  EXPECT_EQ(Count(fams, "pgrepl_standby_sync_priority"), 4u);
}

TEST(SyncReplication, OneSeriesPerStandbyNameTheStreamingOneWins) {
  auto fams = EmitFor(SyncRows("FIRST 1 (x, replica1)", "0"),
                      {{Sender("replica1", "backup", 0, "async"),
                        Sender("replica1", "streaming", 2, "potential")}});
  ASSERT_EQ(Count(fams, "pgrepl_standby_sync_priority"), 1u);
  EXPECT_EQ(Value(fams, "pgrepl_standby_sync_priority",
                  {{"standby", "replica1"}, {"sync_state", "potential"}}),
            2.0);
}

TEST(SyncReplication, NothingOnAReplica) {
  EXPECT_TRUE(EmitFor(SyncRows("replica1", "0"), {{}}, false).empty());
}

TEST(SyncReplication, NoWalsenderIsNoStandby) {
  auto fams = EmitFor(SyncRows("*", "0"), {{}});
  EXPECT_EQ(Value(fams, "pgrepl_sync_standbys_required"), 1.0);
  EXPECT_EQ(Value(fams, "pgrepl_sync_standbys_connected"), 0.0);
  EXPECT_EQ(Count(fams, "pgrepl_standby_sync_priority"), 0u);
}

TEST(SyncReplication, UnreadWalsendersLeaveConnectedUnknown) {
  // pg_stat_replication failed this poll: required and waiting are known,
  // connected is not (no sample, never a 0 that would page).
  auto fams = EmitFor(SyncRows("replica1", "0"), std::nullopt);
  EXPECT_EQ(Value(fams, "pgrepl_sync_standbys_required"), 1.0);
  EXPECT_EQ(Count(fams, "pgrepl_sync_standbys_connected"), 0u);
  EXPECT_EQ(Count(fams, "pgrepl_standby_sync_priority"), 0u);
}

TEST(SyncReplication, ErrorsLeaveNoReading) {
  InstanceSnapshot s;
  FakeDatabase db;
  SyncReplicationCollector c;
  db.TimeOut(SyncReplicationSql());
  EXPECT_EQ(c.Update(db.rows(), PollContext{}, &s).kind(),
            Status::Kind::kTimeout);
  db.Answer(SyncReplicationSql(), SyncRows("FIRST 0 (a)", "0"));
  EXPECT_FALSE(c.Update(db.rows(), PollContext{}, &s).ok());
  EXPECT_EQ(s.Reading<SyncReplicationReading>(c.name()), nullptr);
}

TEST(SyncReplication, DeclaresTheOneStatementItRuns) {
  FakeDatabase db(120000);
  db.Answer(SyncReplicationSql(), SyncRows("", "0"));
  InstanceSnapshot s;
  SyncReplicationCollector c;
  ASSERT_TRUE(c.Update(db.rows(), PollContext{}, &s).ok());
  EXPECT_EQ(db.asked(), c.Statements(StatementPlan{120000, true}));
}

}  // namespace
}  // namespace pgrepl
