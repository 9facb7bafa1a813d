// Tests for exporter/position_history: interpolation, staleness, sources.
#include "exporter/model/position_history.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace pgrepl {
namespace {

using Clock = PositionHistory::Clock;
using std::chrono::seconds;

// A fixed origin so tests never depend on the real clock.
const Clock::time_point kT0 = Clock::time_point() + std::chrono::hours(1);

Clock::time_point At(double s) {
  return kT0 + std::chrono::duration_cast<Clock::duration>(
                   std::chrono::duration<double>(s));
}

double SecondsAfterT0(Clock::time_point t) {
  return std::chrono::duration<double>(t - kT0).count();
}

constexpr auto kKeep = seconds(10);
constexpr auto kMaxAge = seconds(10);

TEST(PositionHistory, EmptyHistoryKnowsNothing) {
  PositionHistory h;
  EXPECT_FALSE(h.Estimate(0, At(0), kMaxAge).has_value());
  EXPECT_FALSE(h.Estimate(100, At(5), kMaxAge).has_value());
}

TEST(PositionHistory, InterpolatesBetweenSamples) {
  PositionHistory h;
  h.Record("p", At(0), 0, kKeep);
  h.Record("p", At(1), 1000, kKeep);
  auto b = h.Estimate(500, At(1), kMaxAge);
  ASSERT_TRUE(b.has_value());
  EXPECT_FALSE(b->caught_up);
  EXPECT_FALSE(b->lower_bound);
  EXPECT_EQ(b->latest, 1000u);
  EXPECT_NEAR(SecondsAfterT0(b->since), 0.5, 1e-6);

  b = h.Estimate(250, At(1), kMaxAge);
  ASSERT_TRUE(b.has_value());
  EXPECT_NEAR(SecondsAfterT0(b->since), 0.25, 1e-6);

  // Exactly at a sample: the primary passed it at that sample's time.
  b = h.Estimate(0, At(1), kMaxAge);
  ASSERT_TRUE(b.has_value());
  EXPECT_NEAR(SecondsAfterT0(b->since), 0.0, 1e-6);
  EXPECT_FALSE(b->lower_bound);
}

TEST(PositionHistory, InterpolatesInTheRightInterval) {
  PositionHistory h;
  h.Record("p", At(0), 100, kKeep);
  h.Record("p", At(2), 300, kKeep);
  h.Record("p", At(3), 1300, kKeep);
  h.Record("p", At(5), 1500, kKeep);
  auto b = h.Estimate(800, At(5), kMaxAge);  // halfway between 300 and 1300
  ASSERT_TRUE(b.has_value());
  EXPECT_NEAR(SecondsAfterT0(b->since), 2.5, 1e-6);
  EXPECT_EQ(b->latest, 1500u);
  b = h.Estimate(200, At(5), kMaxAge);
  ASSERT_TRUE(b.has_value());
  EXPECT_NEAR(SecondsAfterT0(b->since), 1.0, 1e-6);
}

TEST(PositionHistory, CaughtUp) {
  PositionHistory h;
  h.Record("p", At(0), 0, kKeep);
  h.Record("p", At(1), 1000, kKeep);
  for (uint64_t applied : {1000u, 1001u, 5000u}) {
    auto b = h.Estimate(applied, At(2), kMaxAge);
    ASSERT_TRUE(b.has_value());
    EXPECT_TRUE(b->caught_up) << applied;
    EXPECT_FALSE(b->lower_bound);
    EXPECT_EQ(b->latest, 1000u);
  }
  auto b = h.Estimate(999, At(2), kMaxAge);
  ASSERT_TRUE(b.has_value());
  EXPECT_FALSE(b->caught_up);
}

TEST(PositionHistory, OlderThanOldestSampleIsALowerBound) {
  PositionHistory h;
  h.Record("p", At(10), 5000, kKeep);
  h.Record("p", At(11), 6000, kKeep);
  auto b = h.Estimate(100, At(11), kMaxAge);
  ASSERT_TRUE(b.has_value());
  EXPECT_FALSE(b->caught_up);
  EXPECT_TRUE(b->lower_bound);
  EXPECT_NEAR(SecondsAfterT0(b->since), 10.0, 1e-6);
  EXPECT_EQ(b->latest, 6000u);
}

TEST(PositionHistory, SingleSample) {
  PositionHistory h;
  h.Record("p", At(0), 1000, kKeep);
  auto b = h.Estimate(1000, At(1), kMaxAge);
  ASSERT_TRUE(b.has_value());
  EXPECT_TRUE(b->caught_up);
  b = h.Estimate(10, At(1), kMaxAge);
  ASSERT_TRUE(b.has_value());
  EXPECT_TRUE(b->lower_bound);
  EXPECT_NEAR(SecondsAfterT0(b->since), 0.0, 1e-6);
}

TEST(PositionHistory, StaleHistoryIsUnknown) {
  PositionHistory h;
  h.Record("p", At(0), 0, kKeep);
  h.Record("p", At(1), 1000, kKeep);
  EXPECT_TRUE(h.Estimate(500, At(11), kMaxAge).has_value());  // exactly max_age
  EXPECT_FALSE(h.Estimate(500, At(11.5), kMaxAge).has_value());
  // Even a caught-up replica gets no answer from a stale history.
  EXPECT_FALSE(h.Estimate(1000, At(30), kMaxAge).has_value());
  // A fresh sample revives it.
  h.Record("p", At(30), 1000, kKeep);
  EXPECT_TRUE(h.Estimate(1000, At(30), kMaxAge).has_value());
}

TEST(PositionHistory, IdleRunKeepsFirstAndLatestTime) {
  PositionHistory h;
  for (int s = 0; s <= 3; ++s) h.Record("p", At(s), 100, kKeep);
  h.Record("p", At(4), 200, kKeep);
  // The primary was at 100 until at least 3 s and at 200 by 4 s.
  auto b = h.Estimate(100, At(4), kMaxAge);
  ASSERT_TRUE(b.has_value());
  EXPECT_FALSE(b->caught_up);
  EXPECT_FALSE(b->lower_bound);
  EXPECT_GE(SecondsAfterT0(b->since), 3.0 - 1e-6);
  EXPECT_LE(SecondsAfterT0(b->since), 4.0 + 1e-6);
  b = h.Estimate(150, At(4), kMaxAge);
  ASSERT_TRUE(b.has_value());
  EXPECT_NEAR(SecondsAfterT0(b->since), 3.5, 1e-6);
  // Below the idle run, the first time of the run is still known.
  b = h.Estimate(50, At(4), kMaxAge);
  ASSERT_TRUE(b.has_value());
  EXPECT_TRUE(b->lower_bound);
  EXPECT_NEAR(SecondsAfterT0(b->since), 0.0, 1e-6);
}

TEST(PositionHistory, LongIdleRunDoesNotFillTheHistory) {
  PositionHistory h(PositionHistory::Progress::kContinuous, 4);
  h.Record("p", At(0), 50, kKeep);
  for (int s = 1; s <= 100; ++s) h.Record("p", At(s), 100, kKeep);
  h.Record("p", At(101), 200, kKeep);
  // With capacity 4, the sample at 50 survives only if the idle run was
  // collapsed to its first and latest time.
  auto b = h.Estimate(75, At(101), kMaxAge);
  ASSERT_TRUE(b.has_value());
  EXPECT_FALSE(b->lower_bound);
  EXPECT_NEAR(SecondsAfterT0(b->since), 0.5, 1e-6);
  b = h.Estimate(100, At(101), kMaxAge);
  ASSERT_TRUE(b.has_value());
  EXPECT_NEAR(SecondsAfterT0(b->since), 100.0, 1e-6);
}

TEST(PositionHistory, AnotherSourceIgnoredWhileCurrentIsFresh) {
  PositionHistory h;
  h.Record("a", At(0), 1000, kKeep);
  h.Record("a", At(1), 2000, kKeep);
  // Split brain: "b" reports a lower position; "a" stays the reference.
  h.Record("b", At(2), 10, kKeep);
  h.Record("b", At(10.5), 20, kKeep);
  auto b = h.Estimate(1500, At(10.5), kMaxAge);
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->latest, 2000u);
  EXPECT_NEAR(SecondsAfterT0(b->since), 0.5, 1e-6);
  // "a" keeps reporting and is accepted.
  h.Record("a", At(11), 3000, kKeep);
  b = h.Estimate(3000, At(11), kMaxAge);
  ASSERT_TRUE(b.has_value());
  EXPECT_TRUE(b->caught_up);
  EXPECT_EQ(b->latest, 3000u);
}

