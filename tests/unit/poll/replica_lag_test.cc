// Tests for exporter/replica_lag: the four rules of ComputeReplicaLag.
#include "exporter/poll/replica_lag.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>

namespace pgrepl {
namespace {

using Clock = PositionHistory::Clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

const Clock::time_point kNow = Clock::time_point() + std::chrono::hours(2);

PositionHistory::Behind CaughtUp(uint64_t latest) {
  PositionHistory::Behind b;
  b.caught_up = true;
  b.latest = latest;
  return b;
}

PositionHistory::Behind BehindSince(Clock::time_point since, uint64_t latest,
                                    bool lower_bound = false) {
  PositionHistory::Behind b;
  b.since = since;
  b.latest = latest;
  b.lower_bound = lower_bound;
  return b;
}

// A streaming replica that has replayed everything it received.
ReplicaLagInput Streaming(uint64_t lsn) {
  ReplicaLagInput in;
  in.streaming = true;
  in.receive_lsn = lsn;
  in.replay_lsn = lsn;
  in.now = kNow;
  return in;
}

// Rule 1.
TEST(ReplicaLag, IdleHealthyClusterIsZero) {
  ReplicaLagInput in = Streaming(1000);
  in.behind = CaughtUp(1000);
  in.last_healthy = kNow - seconds(1);
  ReplicaLag lag = ComputeReplicaLag(in);
  EXPECT_EQ(lag.seconds, 0.0);
  ASSERT_TRUE(lag.bytes.has_value());
  EXPECT_EQ(*lag.bytes, 0.0);
  EXPECT_TRUE(lag.healthy);
}

TEST(ReplicaLag, IdleHealthyWithoutEarlierHealthIsZero) {
  ReplicaLagInput in = Streaming(1000);
  in.behind = CaughtUp(1000);
  ReplicaLag lag = ComputeReplicaLag(in);
  EXPECT_EQ(lag.seconds, 0.0);
  EXPECT_TRUE(lag.healthy);
}

TEST(ReplicaLag, CaughtUpWithoutPrimaryReference) {
  // A cascaded replica whose upstream is not polled: streaming with
  // nothing left to replay is 0, but the byte lag is unknown.
  ReplicaLagInput in = Streaming(1000);
  ReplicaLag lag = ComputeReplicaLag(in);
  EXPECT_EQ(lag.seconds, 0.0);
  EXPECT_FALSE(lag.bytes.has_value());
  EXPECT_TRUE(lag.healthy);

  in.replay_lsn = 1200;  // replay past receive after a restart
  lag = ComputeReplicaLag(in);
  EXPECT_EQ(lag.seconds, 0.0);
  EXPECT_TRUE(lag.healthy);
}

TEST(ReplicaLag, ReplayBehindReceiveWithoutPrimaryIsUnknown) {
  ReplicaLagInput in = Streaming(1000);
  in.replay_lsn = 900;
  ReplicaLag lag = ComputeReplicaLag(in);
  EXPECT_TRUE(std::isnan(lag.seconds));
  EXPECT_FALSE(lag.bytes.has_value());
  EXPECT_FALSE(lag.healthy);
}

// Rule 2.
TEST(ReplicaLag, BehindIsTimeSincePrimaryPassedReplay) {
  ReplicaLagInput in = Streaming(1000);
  in.behind = BehindSince(kNow - milliseconds(2500), 5096);
  ReplicaLag lag = ComputeReplicaLag(in);
  EXPECT_DOUBLE_EQ(lag.seconds, 2.5);
  ASSERT_TRUE(lag.bytes.has_value());
  EXPECT_EQ(*lag.bytes, 4096.0);
  EXPECT_FALSE(lag.healthy);
}

TEST(ReplicaLag, ApplyDelayIsNowMinusSince) {
  // recovery_min_apply_delay: everything received, replay held back 5 min.
  ReplicaLagInput in;
  in.streaming = true;
  in.receive_lsn = 90000;
  in.replay_lsn = 10000;
  in.now = kNow;
  in.behind = BehindSince(kNow - seconds(300), 90000);
  in.last_healthy = kNow - seconds(600);
  ReplicaLag lag = ComputeReplicaLag(in);
  EXPECT_DOUBLE_EQ(lag.seconds, 300.0);
  EXPECT_EQ(lag.bytes, 80000.0);
  EXPECT_FALSE(lag.healthy);
}

TEST(ReplicaLag, LowerBoundIsStillTimeSince) {
  ReplicaLagInput in = Streaming(10);
  in.behind = BehindSince(kNow - seconds(120), 1000000, /*lower_bound=*/true);
  ReplicaLag lag = ComputeReplicaLag(in);
  EXPECT_DOUBLE_EQ(lag.seconds, 120.0);
  EXPECT_EQ(lag.bytes, 999990.0);
}

// Rule 3.
TEST(ReplicaLag, BrokenStreamOnIdlePrimaryIsNotZero) {
  // The history says caught up (nothing new was written), but the WAL
  // receiver is gone: the lag is the time since the replica was healthy.
  ReplicaLagInput in = Streaming(1000);
  in.streaming = false;
  in.behind = CaughtUp(1000);
  in.last_healthy = kNow - seconds(7);
  ReplicaLag lag = ComputeReplicaLag(in);
  EXPECT_DOUBLE_EQ(lag.seconds, 7.0);
  EXPECT_NE(lag.seconds, 0.0);
  EXPECT_FALSE(lag.healthy);
}

TEST(ReplicaLag, BrokenStreamGrowsWithTime) {
  ReplicaLagInput in = Streaming(1000);
  in.streaming = false;
  in.behind = CaughtUp(1000);
  in.last_healthy = kNow;
  double prev = -1;
  for (int s : {1, 2, 30, 600}) {
    in.now = kNow + seconds(s);
    ReplicaLag lag = ComputeReplicaLag(in);
    EXPECT_DOUBLE_EQ(lag.seconds, s);
    EXPECT_GT(lag.seconds, prev);
    prev = lag.seconds;
  }
}

TEST(ReplicaLag, BrokenStreamTakesTheLargerOfBothRules) {
  ReplicaLagInput in = Streaming(1000);
  in.streaming = false;
  in.behind = BehindSince(kNow - seconds(20), 2000);
  in.last_healthy = kNow - seconds(7);
  ReplicaLag lag = ComputeReplicaLag(in);
  EXPECT_DOUBLE_EQ(lag.seconds, 20.0);
  EXPECT_EQ(lag.bytes, 1000.0);

  in.behind = BehindSince(kNow - seconds(3), 2000);
  lag = ComputeReplicaLag(in);
  EXPECT_DOUBLE_EQ(lag.seconds, 7.0);
  EXPECT_FALSE(lag.healthy);
}

TEST(ReplicaLag, BrokenStreamWithPrimaryDown) {
  ReplicaLagInput in = Streaming(1000);
  in.streaming = false;
  in.last_healthy = kNow - seconds(45);
  ReplicaLag lag = ComputeReplicaLag(in);
  EXPECT_DOUBLE_EQ(lag.seconds, 45.0);
  EXPECT_FALSE(lag.bytes.has_value());
  EXPECT_FALSE(lag.healthy);
}

// Rule 4.
TEST(ReplicaLag, PrimaryUnknownAndNeverHealthyIsNaN) {
  ReplicaLagInput in = Streaming(1000);
  in.streaming = false;
  ReplicaLag lag = ComputeReplicaLag(in);
  EXPECT_TRUE(std::isnan(lag.seconds));
  EXPECT_FALSE(lag.bytes.has_value());
  EXPECT_FALSE(lag.healthy);
}

TEST(ReplicaLag, NoReplayPositionIgnoresTheHistory) {
  ReplicaLagInput in;
  in.streaming = true;
  in.now = kNow;
  in.behind = CaughtUp(1000);  // must not be used without replay_lsn
  ReplicaLag lag = ComputeReplicaLag(in);
  EXPECT_TRUE(std::isnan(lag.seconds));
  EXPECT_FALSE(lag.bytes.has_value());
  EXPECT_FALSE(lag.healthy);
}

TEST(ReplicaLag, StreamingWithoutReceivePositionAndNoPrimaryIsNaN) {
  ReplicaLagInput in = Streaming(1000);
  in.receive_lsn.reset();
  ReplicaLag lag = ComputeReplicaLag(in);
  EXPECT_TRUE(std::isnan(lag.seconds));
  EXPECT_FALSE(lag.healthy);
}

}  // namespace
}  // namespace pgrepl

