// Tests for exporter/collector/pg_stat_replication with canned rows.
#include "exporter/collector/pg_stat_replication.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "exporter/base/metric_sink.h"
#include "exporter/collector/pg_replication_slots.h"
#include "exporter/model/snapshot.h"
#include "tests/unit/testing/canned_rows.h"
#include "tests/unit/testing/fake_session.h"
#include "tests/unit/testing/metric_matchers.h"

namespace pgrepl {
namespace {

using Cell = std::optional<std::string>;

using Row = canned::StandbyCells;

// A row with no position and no reply yet, for the builders below to fill
// (canned::StandbyCells defaults to a caught-up standby).
Row Blank() {
  Row r;
  r.current_lsn = r.sent_lsn = r.write_lsn = r.flush_lsn = r.replay_lsn =
      std::nullopt;
  r.reply_age = std::nullopt;
  r.backend_xmin_age = std::nullopt;
  return r;
}

Rows MakeRows(const std::vector<Row>& rows) {
  return canned::StandbyRows(rows);
}

// A caught-up standby on an idle primary: every lag is NULL.
Row IdleCaughtUp() {
  Row r = Blank();
  r.current_lsn = r.sent_lsn = r.write_lsn = r.flush_lsn = r.replay_lsn =
      "0/3000148";
  r.reply_age = "0.412";
  return r;
}

// A standby behind the primary whose lags are NULL all the same (they are
// NULL for a while after a standby connects, before its first reply).
Row BehindNullLags() {
  Row r = Blank();
  r.application_name = "replica2";
  r.client_addr = "10.0.0.2";
  r.current_lsn = "0/3000000";
  r.sent_lsn = "0/2FFF000";    // 4096 behind
  r.write_lsn = "0/2FF0000";   // 65536 behind
  r.flush_lsn = "0/2F00000";   // 1 MiB behind
  r.replay_lsn = "0/2000000";  // 16 MiB behind
  return r;
}

// A standby still in state startup: no positions known yet.
Row Startup() {
  Row r = Blank();
  r.application_name = "replica3";
  r.client_addr = "";
  r.state = "startup";
  r.current_lsn = "0/3000000";
  return r;
}

// The value of the single sample of `name` whose labels include `want`;
// nullopt when there is none (or, to catch ambiguity, more than one).
// The metrics of a poll that read `rows` and then the slots `slots` (the
// slots collector names each walsender's slot).
std::vector<prometheus::MetricFamily> EmitFor(
    const std::vector<Row>& rows, bool up = true,
    const std::vector<canned::SlotCells>& slots = {}) {
  InstanceSnapshot s;
  s.up = up;
  FakeDatabase db;
  canned::AnswerStandbys(&db, rows);
  db.Answer(ReplicationSlotsSql(db.server_version()), canned::SlotRows(slots));
  EXPECT_TRUE(
      PgStatReplicationCollector().Update(db.rows(), PollContext{}, &s).ok());
  EXPECT_TRUE(
      PgReplicationSlotsCollector().Update(db.rows(), PollContext{}, &s).ok());
  MetricSink sink(LabelPairs{{"cluster", "c"}, {"instance", "primary"}});
  PgStatReplicationCollector().Emit(s, sink);
  return sink.Take();
}

TEST(ParseStatReplication, SeveralRowsWithNulls) {
  Row behind = BehindNullLags();
  behind.write_lag = "0.001";
  behind.flush_lag = "0.0025";
  behind.replay_lag = "1.75";
  behind.reply_age = std::nullopt;
  const std::vector<Row> rows = {IdleCaughtUp(), behind, Startup()};
  std::vector<StandbyRow> out;
  ASSERT_TRUE(ParseStatReplication(MakeRows(rows), &out).ok());
  std::map<int64_t, StandbyRow> details;
  ASSERT_TRUE(
      ParseStandbyDetails(canned::StandbyDetailRows(rows), &details).ok());
  MergeStandbyDetails(details, &out);
  ASSERT_EQ(out.size(), 3u);

  const StandbyRow& a = out[0];
  EXPECT_EQ(a.application_name, "replica1");
  EXPECT_EQ(a.client_addr, "127.0.0.1");
  EXPECT_EQ(a.state, "streaming");
  EXPECT_EQ(a.sync_state, "async");
  EXPECT_EQ(a.slot, "");  // named by pg_replication_slots, not this view
  EXPECT_EQ(a.current_lsn, 0x3000148u);
  EXPECT_EQ(a.sent_lsn, 0x3000148u);
  EXPECT_EQ(a.write_lsn, 0x3000148u);
  EXPECT_EQ(a.flush_lsn, 0x3000148u);
  EXPECT_EQ(a.replay_lsn, 0x3000148u);
  EXPECT_FALSE(a.write_lag.has_value());
  EXPECT_FALSE(a.flush_lag.has_value());
  EXPECT_FALSE(a.replay_lag.has_value());
  EXPECT_EQ(a.reply_age, 0.412);

  const StandbyRow& b = out[1];
  EXPECT_EQ(b.application_name, "replica2");
  EXPECT_EQ(b.slot, "");
  EXPECT_EQ(b.current_lsn, 0x3000000u);
  EXPECT_EQ(b.replay_lsn, 0x2000000u);
  EXPECT_EQ(b.write_lag, 0.001);
  EXPECT_EQ(b.flush_lag, 0.0025);
  EXPECT_EQ(b.replay_lag, 1.75);
  EXPECT_FALSE(b.reply_age.has_value());

  const StandbyRow& c = out[2];
  EXPECT_EQ(c.state, "startup");
  EXPECT_EQ(c.client_addr, "");
  EXPECT_EQ(c.current_lsn, 0x3000000u);
  EXPECT_FALSE(c.sent_lsn.has_value());
  EXPECT_FALSE(c.write_lsn.has_value());
  EXPECT_FALSE(c.flush_lsn.has_value());
  EXPECT_FALSE(c.replay_lsn.has_value());
  EXPECT_FALSE(c.reply_age.has_value());
}

// The statement has no ORDER BY (a sort node the server would set up on
// every poll): the parser sorts by pid, so that standbys sharing an
// application_name keep one order from poll to poll.
TEST(ParseStatReplication, RowsComeOutSortedByPid) {
  std::vector<Row> rows = {IdleCaughtUp(), IdleCaughtUp(), BehindNullLags()};
  rows[0].pid = "5000";
  rows[1].pid = "4000";
  rows[2].pid = "4500";
  std::vector<StandbyRow> out;
  ASSERT_TRUE(ParseStatReplication(MakeRows(rows), &out).ok());
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].pid, 4000);
  EXPECT_EQ(out[1].pid, 4500);
  EXPECT_EQ(out[1].replay_lsn, 0x2000000u);  // the row moved whole
  EXPECT_EQ(out[2].pid, 5000);