TEST(PositionHistory, AnotherSourceAcceptedOnceCurrentIsStale) {
  PositionHistory h;
  h.Record("a", At(0), 1000, kKeep);
  h.Record("a", At(1), 2000, kKeep);
  h.Record("b", At(11), 10, kKeep);  // 10 s after "a" last reported
  auto b = h.Estimate(10, At(11), kMaxAge);
  ASSERT_TRUE(b.has_value());
  EXPECT_TRUE(b->caught_up);
  EXPECT_EQ(b->latest, 10u);
  // The old primary's samples are gone, not mixed in.
  h.Record("b", At(12), 20, kKeep);
  b = h.Estimate(5, At(12), kMaxAge);
  ASSERT_TRUE(b.has_value());
  EXPECT_TRUE(b->lower_bound);
  EXPECT_NEAR(SecondsAfterT0(b->since), 11.0, 1e-6);
  // And now "a" is the one ignored.
  h.Record("a", At(13), 5000, kKeep);
  b = h.Estimate(20, At(13), kMaxAge);
  ASSERT_TRUE(b.has_value());
  EXPECT_TRUE(b->caught_up);
  EXPECT_EQ(b->latest, 20u);
}

TEST(PositionHistory, PositionDecreaseResets) {
  PositionHistory h;
  h.Record("p", At(0), 1000, kKeep);
  h.Record("p", At(1), 2000, kKeep);
  h.Record("p", At(2), 500, kKeep);  // same name, restored from a backup
  auto b = h.Estimate(500, At(2), kMaxAge);
  ASSERT_TRUE(b.has_value());
  EXPECT_TRUE(b->caught_up);
  EXPECT_EQ(b->latest, 500u);
  b = h.Estimate(100, At(2), kMaxAge);
  ASSERT_TRUE(b.has_value());
  EXPECT_TRUE(b->lower_bound);
  EXPECT_NEAR(SecondsAfterT0(b->since), 2.0, 1e-6);
}

