// Tests for exporter/model/lag_cause: the decision as a table, the stage
// split, the wait events, and the input read from a snapshot.
#include "exporter/model/lag_cause.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "exporter/model/snapshot.h"
#include "tests/unit/testing/snapshots.h"

namespace pgrepl {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// A streaming replica 10 s and 1000 bytes behind, all of it replayed up to
// `replay`: positions are primary=10000, written/flushed/replay given.
LagCauseInput Lagging(uint64_t written, uint64_t flushed, uint64_t replay) {
  LagCauseInput in;
  in.lag_seconds = 10;
  in.lag_bytes = 10000.0 - static_cast<double>(replay);
  in.streaming = true;
  in.written_lsn = written;
  in.flushed_lsn = flushed;
  in.replay_lsn = replay;
  return in;
}

struct Case {
  const char* name;
  LagCauseInput in;
  LagCause want;
};

LagCauseInput With(LagCauseInput in, void (*change)(LagCauseInput*)) {
  change(&in);
  return in;
}

TEST(DecideLagCause, Table) {
  // Replay stage dominant: primary 10000, written=flushed 9900, replay 9000.
  const LagCauseInput replay_stage = Lagging(9900, 9900, 9000);
  const std::vector<Case> cases = {
      {"caught up",
       With(replay_stage,
            [](LagCauseInput* in) {
              in->lag_seconds = 0;
              in->lag_bytes = 0;
            }),
       LagCause::kNone},
      {"under a second is not lagging",
       With(replay_stage, [](LagCauseInput* in) { in->lag_seconds = 0.99; }),
       LagCause::kNone},
      {"paused under a second is still none",
       With(replay_stage,
            [](LagCauseInput* in) {
              in->lag_seconds = 0.5;
              in->replay_paused = true;
            }),
       LagCause::kNone},
      {"exactly the threshold is lagging",
       With(replay_stage, [](LagCauseInput* in) { in->lag_seconds = 1.0; }),
       LagCause::kReplayCpu},
      {"replay behind, nothing else: replay_cpu", replay_stage,
       LagCause::kReplayCpu},
      {"network stage largest", Lagging(2000, 2000, 1500),
       LagCause::kNetworkOrSender},
      {"disk stage largest", Lagging(9000, 3000, 2900), LagCause::kDisk},
      {"paused",
       With(replay_stage, [](LagCauseInput* in) { in->replay_paused = true; }),
       LagCause::kReplayPaused},
      {"startup waits on RecoveryPause (pause flag unread)",
       With(replay_stage,
            [](LagCauseInput* in) {
              in->startup_wait_event_type = "IPC";
              in->startup_wait_event = "RecoveryPause";
            }),
       LagCause::kReplayPaused},
      {"snapshot conflict (13+)",
       With(replay_stage,
            [](LagCauseInput* in) {
              in->startup_wait_event_type = "IPC";
              in->startup_wait_event = "RecoveryConflictSnapshot";
            }),
       LagCause::kRecoveryConflict},
      {"tablespace conflict (13+)",
       With(replay_stage,
            [](LagCauseInput* in) {
              in->startup_wait_event_type = "IPC";
              in->startup_wait_event = "RecoveryConflictTablespace";
            }),
       LagCause::kRecoveryConflict},
      {"lock conflict",
       With(replay_stage,
            [](LagCauseInput* in) {
              in->startup_wait_event_type = "Lock";
              in->startup_wait_event = "relation";
            }),
       LagCause::kRecoveryConflict},
      {"buffer pin conflict",
       With(replay_stage,
            [](LagCauseInput* in) {
              in->startup_wait_event_type = "BufferPin";
              in->startup_wait_event = "BufferPin";
            }),
       LagCause::kRecoveryConflict},
      {"pause wins over a conflict",
       With(replay_stage,
            [](LagCauseInput* in) {
              in->replay_paused = true;
              in->startup_wait_event_type = "Lock";
              in->startup_wait_event = "relation";
            }),
       LagCause::kReplayPaused},
      {"conflict wins over an apply delay",
       With(replay_stage,
            [](LagCauseInput* in) {
              in->apply_delay_seconds = 60;
              in->startup_wait_event_type = "BufferPin";
              in->startup_wait_event = "BufferPin";
            }),
       LagCause::kRecoveryConflict},
      {"apply delay configured",
       With(replay_stage,
            [](LagCauseInput* in) { in->apply_delay_seconds = 5; }),
       LagCause::kApplyDelay},
      {"startup waits on RecoveryApplyDelay",
       With(replay_stage,
            [](LagCauseInput* in) {
              in->startup_wait_event_type = "Timeout";
              in->startup_wait_event = "RecoveryApplyDelay";
            }),
       LagCause::kApplyDelay},
      {"waiting for WAL is no blocker",
       With(replay_stage,
            [](LagCauseInput* in) {
              in->startup_wait_event_type = "Activity";
              in->startup_wait_event = "RecoveryWalStream";
            }),
       LagCause::kReplayCpu},
      {"an LWLock wait is no conflict",
       With(replay_stage,
            [](LagCauseInput* in) {
              in->startup_wait_event_type = "LWLock";
              in->startup_wait_event = "BufferContent";
            }),
       LagCause::kReplayCpu},
      {"network larger than replay beats a pause",
       With(Lagging(3000, 3000, 2000),
            [](LagCauseInput* in) { in->replay_paused = true; }),
       LagCause::kNetworkOrSender},
      {"network equal to replay: the later stage (replay) decides",
       // primary 10000, written 5000, replay 0: network 5000 = replay 5000.
       Lagging(5000, 5000, 0), LagCause::kReplayCpu},
      {"disk equal to replay: replay decides", Lagging(10000, 5000, 0),
       LagCause::kReplayCpu},
      {"stream down, no primary reference",
       With(replay_stage,
            [](LagCauseInput* in) {
              in->streaming = false;
              in->lag_bytes.reset();
            }),
       LagCause::kNetworkOrSender},
      {"stream down, everything received replayed",
       With(Lagging(4000, 4000, 4000),
            [](LagCauseInput* in) { in->streaming = false; }),
       LagCause::kNetworkOrSender},
      {"streaming without a primary reference: replay decides",
       With(replay_stage, [](LagCauseInput* in) { in->lag_bytes.reset(); }),
       LagCause::kReplayCpu},
      {"no written position (PostgreSQL 12): flushed stands in",
       With(Lagging(0, 9900, 9000),
            [](LagCauseInput* in) { in->written_lsn.reset(); }),
       LagCause::kReplayCpu},
  };
  for (const auto& c : cases) {
    auto v = DecideLagCause(c.in);
    ASSERT_TRUE(v.has_value()) << c.name;
    EXPECT_EQ(LagCauseName(v->cause), std::string(LagCauseName(c.want)))
        << c.name;
  }
}

TEST(DecideLagCause, UnknownLagHasNoCause) {
  LagCauseInput in = Lagging(9900, 9900, 9000);
  in.lag_seconds.reset();
  EXPECT_FALSE(DecideLagCause(in).has_value());
  in.lag_seconds = kNaN;
  EXPECT_FALSE(DecideLagCause(in).has_value());
}

TEST(DecideLagCause, ReplayLagWithoutItsWaitsReadHasNoCause) {
  // Replay stage dominant, the startup process's waits not read this poll
  // (carried forward while the replica was not lagging): a conflict, the
  // delay and the CPU cannot be told apart yet.
  LagCauseInput in = Lagging(9900, 9900, 9000);
  in.waits_read = false;
  EXPECT_FALSE(DecideLagCause(in).has_value());
  in.apply_delay_seconds = 5;
  EXPECT_FALSE(DecideLagCause(in).has_value());
  // A pause comes from the role statement, read every poll.
  in.replay_paused = true;
  ASSERT_TRUE(DecideLagCause(in).has_value());
  EXPECT_EQ(DecideLagCause(in)->cause, LagCause::kReplayPaused);
  // Lag held before replay needs no waits.
  LagCauseInput network = Lagging(5000, 5000, 5000);
  network.waits_read = false;
  ASSERT_TRUE(DecideLagCause(network).has_value());
  EXPECT_EQ(DecideLagCause(network)->cause, LagCause::kNetworkOrSender);
  // Under a second: none, whatever was read.
  in.replay_paused = false;
  in.lag_seconds = 0.2;
  ASSERT_TRUE(DecideLagCause(in).has_value());
  EXPECT_EQ(DecideLagCause(in)->cause, LagCause::kNone);
}

TEST(SplitLag, StagesAddUpToTheLag) {
  // primary 10000, written 9000, flushed 8500, replay 6000.
  LagStages st = SplitLag(Lagging(9000, 8500, 6000));
  ASSERT_TRUE(st.network && st.disk && st.replay);
  EXPECT_EQ(*st.network, 1000);
  EXPECT_EQ(*st.disk, 500);
  EXPECT_EQ(*st.replay, 2500);
  EXPECT_EQ(*st.network + *st.disk + *st.replay, 4000);
}

TEST(SplitLag, ClampsReadingsTakenAMomentApart) {
  // Replay (read before the receiver row) can be past flushed right after
  // a restart, when it replays WAL already on disk.
  LagCauseInput in = Lagging(9000, 9000, 9500);
  in.lag_bytes = 100;  // the primary at 9600
  LagStages st = SplitLag(in);
  EXPECT_EQ(*st.replay, 0);
  EXPECT_EQ(*st.disk, 0);
  EXPECT_EQ(*st.network, 600);
  // The primary's latest sample may trail what the replica already wrote.
  in.lag_bytes = 0;  // the primary at 9500
  in.written_lsn = 9800;
  st = SplitLag(in);
  EXPECT_EQ(*st.disk, 800);
  EXPECT_EQ(*st.network, 0);
}

TEST(SplitLag, UnknownPositionsLeaveStagesUnknown) {
  LagCauseInput in;
  LagStages st = SplitLag(in);
  EXPECT_FALSE(st.network.has_value());
  EXPECT_FALSE(st.disk.has_value());
  EXPECT_FALSE(st.replay.has_value());
}

TEST(IsRecoveryConflictWait, NamesOfEachVersion) {
  EXPECT_TRUE(IsRecoveryConflictWait("Lock", "relation"));
  EXPECT_TRUE(IsRecoveryConflictWait("Lock", "transactionid"));
  EXPECT_TRUE(IsRecoveryConflictWait("BufferPin", "BufferPin"));
  EXPECT_TRUE(IsRecoveryConflictWait("IPC", "RecoveryConflictSnapshot"));
  EXPECT_TRUE(IsRecoveryConflictWait("IPC", "RecoveryConflictTablespace"));
  EXPECT_FALSE(IsRecoveryConflictWait("IPC", "RecoveryPause"));
  EXPECT_FALSE(IsRecoveryConflictWait("Timeout", "RecoveryApplyDelay"));
  EXPECT_FALSE(IsRecoveryConflictWait("Activity", "RecoveryWalStream"));
  EXPECT_FALSE(IsRecoveryConflictWait("", ""));
}

TEST(RecoveryConflictWaiting, UnknownOnlyOnPostgres12WithATransactionOpen) {
  ReplayBlockers busy;  // the startup process shows no wait event
  busy.oldest_xact_age = 40;
  // 13+: a conflict has its own wait event, so none means no conflict.
  EXPECT_EQ(RecoveryConflictWaiting(busy, 130000), false);
  EXPECT_EQ(RecoveryConflictWaiting(busy, 150000), false);
  // 12: it may sleep in a snapshot or tablespace conflict.
  EXPECT_EQ(RecoveryConflictWaiting(busy, 120010), std::nullopt);
  ReplayBlockers alone = busy;  // nothing open: nothing to conflict with
  alone.oldest_xact_age.reset();
  EXPECT_EQ(RecoveryConflictWaiting(alone, 120010), false);
  ReplayBlockers streaming = busy;  // waits for WAL: not replaying
  streaming.startup_wait_event_type = "Activity";
  streaming.startup_wait_event = "RecoveryWalStream";
  EXPECT_EQ(RecoveryConflictWaiting(streaming, 120010), false);
  ReplayBlockers lock = busy;  // a lock conflict has its wait event on 12
  lock.startup_wait_event_type = "Lock";
  lock.startup_wait_event = "relation";
  EXPECT_EQ(RecoveryConflictWaiting(lock, 120010), true);
  ReplayBlockers carried = busy;  // not read this poll: kept up
  carried.waits_read = false;
  EXPECT_EQ(RecoveryConflictWaiting(carried, 120010), false);
}

TEST(DecideLagCause, AnUnknownConflictWaitLeavesReplayLagWithoutCause) {
  LagCauseInput in = Lagging(9900, 9900, 9000);
  in.conflict_wait_unknown = true;
  EXPECT_FALSE(DecideLagCause(in).has_value());  // a conflict or the CPU
  in.apply_delay_seconds = 5;                    // the delay explains it
  ASSERT_TRUE(DecideLagCause(in).has_value());
  EXPECT_EQ(DecideLagCause(in)->cause, LagCause::kApplyDelay);
  in.apply_delay_seconds = 0;
  in.replay_paused = true;
  ASSERT_TRUE(DecideLagCause(in).has_value());
  EXPECT_EQ(DecideLagCause(in)->cause, LagCause::kReplayPaused);
  // Lag held before replay is named as usual.
  LagCauseInput disk = Lagging(9900, 5000, 5000);
  disk.conflict_wait_unknown = true;
  ASSERT_TRUE(DecideLagCause(disk).has_value());
  EXPECT_EQ(DecideLagCause(disk)->cause, LagCause::kDisk);
}

TEST(LagCauseName, EveryCauseHasItsLabel) {
  std::vector<std::string> names;
  for (LagCause c : kLagCauses) names.push_back(LagCauseName(c));
  EXPECT_EQ(names, (std::vector<std::string>{
                       "none", "network_or_sender", "disk", "recovery_conflict",
                       "replay_paused", "apply_delay", "replay_cpu"}));
}

// A streaming replica whose replay_blockers collector read `b`.
InstanceSnapshot ReplicaWith(const ReplayBlockers& b) {
  InstanceSnapshot s = fixtures::Replica("r1", "r1", "r1");
  s.collectors = {{"pg_is_in_recovery", true, 0},
                  {"pg_stat_wal_receiver", true, 0},
                  {kReplayBlockersCollector, true, 0}};
  s.readings[kReplayBlockersCollector] = b;
  s.recovery->receive_lsn = 9000;
  s.recovery->replay_lsn = 8000;
  s.recovery->replay_paused = false;
  s.wal_receiver->flushed_lsn = 9500;
  s.wal_receiver->written_lsn = 9700;
  s.replica_lag_seconds = 12;
  s.replica_lag_bytes = 2000;  // primary at 10000
  return s;
}

TEST(LagCauseInputOf, ReadsTheReplicasReadings) {
  ReplayBlockers b;
  b.startup_wait_event_type = "IPC";
  b.startup_wait_event = "RecoveryConflictSnapshot";
  b.apply_delay = 3;
  auto in = LagCauseInputOf(ReplicaWith(b));
  ASSERT_TRUE(in.has_value());
  EXPECT_EQ(in->lag_seconds, 12);
  EXPECT_EQ(in->lag_bytes, 2000);
  EXPECT_TRUE(in->streaming);
  // The receiver row's positions, not pg_last_wal_receive_lsn().
  EXPECT_EQ(in->flushed_lsn, 9500u);
  EXPECT_EQ(in->written_lsn, 9700u);
  EXPECT_EQ(in->replay_lsn, 8000u);
  EXPECT_EQ(in->startup_wait_event, "RecoveryConflictSnapshot");
  EXPECT_EQ(in->apply_delay_seconds, 3);
  auto v = ReplicaLagCause(ReplicaWith(b));
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->cause, LagCause::kRecoveryConflict);
  EXPECT_EQ(v->stages.network, 300);
  EXPECT_EQ(v->stages.disk, 200);
  EXPECT_EQ(v->stages.replay, 1500);
}