  std::map<int64_t, StandbyRow> details;
  ASSERT_TRUE(
      ParseStandbyDetails(canned::StandbyDetailRows(rows), &details).ok());
  MergeStandbyDetails(details, &out);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].application_name, "replica1");
  EXPECT_EQ(out[0].pid, 4000);
  EXPECT_EQ(out[1].application_name, "replica1");
  EXPECT_EQ(out[1].pid, 5000);
  EXPECT_EQ(out[2].application_name, "replica2");
}

TEST(ParseStatReplication, SyncPriority) {
  Row sync = IdleCaughtUp();
  sync.sync_priority = "1";
  sync.sync_state = "sync";
  Row unknown = IdleCaughtUp();
  unknown.application_name = "replica2";
  unknown.sync_priority = std::nullopt;
  std::vector<StandbyRow> out;
  ASSERT_TRUE(ParseStatReplication(MakeRows({sync, unknown}), &out).ok());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].sync_priority, 1);
  EXPECT_EQ(out[0].sync_state, "sync");
  EXPECT_FALSE(out[1].sync_priority.has_value());
}

TEST(ParseStatReplication, GarbageCellsBecomeUnknownNotZero) {
  Row r = IdleCaughtUp();
  r.replay_lsn = "not-an-lsn";
  r.write_lag = "nan";
  r.reply_age = "";
  std::vector<StandbyRow> out;
  ASSERT_TRUE(ParseStatReplication(MakeRows({r}), &out).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].replay_lsn.has_value());
  EXPECT_FALSE(out[0].write_lag.has_value());
  EXPECT_FALSE(out[0].reply_age.has_value());
}