TEST(PositionHistory, CapacityDropsTheOldest) {
  PositionHistory h(PositionHistory::Progress::kContinuous, 3);
  for (int i = 0; i < 6; ++i) h.Record("p", At(i), 1000u * (i + 1), kKeep);
  // Kept: (3 s, 4000), (4 s, 5000), (5 s, 6000).
  auto b = h.Estimate(3500, At(5), kMaxAge);
  ASSERT_TRUE(b.has_value());
  EXPECT_TRUE(b->lower_bound);
  EXPECT_NEAR(SecondsAfterT0(b->since), 3.0, 1e-6);
  b = h.Estimate(4500, At(5), kMaxAge);
  ASSERT_TRUE(b.has_value());
  EXPECT_FALSE(b->lower_bound);
  EXPECT_NEAR(SecondsAfterT0(b->since), 3.5, 1e-6);
  EXPECT_EQ(b->latest, 6000u);
}

TEST(PositionHistory, SinceIsNeverAfterTheLatestSample) {
  PositionHistory h;
  h.Record("p", At(0), 0, kKeep);
  h.Record("p", At(1), 1000, kKeep);
  h.Record("p", At(2), 1000000, kKeep);
  for (uint64_t applied : {0u, 1u, 999u, 1000u, 1001u, 999999u}) {
    auto b = h.Estimate(applied, At(3), kMaxAge);
    ASSERT_TRUE(b.has_value());
    EXPECT_LE(b->since, At(2)) << applied;
    EXPECT_GE(b->since, At(0)) << applied;
  }
}

}  // namespace
}  // namespace pgrepl

