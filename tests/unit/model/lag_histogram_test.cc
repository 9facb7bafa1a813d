// Tests for exporter/lag_histogram: cumulative buckets, sum and count.
#include "exporter/model/lag_histogram.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace pgrepl {
namespace {

// Cumulative count at upper bound `le`.
uint64_t CountAt(const LagHistogram& h, double le) {
  for (const auto& [bound, count] : h.Cumulative()) {
    if (bound == le) return count;
  }
  ADD_FAILURE() << "no bucket " << le;
  return 0;
}

TEST(LagHistogram, EmptyHasEveryBucketAtZero) {
  LagHistogram h;
  auto c = h.Cumulative();
  ASSERT_EQ(c.size(), LagHistogram::kBounds.size());
  for (size_t i = 0; i < c.size(); ++i) {
    EXPECT_EQ(c[i].first, LagHistogram::kBounds[i]);
    EXPECT_EQ(c[i].second, 0u);
  }
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.sum(), 0.0);
}

TEST(LagHistogram, BoundsAscend) {
  for (size_t i = 1; i < LagHistogram::kBounds.size(); ++i) {
    EXPECT_LT(LagHistogram::kBounds[i - 1], LagHistogram::kBounds[i]);
  }
}

TEST(LagHistogram, CountsAreCumulative) {
  LagHistogram h;
  for (double v : {0.0, 0.04, 0.3, 0.3, 2.5, 7.0, 45.0}) h.Observe(v);
  EXPECT_EQ(CountAt(h, 0.05), 2u);
  EXPECT_EQ(CountAt(h, 0.1), 2u);
  EXPECT_EQ(CountAt(h, 0.25), 2u);
  EXPECT_EQ(CountAt(h, 0.5), 4u);
  EXPECT_EQ(CountAt(h, 1), 4u);
  EXPECT_EQ(CountAt(h, 2), 4u);
  EXPECT_EQ(CountAt(h, 3), 5u);
  EXPECT_EQ(CountAt(h, 5), 5u);
  EXPECT_EQ(CountAt(h, 10), 6u);
  EXPECT_EQ(CountAt(h, 30), 6u);
  EXPECT_EQ(CountAt(h, 60), 7u);
  EXPECT_EQ(CountAt(h, 300), 7u);
  EXPECT_EQ(h.count(), 7u);
  EXPECT_DOUBLE_EQ(h.sum(), 0.0 + 0.04 + 0.3 + 0.3 + 2.5 + 7.0 + 45.0);
}

TEST(LagHistogram, UpperBoundIsInclusive) {
  LagHistogram h;
  h.Observe(0.5);
  h.Observe(1.0);
  h.Observe(300.0);
  EXPECT_EQ(CountAt(h, 0.25), 0u);
  EXPECT_EQ(CountAt(h, 0.5), 1u);
  EXPECT_EQ(CountAt(h, 1), 2u);
  EXPECT_EQ(CountAt(h, 120), 2u);
  EXPECT_EQ(CountAt(h, 300), 3u);
}

TEST(LagHistogram, AboveTheLargestBoundCountsOnlyInTotal) {
  LagHistogram h;
  h.Observe(301);
  h.Observe(3600);
  EXPECT_EQ(CountAt(h, 300), 0u);
  EXPECT_EQ(h.count(), 2u);  // the +Inf bucket
  EXPECT_DOUBLE_EQ(h.sum(), 3901.0);
}

TEST(LagHistogram, UnknownLagIsNotASample) {
  LagHistogram h;
  h.Observe(std::numeric_limits<double>::quiet_NaN());
  h.Observe(std::numeric_limits<double>::infinity());
  h.Observe(-std::numeric_limits<double>::infinity());
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.sum(), 0.0);
  EXPECT_FALSE(std::isnan(h.sum()));
  for (const auto& [bound, count] : h.Cumulative())
    EXPECT_EQ(count, 0u) << bound;

  h.Observe(1.5);
  h.Observe(std::nan(""));
  EXPECT_EQ(h.count(), 1u);
  EXPECT_DOUBLE_EQ(h.sum(), 1.5);
}

TEST(LagHistogram, NegativeCountsAsZero) {
  LagHistogram h;
  h.Observe(-3.0);
  h.Observe(-0.001);
  EXPECT_EQ(CountAt(h, 0.05), 2u);
  EXPECT_EQ(h.count(), 2u);
  EXPECT_EQ(h.sum(), 0.0);
}

TEST(LagHistogram, CopiesAreIndependentValues) {
  LagHistogram a;
  a.Observe(1);
  LagHistogram b = a;
  b.Observe(2);
  EXPECT_EQ(a.count(), 1u);
  EXPECT_EQ(b.count(), 2u);
  EXPECT_EQ(CountAt(a, 2), 1u);
  EXPECT_EQ(CountAt(b, 2), 2u);
}

}  // namespace
}  // namespace pgrepl