TEST(ParseStatReplication, NullTextColumnsBecomeEmpty) {
  Row r = IdleCaughtUp();
  r.application_name = std::nullopt;
  r.client_addr = std::nullopt;
  std::vector<StandbyRow> out;
  ASSERT_TRUE(ParseStatReplication(MakeRows({r}), &out).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].application_name, "");
  EXPECT_EQ(out[0].client_addr, "");
  EXPECT_EQ(out[0].slot, "");
}

TEST(ParseStatReplication, NullStateIsInsufficientPrivilege) {
  // Without pg_read_all_stats the rows come with NULL columns.
  Row r = IdleCaughtUp();
  r.state = std::nullopt;
  std::vector<StandbyRow> out;
  Status st = ParseStatReplication(MakeRows({r}), &out);
  EXPECT_EQ(st.kind(), Status::Kind::kQuery);
  EXPECT_NE(st.message().find("insufficient privilege"), std::string::npos)
      << st.message();
}

TEST(ParseStatReplication, ReplacesPreviousContents) {
  std::vector<StandbyRow> out(3);
  ASSERT_TRUE(ParseStatReplication(MakeRows({}), &out).ok());
  EXPECT_TRUE(out.empty());
  ASSERT_TRUE(ParseStatReplication(MakeRows({IdleCaughtUp()}), &out).ok());
  ASSERT_TRUE(ParseStatReplication(MakeRows({IdleCaughtUp()}), &out).ok());
  EXPECT_EQ(out.size(), 1u);
}

TEST(StageLagSeconds, NonNullLagIsReportedAsIs) {
  EXPECT_EQ(StageLagSeconds(2.5, 100u, 200u), 2.5);
  EXPECT_EQ(StageLagSeconds(2.5, std::nullopt, std::nullopt), 2.5);
  // A reported lag wins even when the stage has caught up in bytes.
  EXPECT_EQ(StageLagSeconds(0.75, 200u, 200u), 0.75);
  EXPECT_EQ(StageLagSeconds(0.0, 100u, 200u), 0.0);
}

TEST(StageLagSeconds, NullLagCaughtUpIsZero) {
  EXPECT_EQ(StageLagSeconds(std::nullopt, 200u, 200u), 0.0);
  EXPECT_EQ(StageLagSeconds(std::nullopt, 0u, 0u), 0.0);
}

TEST(StageLagSeconds, NullLagBehindIsUnknown) {
  EXPECT_TRUE(std::isnan(StageLagSeconds(std::nullopt, 199u, 200u)));
  EXPECT_TRUE(std::isnan(StageLagSeconds(std::nullopt, 0u, 200u)));
}

TEST(StageLagSeconds, NullLagWithoutPositionsIsUnknown) {
  EXPECT_TRUE(std::isnan(StageLagSeconds(std::nullopt, std::nullopt, 200u)));
  EXPECT_TRUE(std::isnan(StageLagSeconds(std::nullopt, 200u, std::nullopt)));
  EXPECT_TRUE(
      std::isnan(StageLagSeconds(std::nullopt, std::nullopt, std::nullopt)));
}

TEST(PgStatReplication, UpdateFillsStandbys) {
  InstanceSnapshot s;
  FakeDatabase db;
  canned::AnswerStandbys(&db, {IdleCaughtUp(), Startup()});
  ASSERT_TRUE(
      PgStatReplicationCollector().Update(db.rows(), PollContext{}, &s).ok());
  // A full poll: the positions and who each walsender serves.
  EXPECT_EQ(db.queries(), 2);
  ASSERT_TRUE(s.standbys.has_value());
  ASSERT_EQ(s.standbys->size(), 2u);
  EXPECT_EQ((*s.standbys)[0].application_name, "replica1");
  EXPECT_EQ((*s.standbys)[0].pid, 4242);
  EXPECT_EQ((*s.standbys)[0].client_addr, "127.0.0.1");
  EXPECT_EQ((*s.standbys)[1].application_name, "replica3");
  EXPECT_EQ((*s.standbys)[1].state, "startup");
}

// A poll between full ones, after `last` read the standbys.
PollContext Between(const InstanceSnapshot& last) {
  PollContext ctx;
  ctx.plan.full = false;
  ctx.plan.role = Role::kPrimary;
  ctx.plan.last = &last;
  return ctx;
}

