// Tests for exporter/collector/replay_blockers with canned rows: parsing,
// the statements it declares, and the lag cause it renders.
#include "exporter/collector/replay_blockers.h"

#include <gtest/gtest.h>

#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "exporter/base/metric_sink.h"
#include "exporter/model/lag_cause.h"
#include "exporter/model/snapshot.h"
#include "tests/unit/testing/fake_session.h"
#include "tests/unit/testing/metric_matchers.h"
#include "tests/unit/testing/snapshots.h"

namespace pgrepl {
namespace {

using Cell = std::optional<std::string>;

// The row as PostgreSQL 12-17 return it (pg_stat_activity's wait_event
// columns and the three settings exist in all of them).
Rows BlockerRows(Cell type, Cell event, Cell xact_age, Cell max_delay,
                 Cell apply_delay, Cell feedback) {
  Rows r;
  r.columns = {"startup_wait_event_type",  "startup_wait_event",
               "oldest_xact_age",          "max_standby_streaming_delay",
               "recovery_min_apply_delay", "hot_standby_feedback"};
  r.values = {{type, event, xact_age, max_delay, apply_delay, feedback}};
  return r;
}

TEST(ParseReplayBlockers, ReplicaWaitingOnASnapshotConflict) {
  ReplayBlockers b;
  ASSERT_TRUE(
      ParseReplayBlockers(BlockerRows("IPC", "RecoveryConflictSnapshot", "12.5",
                                      "30.000000", "0.000000", "f"),
                          &b)
          .ok());
  EXPECT_EQ(b.startup_wait_event_type, "IPC");
  EXPECT_EQ(b.startup_wait_event, "RecoveryConflictSnapshot");
  EXPECT_EQ(b.oldest_xact_age, 12.5);
  EXPECT_EQ(b.max_standby_streaming_delay, 30);
  EXPECT_EQ(b.apply_delay, 0);
  EXPECT_EQ(b.hot_standby_feedback, false);
}

TEST(ParseReplayBlockers, PrimaryHasNoStartupProcessAndNoTransaction) {
  ReplayBlockers b;
  ASSERT_TRUE(
      ParseReplayBlockers(BlockerRows(std::nullopt, std::nullopt, std::nullopt,
                                      "-1.000000", "0.000000", "t"),
                          &b)
          .ok());
  EXPECT_EQ(b.startup_wait_event_type, "");
  EXPECT_EQ(b.startup_wait_event, "");
  EXPECT_FALSE(b.oldest_xact_age.has_value());  // NULL: none, not 0
  EXPECT_EQ(b.max_standby_streaming_delay, -1);
  EXPECT_EQ(b.hot_standby_feedback, true);
}

TEST(ParseReplayBlockers, NoRowIsAnError) {
  Rows empty = BlockerRows("", "", "", "", "", "");
  empty.values.clear();
  ReplayBlockers b;
  EXPECT_FALSE(ParseReplayBlockers(empty, &b).ok());
}

TEST(ReplayBlockersCollector, UpdateRunsExactlyTheDeclaredStatement) {
  for (int version : {120000, 130000, 140000, 150000, 160000, 170000}) {
    FakeDatabase db(version);
    ReplayBlockersCollector c;
    auto statements = c.Statements({version, true});
    ASSERT_EQ(statements.size(), 1u);
    // Only the declared text answers: any other query fails the update.
    db.Answer(statements[0], BlockerRows("Timeout", "RecoveryApplyDelay", "1.0",
                                         "30", "5", "t"));
    InstanceSnapshot s;
    ASSERT_TRUE(c.Update(db.rows(), PollContext{}, &s).ok()) << version;
    const auto* b = s.Reading<ReplayBlockers>(kReplayBlockersCollector);
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(b->apply_delay, 5);
  }
}

TEST(ReplayBlockersCollector, AFailedQueryStoresNothing) {
  FakeDatabase db;  // no answers
  InstanceSnapshot s;
  EXPECT_FALSE(
      ReplayBlockersCollector().Update(db.rows(), PollContext{}, &s).ok());
  EXPECT_EQ(s.Reading<ReplayBlockers>(kReplayBlockersCollector), nullptr);
}

// A streaming replica, 20 s and 5000 bytes behind a primary at 10000,
// whose replay stopped at 5000 while WAL up to 9800 arrived.
InstanceSnapshot LaggingReplica(const ReplayBlockers& b) {
  InstanceSnapshot s = fixtures::Replica("r1", "r1", "r1");
  s.collectors = {{"pg_is_in_recovery", true, 0},
                  {"pg_stat_wal_receiver", true, 0},
                  {kReplayBlockersCollector, true, 0}};
  s.readings[kReplayBlockersCollector] = b;
  s.recovery->receive_lsn = 9800;
  s.recovery->replay_lsn = 5000;
  s.recovery->replay_paused = false;
  s.wal_receiver->flushed_lsn = 9800;
  s.wal_receiver->written_lsn = 9800;
  s.replica_lag_seconds = 20;
  s.replica_lag_bytes = 5000;
  return s;
}

std::vector<prometheus::MetricFamily> Emit(const InstanceSnapshot& s) {
  MetricSink sink(LabelPairs{{"cluster", "c"}, {"instance", "r1"}});
  ReplayBlockersCollector().Emit(s, sink);
  return sink.Take();
}

// Replay waits for a query's snapshot; feedback off, replay waits 30 s.
ReplayBlockers WaitingOnASnapshotConflict() {
  ReplayBlockers b;
  b.startup_wait_event_type = "IPC";
  b.startup_wait_event = "RecoveryConflictSnapshot";
  b.oldest_xact_age = 25;
  b.max_standby_streaming_delay = 30;
  b.apply_delay = 0;
  b.hot_standby_feedback = false;
  return b;
}

TEST(ReplayBlockersCollector, RendersTheCauseAndItsStages) {
  const ReplayBlockers b = WaitingOnASnapshotConflict();
  auto fams = Emit(LaggingReplica(b));
  EXPECT_EQ(Count(fams, "pgrepl_replica_lag_cause"), 7u);
  EXPECT_EQ(
      Value(fams, "pgrepl_replica_lag_cause", {{"cause", "recovery_conflict"}}),
      1);
  for (const char* other : {"none", "network_or_sender", "disk",
                            "replay_paused", "apply_delay", "replay_cpu"}) {
    EXPECT_EQ(Value(fams, "pgrepl_replica_lag_cause", {{"cause", other}}), 0)
        << other;
  }
  EXPECT_EQ(
      Value(fams, "pgrepl_replica_lag_stage_bytes", {{"stage", "network"}}),
      200);
  EXPECT_EQ(Value(fams, "pgrepl_replica_lag_stage_bytes", {{"stage", "disk"}}),
            0);
  EXPECT_EQ(
      Value(fams, "pgrepl_replica_lag_stage_bytes", {{"stage", "replay"}}),
      4800);
  EXPECT_EQ(Value(fams, "pgrepl_replica_recovery_conflict_waiting"), 1);
  EXPECT_EQ(Value(fams, "pgrepl_replica_oldest_xact_age_seconds"), 25);
  EXPECT_EQ(Value(fams, "pgrepl_replica_max_standby_streaming_delay_seconds"),
            30);
  EXPECT_EQ(Value(fams, "pgrepl_replica_apply_delay_seconds"), 0);
  EXPECT_EQ(Value(fams, "pgrepl_replica_hot_standby_feedback"), 0);
}

TEST(ReplayBlockersCollector, CaughtUpIsNone) {
  InstanceSnapshot s = LaggingReplica(ReplayBlockers{});
  s.recovery->replay_lsn = 9800;
  s.replica_lag_seconds = 0;
  s.replica_lag_bytes = 0;
  auto fams = Emit(s);
  EXPECT_EQ(Value(fams, "pgrepl_replica_lag_cause", {{"cause", "none"}}), 1);
  EXPECT_EQ(Value(fams, "pgrepl_replica_recovery_conflict_waiting"), 0);
  // Absent, not 0: no transaction is open.
  EXPECT_EQ(Count(fams, "pgrepl_replica_oldest_xact_age_seconds"), 0u);
}

TEST(ReplayBlockersCollector, UnknownLagHasNoCauseSeries) {
  InstanceSnapshot s = LaggingReplica(ReplayBlockers{});
  s.replica_lag_seconds.reset();
  auto fams = Emit(s);
  EXPECT_EQ(Count(fams, "pgrepl_replica_lag_cause"), 0u);
  EXPECT_EQ(Count(fams, "pgrepl_replica_lag_stage_bytes"), 0u);
  EXPECT_EQ(Value(fams, "pgrepl_replica_recovery_conflict_waiting"), 0);
}

TEST(ReplayBlockersCollector, Postgres12CannotTellASnapshotConflictFromWork) {
  // PostgreSQL 12's startup process sleeps without a wait event in a
  // snapshot conflict: with a transaction open on the replica, neither
  // the wait nor the cause is known, so neither is exported.
  ReplayBlockers b = WaitingOnASnapshotConflict();
  b.startup_wait_event_type.clear();
  b.startup_wait_event.clear();
  InstanceSnapshot s = LaggingReplica(b);
  s.server_version_num = 120010;
  auto fams = Emit(s);
  EXPECT_EQ(Count(fams, "pgrepl_replica_recovery_conflict_waiting"), 0u);
  EXPECT_EQ(Count(fams, "pgrepl_replica_lag_cause"), 0u);
  EXPECT_EQ(Value(fams, "pgrepl_replica_oldest_xact_age_seconds"), 25);
  // Once the transaction ends, replay at work is replay_cpu.
  b.oldest_xact_age.reset();
  s = LaggingReplica(b);
  s.server_version_num = 120010;
  fams = Emit(s);
  EXPECT_EQ(Value(fams, "pgrepl_replica_recovery_conflict_waiting"), 0);
  EXPECT_EQ(Value(fams, "pgrepl_replica_lag_cause", {{"cause", "replay_cpu"}}),
            1);
}

TEST(ReplayBlockersCollector, DueOnReplicasWhileTheyMayLagAndOnFullPolls) {
  ReplayBlockersCollector c;
  InstanceSnapshot last = LaggingReplica(ReplayBlockers{});
  StatementPlan plan;
  plan.full = false;
  plan.role = Role::kReplica;
  plan.last = &last;
  EXPECT_TRUE(c.Due(plan)) << "20 s behind";
  last.replica_lag_seconds = kLagCauseMinSeconds / 2;
  EXPECT_TRUE(c.Due(plan)) << "half the threshold";
  last.replica_lag_seconds = 0.1;
  EXPECT_FALSE(c.Due(plan)) << "caught up";
  last.recovery->replay_paused = true;
  EXPECT_TRUE(c.Due(plan)) << "paused";
  last.recovery->replay_paused = false;
  last.replica_lag_seconds = std::numeric_limits<double>::quiet_NaN();
  EXPECT_TRUE(c.Due(plan)) << "lag unknown";
  last.replica_lag_seconds = 0.1;
  plan.full = true;
  EXPECT_TRUE(c.Due(plan)) << "a full poll";
  plan.role = Role::kPrimary;
  EXPECT_FALSE(c.Due(plan)) << "never on a primary";
}

TEST(ReplayBlockersCollector, ACarriedReadingKeepsTheSettingsNotTheWaits) {
  InstanceSnapshot last = LaggingReplica(WaitingOnASnapshotConflict());
  InstanceSnapshot s = LaggingReplica(ReplayBlockers{});
  s.readings.clear();
  ReplayBlockersCollector().CarryForward(last, &s);
  const auto* carried = s.Reading<ReplayBlockers>(kReplayBlockersCollector);
  ASSERT_NE(carried, nullptr);
  EXPECT_FALSE(carried->waits_read);
  EXPECT_EQ(carried->startup_wait_event, "");
  EXPECT_EQ(carried->max_standby_streaming_delay, 30);
  // 20 s behind in replay with the waits unread: no cause series this
  // poll rather than a guess; the next poll reads them.
  auto fams = Emit(s);
  EXPECT_EQ(Count(fams, "pgrepl_replica_lag_cause"), 0u);
  EXPECT_EQ(Value(fams, "pgrepl_replica_max_standby_streaming_delay_seconds"),
            30);
}

TEST(ReplayBlockersCollector, NothingOnAPrimaryOrAfterAFailure) {
  InstanceSnapshot p = fixtures::Primary("p");
  p.collectors = {{kReplayBlockersCollector, true, 0}};
  p.readings[kReplayBlockersCollector] = ReplayBlockers{};
  EXPECT_TRUE(Emit(p).empty());

  InstanceSnapshot r = LaggingReplica(ReplayBlockers{});
  r.collectors.back().ok = false;
  EXPECT_TRUE(Emit(r).empty());
}

}  // namespace
}  // namespace pgrepl
