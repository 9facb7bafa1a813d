// Tests for exporter/lag_limit: durations or sizes as a lag limit.
#include "exporter/config/lag_limit.h"

#include <gtest/gtest.h>

namespace pgrepl {
namespace {

TEST(ParseLagLimit, Durations) {
  auto r = ParseLagLimit("500ms");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value().kind, LagLimit::Kind::kSeconds);
  EXPECT_DOUBLE_EQ(r.value().value, 0.5);
  EXPECT_EQ(r.value().text, "500ms");
  EXPECT_DOUBLE_EQ(ParseLagLimit("2s").value().value, 2);
  EXPECT_DOUBLE_EQ(ParseLagLimit("1m").value().value, 60);
  EXPECT_EQ(ParseLagLimit("1000ms").value().text, "1s");
}

TEST(ParseLagLimit, Sizes) {
  auto r = ParseLagLimit("16MB");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value().kind, LagLimit::Kind::kBytes);
  EXPECT_DOUBLE_EQ(r.value().value, 16.0 * 1024 * 1024);
  EXPECT_EQ(r.value().text, "16MB");
  EXPECT_DOUBLE_EQ(ParseLagLimit("512kB").value().value, 512.0 * 1024);
  EXPECT_DOUBLE_EQ(ParseLagLimit("1GB").value().value, 1024.0 * 1024 * 1024);
}

TEST(ParseLagLimit, BareNumberIsBytes) {
  auto r = ParseLagLimit("4096");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value().kind, LagLimit::Kind::kBytes);
  EXPECT_DOUBLE_EQ(r.value().value, 4096);
  EXPECT_EQ(r.value().text, "4kB");
}

TEST(ParseLagLimit, MinuteIsNotMegabyte) {
  EXPECT_EQ(ParseLagLimit("1m").value().kind, LagLimit::Kind::kSeconds);
  EXPECT_EQ(ParseLagLimit("1MB").value().kind, LagLimit::Kind::kBytes);
}

TEST(ParseLagLimit, RejectsZeroAndGarbage) {
  for (const char* bad : {"0", "0s", "0MB", "0ms", "", "abc", "-1s", "1 s",
                          "1sec", "1d", "s", "%00", "1s1MB"}) {
    auto r = ParseLagLimit(bad);
    EXPECT_FALSE(r.ok()) << bad;
  }
  auto r = ParseLagLimit("fast");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("duration"), std::string::npos);
  EXPECT_NE(r.status().message().find("size"), std::string::npos);
}

TEST(ParseLagLimit, DefaultIsFiveSeconds) {
  LagLimit d;
  EXPECT_EQ(d.kind, LagLimit::Kind::kSeconds);
  EXPECT_DOUBLE_EQ(d.value, 5);
  EXPECT_EQ(d.text, "5s");
}

}  // namespace
}  // namespace pgrepl