TEST(PgStatReplication, BetweenFullPollsOnlyThePositionsAreRead) {
  FakeDatabase db;
  Row r = IdleCaughtUp();
  r.backend_xmin_age = "12";
  canned::AnswerStandbys(&db, {r});
  InstanceSnapshot last;
  ASSERT_TRUE(PgStatReplicationCollector()
                  .Update(db.rows(), PollContext{}, &last)
                  .ok());
  // The standby moves on; its name, address and xmin age stay the
  // latest full poll's.
  r.sent_lsn = r.write_lsn = "0/3000200";
  r.application_name = "renamed";  // not read between full polls
  r.backend_xmin_age = "40";
  canned::AnswerStandbys(&db, {r});
  InstanceSnapshot s;
  ASSERT_TRUE(
      PgStatReplicationCollector().Update(db.rows(), Between(last), &s).ok());
  EXPECT_EQ(db.queries(StatReplicationSql(db.server_version())), 2);
  EXPECT_EQ(db.queries(StandbyDetailsSql()), 1);
  ASSERT_EQ(s.standbys->size(), 1u);
  EXPECT_EQ((*s.standbys)[0].application_name, "replica1");
  EXPECT_EQ((*s.standbys)[0].backend_xmin_age, 12);
  EXPECT_EQ((*s.standbys)[0].write_lsn, 0x3000200u);
}

TEST(PgStatReplication, ANewWalsenderBetweenFullPollsIsNamedAtOnce) {
  FakeDatabase db;
  canned::AnswerStandbys(&db, {IdleCaughtUp()});
  InstanceSnapshot last;
  ASSERT_TRUE(PgStatReplicationCollector()
                  .Update(db.rows(), PollContext{}, &last)
                  .ok());
  Row second = BehindNullLags();  // pid 4243: not in the last reading
  canned::AnswerStandbys(&db, {IdleCaughtUp(), second});
  InstanceSnapshot s;
  ASSERT_TRUE(
      PgStatReplicationCollector().Update(db.rows(), Between(last), &s).ok());
  EXPECT_EQ(db.queries(StandbyDetailsSql()), 2);
  ASSERT_EQ(s.standbys->size(), 2u);
  EXPECT_EQ((*s.standbys)[1].application_name, "replica2");
  EXPECT_EQ((*s.standbys)[1].client_addr, "10.0.0.2");
}

TEST(MergeStandbyDetails, AWalsenderThatEndedInBetweenIsLeftOut) {
  std::vector<StandbyRow> positions(2);
  positions[0].pid = 7;
  positions[1].pid = 8;
  std::map<int64_t, StandbyRow> details;
  details[8].application_name = "b";
  MergeStandbyDetails(details, &positions);
  ASSERT_EQ(positions.size(), 1u);
  EXPECT_EQ(positions[0].pid, 8);
  EXPECT_EQ(positions[0].application_name, "b");
}

TEST(PgStatReplication, AReplicaWithoutStandbysIsReadOnFullPollsOnly) {
  PgStatReplicationCollector c;
  InstanceSnapshot last;
  last.standbys.emplace();
  StatementPlan plan;
  plan.full = false;
  plan.role = Role::kReplica;
  plan.last = &last;
  EXPECT_FALSE(c.Due(plan));
  last.standbys->emplace_back();  // it cascades
  EXPECT_TRUE(c.Due(plan));
  last.standbys->clear();
  plan.role = Role::kPrimary;
  EXPECT_TRUE(c.Due(plan));
  plan.role = Role::kReplica;
  plan.full = true;
  EXPECT_TRUE(c.Due(plan));
}

TEST(PgStatReplication, UpdateQueryErrorLeavesStandbysUnset) {
  InstanceSnapshot s;
  FakeDatabase db;
  db.Answer(StatReplicationSql(db.server_version()),
            Status::Query("relation does not exist"));
  Status st = PgStatReplicationCollector().Update(db.rows(), PollContext{}, &s);
  EXPECT_EQ(st.kind(), Status::Kind::kQuery);
  EXPECT_FALSE(s.standbys.has_value());
}