namespace pgrepl {
namespace {

// A broken stream seen first after an exporter restart, on an idle
// primary: caught up in bytes, never seen healthy. Unknown, never 0.
TEST(ReplicaLagRegression, BrokenStreamNeverSeenHealthyIsNaN) {
  ReplicaLagInput in = Streaming(1000);
  in.streaming = false;
  in.behind = CaughtUp(1000);
  ReplicaLag lag = ComputeReplicaLag(in);
  EXPECT_TRUE(std::isnan(lag.seconds));
  EXPECT_FALSE(lag.healthy);
  ASSERT_TRUE(lag.bytes.has_value());
  EXPECT_EQ(*lag.bytes, 0.0);
}

// The primary's sample may be stamped after this poll's clock reading:
// the lag clamps to 0 but the replica, still behind in bytes, is not
// recorded as healthy.
TEST(ReplicaLagRegression, BehindWithFutureSinceIsNotHealthy) {
  ReplicaLagInput in = Streaming(1000);
  in.behind = BehindSince(kNow + milliseconds(3), 5000);
  ReplicaLag lag = ComputeReplicaLag(in);
  EXPECT_EQ(lag.seconds, 0.0);
  EXPECT_FALSE(lag.healthy);
  EXPECT_EQ(*lag.bytes, 4000.0);
}

}  // namespace
}  // namespace pgrepl
