// Tests for exporter/health: the /primary, /replica and /read-only rules
// as pure functions of a snapshot and its lag history.
#include "exporter/http/health.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace pgrepl {
namespace {

using WallClock = InstanceSnapshot::WallClock;
using std::chrono::seconds;

const WallClock::time_point kNow = WallClock::time_point(seconds(1700000000));
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

InstanceSnapshot Primary() {
  InstanceSnapshot s;
  s.cluster = "c";
  s.instance = "pg0";
  s.polled = true;
  s.up = true;
  s.polled_at = kNow - seconds(1);
  s.recovery = RecoveryInfo{};
  s.recovery->in_recovery = false;
  return s;
}

InstanceSnapshot Replica(double lag_seconds, double lag_bytes = 0,
                         const char* receiver = "streaming") {
  InstanceSnapshot s = Primary();
  s.instance = "pg1";
  s.recovery->in_recovery = true;
  s.wal_receiver_read = true;
  if (receiver != nullptr) {
    s.wal_receiver = WalReceiverInfo{};
    s.wal_receiver->status = receiver;
  }
  s.replica_lag_seconds = lag_seconds;
  s.replica_lag_bytes = lag_bytes;
  return s;
}

// A history ending with `s` itself, preceded by `before` (oldest first).
LagWindow History(const InstanceSnapshot& s,
                  std::initializer_list<double> before) {
  LagWindow w;
  for (double lag : before) {
    LagSample sample;
    sample.seconds = lag;
    sample.bytes = std::isnan(lag) ? std::optional<double>() : lag * 1000;
    w.Push(sample);
  }
  w.Push(LagWindow::SampleOf(s));
  return w;
}

LagLimit Seconds(double v) {
  LagLimit l;
  l.kind = LagLimit::Kind::kSeconds;
  l.value = v;
  l.text = "limit";
  return l;
}

LagLimit Bytes(double v) {
  LagLimit l;
  l.kind = LagLimit::Kind::kBytes;
  l.value = v;
  l.text = "blimit";
  return l;
}

HealthVerdict Decide(HealthCheck check, const InstanceSnapshot& s,
                     const LagLimit& limit = Seconds(1),
                     std::initializer_list<double> before = {}) {
  HealthPolicy policy;
  return DecideHealth(check, s, History(s, before), limit, policy, kNow);
}

TEST(Health, PrimaryPassesOnlyPrimaryAndReadOnly) {
  InstanceSnapshot p = Primary();
  EXPECT_TRUE(Decide(HealthCheck::kPrimary, p).ok);
  EXPECT_TRUE(Decide(HealthCheck::kReadOnly, p).ok);
  HealthVerdict r = Decide(HealthCheck::kReplica, p);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.reason.find("c/pg0"), std::string::npos) << r.reason;
  EXPECT_NE(r.reason.find("primary"), std::string::npos) << r.reason;
}

TEST(Health, StreamingReplicaUnderLimit) {
  InstanceSnapshot r = Replica(0.2);
  EXPECT_FALSE(Decide(HealthCheck::kPrimary, r).ok);
  HealthVerdict v = Decide(HealthCheck::kReplica, r);
  EXPECT_TRUE(v.ok) << v.reason;
  EXPECT_NE(v.reason.find("0.200s"), std::string::npos) << v.reason;
  EXPECT_TRUE(Decide(HealthCheck::kReadOnly, r).ok);
}

TEST(Health, LagAtOrOverLimitFails) {
  EXPECT_FALSE(Decide(HealthCheck::kReplica, Replica(1.0)).ok);
  HealthVerdict v = Decide(HealthCheck::kReplica, Replica(3.2));
  EXPECT_FALSE(v.ok);
  EXPECT_NE(v.reason.find("3.200s"), std::string::npos) << v.reason;
  EXPECT_NE(v.reason.find("not under max_lag limit"), std::string::npos)
      << v.reason;
  EXPECT_FALSE(Decide(HealthCheck::kReadOnly, Replica(3.2)).ok);
  EXPECT_TRUE(Decide(HealthCheck::kReplica, Replica(3.2), Seconds(5)).ok);
}

