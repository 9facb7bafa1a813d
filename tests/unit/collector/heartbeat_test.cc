// Tests for exporter/collector/heartbeat: the read row.
#include "exporter/collector/heartbeat.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace pgrepl {
namespace {

Rows SeqRows(std::initializer_list<std::optional<std::string>> cells) {
  Rows r;
  r.columns = {"seq"};
  for (const auto& c : cells) r.values.push_back({c});
  return r;
}

TEST(ParseHeartbeatRow, OneRowWithSeq) {
  EXPECT_EQ(ParseHeartbeatRow(SeqRows({"1795752286210"})), 1795752286210);
  EXPECT_EQ(ParseHeartbeatRow(SeqRows({"0"})), 0);
}

TEST(ParseHeartbeatRow, NoRowYet) {
  EXPECT_FALSE(ParseHeartbeatRow(SeqRows({})).has_value());
  EXPECT_FALSE(ParseHeartbeatRow(Rows{}).has_value());
}

TEST(ParseHeartbeatRow, NullOrGarbageIsNotZero) {
  EXPECT_FALSE(ParseHeartbeatRow(SeqRows({std::nullopt})).has_value());
  EXPECT_FALSE(ParseHeartbeatRow(SeqRows({""})).has_value());
  EXPECT_FALSE(ParseHeartbeatRow(SeqRows({"12x"})).has_value());
}

TEST(ParseHeartbeatRow, MissingColumnIsNotZero) {
  Rows r;
  r.columns = {"written_at"};
  r.values = {{std::string("2026-01-01 00:00:00+00")}};
  EXPECT_FALSE(ParseHeartbeatRow(r).has_value());
}

TEST(ParseHeartbeatRow, MoreThanOneRowIsAmbiguous) {
  EXPECT_FALSE(ParseHeartbeatRow(SeqRows({"1", "2"})).has_value());
}

}  // namespace
}  // namespace pgrepl
