// Tests for exporter/process_stats.
#include "exporter/metrics/process_stats.h"

#include <gtest/gtest.h>

namespace pgrepl {
namespace {

TEST(ParseProcStat, ReadsFieldsAfterCommandName) {
  // Command names may hold spaces and parentheses.
  std::string stat =
      "4242 (pg (repl) x) S 1 4242 4242 0 -1 4194560 500 0 0 0 "
      "250 150 0 0 20 0 9 0 1000 123456789 2048 18446744073709551615";
  auto s = ParseProcStat(stat, 100, 4096, 1700000000.0);
  ASSERT_TRUE(s.has_value());
  EXPECT_DOUBLE_EQ(s->cpu_seconds, 4.0);
  EXPECT_DOUBLE_EQ(s->start_time_seconds, 1700000010.0);
  EXPECT_DOUBLE_EQ(s->virtual_bytes, 123456789.0);
  EXPECT_DOUBLE_EQ(s->resident_bytes, 2048.0 * 4096);
}

TEST(ParseProcStat, RejectsTruncated) {
  EXPECT_FALSE(ParseProcStat("", 100, 4096, 0).has_value());
  EXPECT_FALSE(ParseProcStat("1 (x) S 1 2 3", 100, 4096, 0).has_value());
}

TEST(ReadProcessStats, SelfIsPlausible) {
  auto s = ReadProcessStats();
  ASSERT_TRUE(s.has_value());
  EXPECT_GT(s->resident_bytes, 0);
  EXPECT_GE(s->open_fds, 3);
  EXPECT_GT(s->max_fds, s->open_fds);
}

}  // namespace
}  // namespace pgrepl