TEST(Health, UnknownLagFails) {
  HealthVerdict v = Decide(HealthCheck::kReplica, Replica(kNaN));
  EXPECT_FALSE(v.ok);
  EXPECT_NE(v.reason.find("unknown"), std::string::npos) << v.reason;
  InstanceSnapshot absent = Replica(0);
  absent.replica_lag_seconds.reset();
  EXPECT_FALSE(Decide(HealthCheck::kReplica, absent).ok);
}

TEST(Health, ByteLimit) {
  EXPECT_TRUE(
      Decide(HealthCheck::kReplica, Replica(100, 1000), Bytes(4096)).ok);
  EXPECT_FALSE(Decide(HealthCheck::kReplica, Replica(0, 8192), Bytes(4096)).ok);
  InstanceSnapshot absent = Replica(0, 0);
  absent.replica_lag_bytes.reset();
  HealthVerdict v = Decide(HealthCheck::kReplica, absent, Bytes(4096));
  EXPECT_FALSE(v.ok);
  EXPECT_NE(v.reason.find("byte lag unknown"), std::string::npos) << v.reason;
}

TEST(Health, BrokenStreamFailsWhateverTheLagSays) {
  HealthVerdict none =
      Decide(HealthCheck::kReplica, Replica(0, 0, nullptr), Bytes(1e9));
  EXPECT_FALSE(none.ok);
  EXPECT_NE(none.reason.find("not running"), std::string::npos) << none.reason;
  HealthVerdict waiting =
      Decide(HealthCheck::kReplica, Replica(0, 0, "waiting"));
  EXPECT_FALSE(waiting.ok);
  EXPECT_NE(waiting.reason.find("waiting"), std::string::npos)
      << waiting.reason;
  EXPECT_FALSE(Decide(HealthCheck::kReadOnly, Replica(0, 0, "starting")).ok);
}

TEST(Health, ServingWithoutPrimaryPassesWithItsOwnReason) {
  // The stream is down and the lag (time since last caught up) is over
  // the limit, but no primary is reachable and the replica had replayed
  // all the primary wrote: reads cannot be stale.
  InstanceSnapshot r = Replica(12.0, 0, nullptr);
  r.primary_reachable = false;
  r.primary_last_seen_age_seconds = 12.3;
  r.serving_without_primary = true;
  for (HealthCheck check : {HealthCheck::kReplica, HealthCheck::kReadOnly}) {
    HealthVerdict v = Decide(check, r, Seconds(1), {kNaN, 40.0});
    EXPECT_TRUE(v.ok) << v.reason;
    EXPECT_NE(v.reason.find("serving without primary"), std::string::npos)
        << v.reason;
    EXPECT_NE(v.reason.find("12.3s ago"), std::string::npos) << v.reason;
  }
  EXPECT_FALSE(Decide(HealthCheck::kPrimary, r).ok);

  // The same replica while the primary is reachable: a broken stream.
  r.primary_reachable = true;
  r.serving_without_primary = false;
  HealthVerdict stale = Decide(HealthCheck::kReplica, r);
  EXPECT_FALSE(stale.ok);
  EXPECT_NE(stale.reason.find("not running"), std::string::npos)
      << stale.reason;
}

