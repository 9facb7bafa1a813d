// Tests for exporter/query_string: splitting and percent-decoding.
#include "exporter/http/query_string.h"

#include <gtest/gtest.h>

namespace pgrepl {
namespace {

TEST(ParseQueryString, SplitsAndDecodes) {
  auto r = ParseQueryString("instance=replica%201&max_lag=1s&cluster=a+b");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.value().size(), 3u);
  EXPECT_EQ(r.value()[0].key, "instance");
  EXPECT_EQ(r.value()[0].value, "replica 1");
  EXPECT_EQ(r.value()[1].value, "1s");
  EXPECT_EQ(r.value()[2].value, "a b");
}

TEST(ParseQueryString, EmptyPiecesAndBareKeys) {
  auto r = ParseQueryString("&&a=1&&b&c=&");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.value().size(), 3u);
  EXPECT_EQ(r.value()[1].key, "b");
  EXPECT_EQ(r.value()[1].value, "");
  EXPECT_EQ(r.value()[2].value, "");
  EXPECT_TRUE(ParseQueryString("").value().empty());
}

TEST(ParseQueryString, ValueMayHoldEquals) {
  auto r = ParseQueryString("a=b=c&%3D=%26");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value()[0].value, "b=c");
  EXPECT_EQ(r.value()[1].key, "=");
  EXPECT_EQ(r.value()[1].value, "&");
}

TEST(ParseQueryString, RejectsBadEscapes) {
  for (const char* bad : {"a=%", "a=%2", "a=%zz", "a=%00", "%g1=x", "a=1%"}) {
    EXPECT_FALSE(ParseQueryString(bad).ok()) << bad;
  }
}

TEST(ParseQueryString, BoundsParameterCountAndLength) {
  std::string many;
  for (size_t i = 0; i < kMaxQueryParams; ++i)
    many += "k" + std::to_string(i) + "=v&";
  EXPECT_TRUE(ParseQueryString(many).ok());
  auto r = ParseQueryString(many + "one=more");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("too many"), std::string::npos);
  std::string thousands;
  for (int i = 0; i < 5000; ++i) thousands += "x=1&";
  EXPECT_FALSE(ParseQueryString(thousands).ok());
  EXPECT_FALSE(
      ParseQueryString("a=" + std::string(kMaxQueryValueLength + 1, 'v')).ok());
  EXPECT_FALSE(
      ParseQueryString(std::string(kMaxQueryValueLength + 1, 'k') + "=1").ok());
}

}  // namespace
}  // namespace pgrepl
