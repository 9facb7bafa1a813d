// Tests for exporter/collector/values: typed readers for text cells.
#include "exporter/pg/values.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

namespace pgrepl {
namespace {

const Cell kNull = std::nullopt;

TEST(ParseBool, PostgresTextForms) {
  EXPECT_EQ(ParseBool(Cell("t")), true);
  EXPECT_EQ(ParseBool(Cell("f")), false);
}

TEST(ParseBool, NullAndGarbageAreUnknown) {
  EXPECT_FALSE(ParseBool(kNull).has_value());
  for (const char* bad :
       {"", "true", "false", "T", "F", "1", "0", "yes", " t", "t ", "tf"}) {
    EXPECT_FALSE(ParseBool(Cell(bad)).has_value()) << bad;
  }
}

TEST(ParseInt, WholeCellNumbers) {
  EXPECT_EQ(ParseInt(Cell("0")), 0);
  EXPECT_EQ(ParseInt(Cell("12")), 12);
  EXPECT_EQ(ParseInt(Cell("-7")), -7);
  EXPECT_EQ(ParseInt(Cell("150018")), 150018);
  EXPECT_EQ(ParseInt(Cell("9223372036854775807")),
            std::numeric_limits<int64_t>::max());
  EXPECT_EQ(ParseInt(Cell("-9223372036854775808")),
            std::numeric_limits<int64_t>::min());
}

TEST(ParseInt, RejectsPartialEmptyAndNull) {
  EXPECT_FALSE(ParseInt(kNull).has_value());
  for (const char* bad : {"", "12x", "x12", " 12", "12 ", "1.5", "1e3", "abc",
                          "-", "9223372036854775808", "0x10"}) {
    EXPECT_FALSE(ParseInt(Cell(bad)).has_value()) << bad;
  }
}

TEST(ParseDouble, FiniteNumbers) {
  EXPECT_EQ(ParseDouble(Cell("0")), 0.0);
  EXPECT_EQ(ParseDouble(Cell("0.412")), 0.412);
  EXPECT_EQ(ParseDouble(Cell("-1.5")), -1.5);
  EXPECT_EQ(ParseDouble(Cell("12")), 12.0);
  EXPECT_EQ(ParseDouble(Cell("1.5e3")), 1500.0);
  // extract(epoch FROM interval) output for a few microseconds.
  EXPECT_EQ(ParseDouble(Cell("0.000123")), 0.000123);
}

TEST(ParseDouble, RejectsNonFiniteAndGarbage) {
  EXPECT_FALSE(ParseDouble(kNull).has_value());
  for (const char* bad :
       {"", "nan", "NaN", "-nan", "inf", "-inf", "Infinity", "-Infinity",
        "1e999", "abc", "1.5x", "1.5 ", "x1.5", "."}) {
    EXPECT_FALSE(ParseDouble(Cell(bad)).has_value()) << bad;
  }
}

TEST(ParseLsnCell, ParsesTextLsn) {
  EXPECT_EQ(ParseLsnCell(Cell("0/3000148")), 0x3000148u);
  EXPECT_EQ(ParseLsnCell(Cell("16/B374D848")), 0x16B374D848ull);
  EXPECT_EQ(ParseLsnCell(Cell("0/0")), 0u);
}

TEST(ParseLsnCell, NullAndGarbageAreNotZero) {
  EXPECT_FALSE(ParseLsnCell(kNull).has_value());
  for (const char* bad : {"", "0", "0/", "/0", "0/3000148x", "garbage"}) {
    EXPECT_FALSE(ParseLsnCell(Cell(bad)).has_value()) << bad;
  }
}

TEST(TimelineFromWalFile, ReadsTheFirstEightHexDigits) {
  EXPECT_EQ(TimelineFromWalFile(Cell("000000010000000000000003")), 1u);
  EXPECT_EQ(TimelineFromWalFile(Cell("0000000A0000000000000003")), 10u);
  EXPECT_EQ(TimelineFromWalFile(Cell("0000000a0000000000000003")), 10u);
  EXPECT_EQ(TimelineFromWalFile(Cell("000000FF00000016000000B3")), 255u);
  EXPECT_EQ(TimelineFromWalFile(Cell("FFFFFFFF0000000000000001")), 0xFFFFFFFFu);
}

TEST(TimelineFromWalFile, RejectsNullWrongLengthAndGarbage) {
  EXPECT_FALSE(TimelineFromWalFile(kNull).has_value());
  for (const char* bad :
       {"", "00000001", "00000001000000000000003", "0000000100000000000000030",
        "0000000G0000000000000003", "-00000010000000000000003",
        " 00000010000000000000003"}) {
    EXPECT_FALSE(TimelineFromWalFile(Cell(bad)).has_value()) << bad;
  }
}

}  // namespace
}  // namespace pgrepl