TEST(PgStatReplication, CaughtUpIdleStandbyHasZeroLagNotAbsent) {
  auto fams = EmitFor({IdleCaughtUp()});
  for (const char* stage : {"write", "flush", "replay"}) {
    auto v = Value(fams, "pgrepl_standby_lag_seconds",
                   {{"standby", "replica1"}, {"stage", stage}});
    ASSERT_TRUE(v.has_value()) << stage;
    EXPECT_EQ(*v, 0.0) << stage;
  }
  for (const char* stage : {"sent", "write", "flush", "replay"}) {
    EXPECT_EQ(Value(fams, "pgrepl_standby_lag_bytes",
                    {{"standby", "replica1"}, {"stage", stage}}),
              0.0)
        << stage;
  }
  EXPECT_EQ(Value(fams, "pgrepl_standby_reply_age_seconds",
                  {{"standby", "replica1"}}),
            0.412);
}

TEST(PgStatReplication, BackendXminAgeOnlyWhileFeedbackHoldsOne) {
  Row held = IdleCaughtUp();
  held.backend_xmin_age = "5000000";
  auto fams = EmitFor({held, BehindNullLags()});
  EXPECT_EQ(Value(fams, "pgrepl_standby_backend_xmin_age_xids",
                  {{"standby", "replica1"}}),
            5000000);
  // NULL backend_xmin (feedback off): absent, not 0.
  EXPECT_EQ(Count(fams, "pgrepl_standby_backend_xmin_age_xids",
                  {{"standby", "replica2"}}),
            0u);
}

TEST(StandbyDetailsSql, ReadsBackendXmin) {
  EXPECT_TRUE(ReadsColumn(StandbyDetailsSql(), "backend_xmin"));
}

TEST(PgStatReplication, BehindStandbyWithNullLagIsNaN) {
  auto fams = EmitFor({BehindNullLags()});
  for (const char* stage : {"write", "flush", "replay"}) {
    auto v = Value(fams, "pgrepl_standby_lag_seconds",
                   {{"standby", "replica2"}, {"stage", stage}});
    ASSERT_TRUE(v.has_value()) << stage;
    EXPECT_TRUE(std::isnan(*v)) << stage << " = " << *v;
  }
}

TEST(PgStatReplication, ReportedLagsAreEmitted) {
  Row r = BehindNullLags();
  r.write_lag = "0.001";
  r.flush_lag = "0.002";
  r.replay_lag = "3.5";
  auto fams = EmitFor({r});
  EXPECT_EQ(Value(fams, "pgrepl_standby_lag_seconds", {{"stage", "write"}}),
            0.001);
  EXPECT_EQ(Value(fams, "pgrepl_standby_lag_seconds", {{"stage", "flush"}}),
            0.002);
  EXPECT_EQ(Value(fams, "pgrepl_standby_lag_seconds", {{"stage", "replay"}}),
            3.5);
  // The time lag has no "sent" stage.
  EXPECT_EQ(Count(fams, "pgrepl_standby_lag_seconds", {{"stage", "sent"}}), 0u);
}

TEST(PgStatReplication, ByteLagIsCurrentMinusStage) {
  auto fams = EmitFor({BehindNullLags()});
  Labels l = {{"standby", "replica2"}};
  auto stage = [&](const char* s) {
    Labels x = l;
    x["stage"] = s;
    return Value(fams, "pgrepl_standby_lag_bytes", x);
  };
  EXPECT_EQ(stage("sent"), 4096.0);
  EXPECT_EQ(stage("write"), 65536.0);
  EXPECT_EQ(stage("flush"), 1048576.0);
  EXPECT_EQ(stage("replay"), 16777216.0);
}

TEST(PgStatReplication, ByteLagAcrossThe32BitBoundary) {
  Row r = IdleCaughtUp();
  r.current_lsn = "1/10";
  r.replay_lsn = "0/FFFFFFF0";
  auto fams = EmitFor({r});
  EXPECT_EQ(Value(fams, "pgrepl_standby_lag_bytes", {{"stage", "replay"}}),
            32.0);
}

TEST(PgStatReplication, StageAheadOfCurrentIsZeroBytesNotWrapped) {
  // On a cascading upstream the current position is its replay position,
  // which a downstream standby can have passed in write/flush.
  Row r = IdleCaughtUp();
  r.current_lsn = "0/3000000";
  r.flush_lsn = "0/3000100";
  auto fams = EmitFor({r});
  EXPECT_EQ(Value(fams, "pgrepl_standby_lag_bytes", {{"stage", "flush"}}), 0.0);
  EXPECT_EQ(Value(fams, "pgrepl_standby_lag_seconds", {{"stage", "flush"}}),
            0.0);
}

