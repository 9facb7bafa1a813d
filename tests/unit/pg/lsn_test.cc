// Tests for exporter/lsn: textual pg_lsn to bytes.
#include "exporter/pg/lsn.h"

#include <gtest/gtest.h>

namespace pgrepl {
namespace {

TEST(ParseLsn, TypicalValue) {
  EXPECT_EQ(ParseLsn("16/B374D848"), 0x16B374D848ull);
  EXPECT_EQ(ParseLsn("16/B374D848").value(), 97500059720ull);
}

TEST(ParseLsn, Extremes) {
  EXPECT_EQ(ParseLsn("0/0"), 0ull);
  EXPECT_EQ(ParseLsn("0/1"), 1ull);
  EXPECT_EQ(ParseLsn("1/0"), 1ull << 32);
  EXPECT_EQ(ParseLsn("FFFFFFFF/FFFFFFFF"), UINT64_MAX);
  EXPECT_EQ(ParseLsn("ffffffff/fffffffe"), UINT64_MAX - 1);
  EXPECT_EQ(ParseLsn("80000000/0"), 1ull << 63);
}

TEST(ParseLsn, DifferenceIsBytes) {
  // One 16 MiB WAL segment apart.
  EXPECT_EQ(*ParseLsn("0/2000000") - *ParseLsn("0/1000000"), 16u << 20);
  // Crossing the 32-bit boundary.
  EXPECT_EQ(*ParseLsn("1/10") - *ParseLsn("0/FFFFFFF0"), 0x20u);
}

TEST(ParseLsn, RejectsGarbage) {
  for (const char* bad :
       {"", "/", "16", "16/", "/B3", "G/0", "0/G", "123456789/0", "0/123456789",
        "1/2/3", " 1/2", "1/2 ", "-1/0", "0x1/0"}) {
    EXPECT_FALSE(ParseLsn(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace pgrepl
