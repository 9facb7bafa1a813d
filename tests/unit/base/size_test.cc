// Tests for exporter/size: ParseSize and FormatSize.
#include "exporter/base/size.h"

#include <gtest/gtest.h>

namespace pgrepl {
namespace {

TEST(ParseSize, PostgresUnitsAreBinary) {
  EXPECT_EQ(ParseSize("16MB").value(), 16u * 1024 * 1024);
  EXPECT_EQ(ParseSize("512kB").value(), 512u * 1024);
  EXPECT_EQ(ParseSize("1GB").value(), 1024u * 1024 * 1024);
  EXPECT_EQ(ParseSize("2TB").value(), 2ull * 1024 * 1024 * 1024 * 1024);
  EXPECT_EQ(ParseSize("100B").value(), 100u);
}

TEST(ParseSize, IecSpellingsAndBareBytes) {
  EXPECT_EQ(ParseSize("1KiB").value(), 1024u);
  EXPECT_EQ(ParseSize("3MiB").value(), 3u * 1024 * 1024);
  EXPECT_EQ(ParseSize("1GiB").value(), 1024u * 1024 * 1024);
  EXPECT_EQ(ParseSize("1048576").value(), 1048576u);
  EXPECT_EQ(ParseSize("0").value(), 0u);
}

TEST(ParseSize, FractionsRoundToBytes) {
  EXPECT_EQ(ParseSize("1.5kB").value(), 1536u);
  EXPECT_EQ(ParseSize("0.5MB").value(), 512u * 1024);
  EXPECT_EQ(ParseSize(".5kB").value(), 512u);
}

TEST(ParseSize, RejectsMalformedInput) {
  for (const char* bad : {"", "MB", "16 MB", "-1MB", "+1MB", "16mb", "16Mb",
                          "16M", "1.2.3kB", "16MBx", "1e3", "kB5", ".", "0x10",
                          "16MB ", "99999999999999999999999kB"}) {
    auto r = ParseSize(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) EXPECT_EQ(r.status().kind(), Status::Kind::kInvalid) << bad;
  }
}

TEST(ParseSize, RejectsMoreThanOnePebibyte) {
  EXPECT_TRUE(ParseSize("1024TB").ok());
  EXPECT_FALSE(ParseSize("1025TB").ok());
}

TEST(ParseSize, MessageQuotesBoundedPrintableInput) {
  std::string hostile(500, 'x');
  hostile[3] = '\n';
  auto r = ParseSize(hostile);
  ASSERT_FALSE(r.ok());
  EXPECT_LT(r.status().message().size(), 120u);
  EXPECT_EQ(r.status().message().find('\n'), std::string::npos);
}

TEST(FormatSize, LargestExactUnit) {
  EXPECT_EQ(FormatSize(0), "0B");
  EXPECT_EQ(FormatSize(1536), "1536B");
  EXPECT_EQ(FormatSize(512 * 1024), "512kB");
  EXPECT_EQ(FormatSize(16u * 1024 * 1024), "16MB");
  EXPECT_EQ(FormatSize(1024ull * 1024 * 1024 * 1024 * 1024), "1024TB");
}

TEST(FormatSize, RoundTrips) {
  for (const char* text : {"16MB", "512kB", "1GB", "100B", "3TB"}) {
    EXPECT_EQ(FormatSize(ParseSize(text).value()), text);
  }
}

}  // namespace
}  // namespace pgrepl