TEST(Health, DownOrUnpolledOrStaleFailsEverything) {
  InstanceSnapshot down = Primary();
  down.up = false;
  down.recovery.reset();
  down.last_error = "connect: refused\nsecond line";
  for (auto check :
       {HealthCheck::kPrimary, HealthCheck::kReplica, HealthCheck::kReadOnly}) {
    HealthVerdict v = Decide(check, down);
    EXPECT_FALSE(v.ok);
    EXPECT_NE(v.reason.find("down: connect: refused"), std::string::npos)
        << v.reason;
    EXPECT_EQ(v.reason.find('\n'), std::string::npos);
  }
  InstanceSnapshot fresh;
  fresh.cluster = "c";
  fresh.instance = "new";
  EXPECT_NE(Decide(HealthCheck::kPrimary, fresh).reason.find("not polled yet"),
            std::string::npos);
  InstanceSnapshot stale = Primary();
  stale.polled_at = kNow - seconds(60);
  HealthVerdict v = Decide(HealthCheck::kPrimary, stale);
  EXPECT_FALSE(v.ok);
  EXPECT_NE(v.reason.find("stalled"), std::string::npos) << v.reason;
}

TEST(Health, RecoveryNeedsEveryRecentPollUnderTheLimit) {
  // Lag fell under the limit only now: still failing (anti-flap).
  HealthVerdict v =
      Decide(HealthCheck::kReplica, Replica(0.1), Seconds(1), {3.0, 2.0});
  EXPECT_FALSE(v.ok);
  EXPECT_NE(v.reason.find("last 3 polls"), std::string::npos) << v.reason;
  // One good poll before this one, one bad before that: still failing.
  EXPECT_FALSE(
      Decide(HealthCheck::kReplica, Replica(0.1), Seconds(1), {3.0, 0.2}).ok);
  // Two good polls before this one: passes; older failures are forgotten.
  EXPECT_TRUE(Decide(HealthCheck::kReplica, Replica(0.1), Seconds(1),
                     {5.0, 5.0, 0.3, 0.2})
                  .ok);
  // An unknown lag in the window counts as a failure.
  EXPECT_FALSE(
      Decide(HealthCheck::kReplica, Replica(0.1), Seconds(1), {kNaN, 0.2}).ok);
  // The window applies to byte limits too.
  EXPECT_FALSE(
      Decide(HealthCheck::kReplica, Replica(0, 100), Bytes(1000), {5.0, 0}).ok);
}

TEST(Health, ShortHistoryUsesWhatThereIs) {
  // Right after start the window holds only the current poll.
  EXPECT_TRUE(Decide(HealthCheck::kReplica, Replica(0.1)).ok);
}

TEST(Health, StablePollsOfOneDisablesTheWindow) {
  HealthPolicy policy;
  policy.stable_polls = 1;
  InstanceSnapshot r = Replica(0.1);
  EXPECT_TRUE(DecideHealth(HealthCheck::kReplica, r, History(r, {9.0, 9.0}),
                           Seconds(1), policy, kNow)
                  .ok);
}

TEST(Health, Names) {
  EXPECT_STREQ(HealthCheckName(HealthCheck::kPrimary), "primary");
  EXPECT_STREQ(HealthCheckName(HealthCheck::kReplica), "replica");
  EXPECT_STREQ(HealthCheckName(HealthCheck::kReadOnly), "read-only");
  EXPECT_EQ(FormatLag(1.23456, LagLimit::Kind::kSeconds), "1.235s");
  EXPECT_EQ(FormatLag(4096, LagLimit::Kind::kBytes), "4096B");
}

TEST(Health, UnreadableReceiverIsUnknownNotBroken) {
  InstanceSnapshot s = Replica(0.1);
  s.wal_receiver_read = false;  // the receiver query failed
  s.wal_receiver.reset();
  s.last_error =
      "query: pg_stat_wal_receiver: status is NULL: insufficient privilege";
  HealthVerdict v = DecideHealth(HealthCheck::kReplica, s, History(s, {}),
                                 Seconds(1), HealthPolicy{}, kNow);
  EXPECT_FALSE(v.ok);
  EXPECT_NE(v.reason.find("unknown"), std::string::npos) << v.reason;
  EXPECT_NE(v.reason.find("insufficient privilege"), std::string::npos);
  EXPECT_EQ(v.reason.find("broken"), std::string::npos) << v.reason;
}

}  // namespace
}  // namespace pgrepl