namespace pgrepl {
namespace {

// Heartbeats are single writes at their sample times: a replica that sees
// heartbeat N-1 is behind since heartbeat N was written, not since N-1.
TEST(PositionHistoryDiscrete, SinceIsTheFirstUnseenWrite) {
  using Clock = PositionHistory::Clock;
  const Clock::time_point t0 = Clock::time_point() + std::chrono::hours(1);
  PositionHistory h(PositionHistory::Progress::kDiscrete);
  const auto keep = std::chrono::seconds(5);
  h.Record("p", t0, 1000, keep);
  h.Record("p", t0 + std::chrono::seconds(1), 2000, keep);
  h.Record("p", t0 + std::chrono::seconds(2), 3000, keep);
  auto b = h.Estimate(2000, t0 + std::chrono::milliseconds(2100),
                      std::chrono::seconds(10));
  ASSERT_TRUE(b.has_value());
  EXPECT_FALSE(b->caught_up);
  EXPECT_EQ(b->since, t0 + std::chrono::seconds(2));
  b = h.Estimate(3000, t0 + std::chrono::milliseconds(2100),
                 std::chrono::seconds(10));
  EXPECT_TRUE(b->caught_up);
}

TEST(PositionHistory, LatestIsTheNewestSampleHoweverOld) {
  PositionHistory h;
  EXPECT_FALSE(h.Latest().has_value());
  const auto t0 = PositionHistory::Clock::time_point(std::chrono::hours(1));
  h.Record("p", t0, 100, std::chrono::seconds(5));
  h.Record("p", t0 + std::chrono::seconds(1), 250, std::chrono::seconds(5));
  ASSERT_TRUE(h.Latest().has_value());
  EXPECT_EQ(h.Latest()->position, 250u);
  EXPECT_EQ(h.Latest()->t, t0 + std::chrono::seconds(1));
  // Estimate forgets an old history; Latest still knows the last position.
  EXPECT_FALSE(
      h.Estimate(250, t0 + std::chrono::hours(1), std::chrono::seconds(5))
          .has_value());
  EXPECT_EQ(h.Latest()->position, 250u);
}

TEST(PrimaryReach, UnreachableSinceTheFirstFailureOfAnOutage) {
  PrimaryReach reach;
  EXPECT_FALSE(reach.Get().watched);
  const auto t0 = PrimaryReach::Clock::time_point(std::chrono::hours(1));
  reach.Record(true, t0);
  EXPECT_TRUE(reach.Get().watched);
  EXPECT_TRUE(reach.Get().reachable);
  EXPECT_FALSE(reach.Get().unreachable_since.has_value());
  reach.Record(false, t0 + std::chrono::seconds(1));
  reach.Record(false, t0 + std::chrono::seconds(2));
  EXPECT_FALSE(reach.Get().reachable);
  EXPECT_EQ(reach.Get().unreachable_since, t0 + std::chrono::seconds(1));
  reach.Record(true, t0 + std::chrono::seconds(3));
  EXPECT_TRUE(reach.Get().reachable);
  EXPECT_FALSE(reach.Get().unreachable_since.has_value());

  PrimaryReach never;
  never.Record(false, t0);
  EXPECT_EQ(never.Get().unreachable_since, t0) << "down from the start";
}

}  // namespace
}  // namespace pgrepl