TEST(LagCauseInputOf, Postgres12ReplayLagWithATransactionOpenHasNoCause) {
  ReplayBlockers b;  // no wait event, a client transaction open
  b.oldest_xact_age = 30;
  InstanceSnapshot s = ReplicaWith(b);
  s.server_version_num = 150000;
  ASSERT_TRUE(ReplicaLagCause(s).has_value());
  EXPECT_EQ(ReplicaLagCause(s)->cause, LagCause::kReplayCpu);
  s.server_version_num = 120010;
  auto in = LagCauseInputOf(s);
  ASSERT_TRUE(in.has_value());
  EXPECT_TRUE(in->conflict_wait_unknown);
  EXPECT_FALSE(ReplicaLagCause(s).has_value());
}

TEST(LagCauseInputOf, WithoutAReceiverRowUsesTheReceivePosition) {
  InstanceSnapshot s = ReplicaWith(ReplayBlockers{});
  s.wal_receiver.reset();  // stream down
  auto in = LagCauseInputOf(s);
  ASSERT_TRUE(in.has_value());
  EXPECT_FALSE(in->streaming);
  EXPECT_EQ(in->flushed_lsn, 9000u);
  EXPECT_FALSE(in->written_lsn.has_value());
}

TEST(LagCauseInputOf, NothingForPrimariesOrAFailedCollector) {
  InstanceSnapshot p = fixtures::Primary("p");
  p.collectors = {{kReplayBlockersCollector, true, 0}};
  p.readings[kReplayBlockersCollector] = ReplayBlockers{};
  EXPECT_FALSE(LagCauseInputOf(p).has_value());

  InstanceSnapshot r = ReplicaWith(ReplayBlockers{});
  r.collectors.back().ok = false;
  EXPECT_FALSE(LagCauseInputOf(r).has_value());
  EXPECT_FALSE(ReplicaLagCause(r).has_value());

  InstanceSnapshot none = ReplicaWith(ReplayBlockers{});
  none.readings.clear();
  EXPECT_FALSE(LagCauseInputOf(none).has_value());
}

}  // namespace
}  // namespace pgrepl