TEST(PgStatReplication, StartupStandbyHasNoByteLag) {
  auto fams = EmitFor({IdleCaughtUp(), Startup()});
  EXPECT_EQ(Count(fams, "pgrepl_standby_lag_bytes", {{"standby", "replica3"}}),
            0u);
  EXPECT_EQ(Count(fams, "pgrepl_standby_lag_bytes", {{"standby", "replica1"}}),
            4u);
  // Its time lags are unknown, never 0.
  auto seconds =
      Matches(fams, "pgrepl_standby_lag_seconds", {{"standby", "replica3"}});
  ASSERT_EQ(seconds.size(), 3u);
  for (const auto* m : seconds) EXPECT_TRUE(std::isnan(m->gauge.value));
  EXPECT_EQ(Count(fams, "pgrepl_standby_reply_age_seconds",
                  {{"standby", "replica3"}}),
            0u);
}

TEST(PgStatReplication, NullCurrentLsnGivesNoByteLag) {
  Row r = IdleCaughtUp();
  r.current_lsn = std::nullopt;
  auto fams = EmitFor({r});
  EXPECT_EQ(Count(fams, "pgrepl_standby_lag_bytes"), 0u);
  for (const auto* m : Matches(fams, "pgrepl_standby_lag_seconds", {})) {
    EXPECT_TRUE(std::isnan(m->gauge.value));
  }
}

TEST(PgStatReplication, LabelsIdentifyTheStandby) {
  Row r = IdleCaughtUp();
  r.sync_state = "sync";
  auto fams = EmitFor({r}, true, {canned::SlotCells{}});
  auto m = Matches(fams, "pgrepl_standby_lag_seconds", {{"stage", "replay"}});
  ASSERT_EQ(m.size(), 1u);
  Labels got;
  for (const auto& l : m[0]->label) got[l.name] = l.value;
  EXPECT_EQ(got, (Labels{{"cluster", "c"},
                         {"instance", "primary"},
                         {"standby", "replica1"},
                         {"client_addr", "127.0.0.1"},
                         {"slot", "replica1"},
                         {"sync_state", "sync"},
                         {"state", "streaming"},
                         {"stage", "replay"}}));
  auto age = Matches(fams, "pgrepl_standby_reply_age_seconds", {});
  ASSERT_EQ(age.size(), 1u);
  EXPECT_EQ(age[0]->label.size(), 7u);  // no stage label
}

TEST(PgStatReplication, StreamingAndSynchronousCounts) {
  std::vector<Row> rows;
  for (const char* sync : {"async", "potential", "sync", "quorum", "quorum"}) {
    Row r = IdleCaughtUp();
    r.application_name = std::string("r_") + sync + std::to_string(rows.size());
    r.sync_state = sync;
    rows.push_back(r);
  }
  rows.push_back(Startup());  // async, not streaming
  Row catchup = BehindNullLags();
  catchup.state = "catchup";
  catchup.sync_state = "sync";
  rows.push_back(catchup);
  auto fams = EmitFor(rows);
  EXPECT_EQ(Value(fams, "pgrepl_standbys_streaming"), 5.0);
  EXPECT_EQ(Value(fams, "pgrepl_standbys_synchronous"), 4.0);
}

TEST(PgStatReplication, NoStandbysIsZeroNotAbsent) {
  auto fams = EmitFor({});
  EXPECT_EQ(Value(fams, "pgrepl_standbys_streaming"), 0.0);
  EXPECT_EQ(Value(fams, "pgrepl_standbys_synchronous"), 0.0);
  EXPECT_EQ(Count(fams, "pgrepl_standby_lag_seconds"), 0u);
}

TEST(PgStatReplication, NothingWhenDownOrUnread) {
  EXPECT_TRUE(EmitFor({IdleCaughtUp()}, /*up=*/false).empty());

  InstanceSnapshot s;
  s.up = true;  // but the query failed: standbys is unset
  MetricSink sink;
  PgStatReplicationCollector().Emit(s, sink);
  EXPECT_TRUE(sink.Take().empty());
}

}  // namespace
}  // namespace pgrepl
