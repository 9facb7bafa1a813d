// Tests for exporter/conninfo: parsing, redaction and target names.
#include "exporter/pg/conninfo.h"

#include <gtest/gtest.h>

namespace pgrepl {
namespace {

constexpr char kSecret[] = "s3cr3t-Pa55";

TEST(RedactConninfo, KeywordForm) {
  std::string r = RedactConninfo(
      std::string("host=db port=5433 user=mon password=") + kSecret);
  EXPECT_EQ(r.find(kSecret), std::string::npos);
  EXPECT_NE(r.find("password=*****"), std::string::npos);
  EXPECT_NE(r.find("host=db"), std::string::npos);
  EXPECT_NE(r.find("port=5433"), std::string::npos);
}

TEST(RedactConninfo, UriForm) {
  std::string r = RedactConninfo(std::string("postgresql://mon:") + kSecret +
                                 "@db.example:6543/postgres?sslmode=require");
  EXPECT_EQ(r.find(kSecret), std::string::npos);
  EXPECT_NE(r.find("host=db.example"), std::string::npos);
  EXPECT_NE(r.find("port=6543"), std::string::npos);
  EXPECT_NE(r.find("sslmode=require"), std::string::npos);
}

TEST(RedactConninfo, QuotedPasswordWithSpaces) {
  std::string r = RedactConninfo("host=db password='a b c' user=x");
  EXPECT_EQ(r.find("a b c"), std::string::npos);
  EXPECT_NE(r.find("user=x"), std::string::npos);
}

TEST(RedactConninfo, MalformedInputIsNotEchoed) {
  std::string bad =
      std::string("host=db password='") + kSecret;  // unterminated
  EXPECT_EQ(RedactConninfo(bad), "<malformed conninfo>");
}

TEST(ParseConninfo, ErrorsNeverEchoSecrets) {
  for (std::string bad :
       {std::string("host=db password='") + kSecret,
        std::string("host=db ") + kSecret,
        std::string("host=db bogus=") + kSecret,
        std::string("postgresql://u:") + kSecret + "@h/db?bogus=" + kSecret}) {
    auto r = ParseConninfo(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().message().find(kSecret), std::string::npos)
        << r.status().message();
    EXPECT_EQ(r.status().message().find('\n'), std::string::npos);
  }
}

// Regression, found by tests/fuzz/fuzz_conninfo.cc: libpq quotes the input
// verbatim, so a '"' in it threw the old quote pairing off, and the text
// between two such quotes was echoed unscrubbed.
TEST(ParseConninfo, QuotesInsideTheInputDoNotUnscrubIt) {
  for (std::string bad :
       {std::string("postgresql://u:a\"") + kSecret + "\"b@[::1",
        std::string("postgresql://u@h/db?a=\"") + kSecret + "\"=b",
        std::string("postgresql://u@h/db?=\"") + kSecret + "\"",
        std::string("host=db x\"") + kSecret,
        std::string("host=db x\"") + kSecret + "=1"}) {
    auto r = ParseConninfo(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().message().find(kSecret), std::string::npos)
        << r.status().message();
  }
  auto r = ParseConninfo("host=db foo");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "malformed conninfo: missing \"=\" after \"foo\" in connection "
            "info string");
  r = ParseConninfo("postgresql://u@[::1");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(
                "matching \"]\" in IPv6 host address in URI: \"...\""),
            std::string::npos)
      << r.status().message();
}

TEST(ParseConninfo, KeepsKeywordNamesInErrors) {
  auto r = ParseConninfo("host=db passwrd=x");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("passwrd"), std::string::npos);
}

TEST(TargetName, DefaultsLikeLibpq) {
  EXPECT_EQ(TargetName(ParseConninfo("host=a port=5").value()), "a:5");
  EXPECT_EQ(TargetName(ParseConninfo("host=a").value()), "a:5432");
  EXPECT_EQ(TargetName(ParseConninfo("hostaddr=127.0.0.2").value()),
            "127.0.0.2:5432");
  EXPECT_EQ(TargetName(ParseConninfo("dbname=x").value()), "localhost:5432");
  EXPECT_EQ(TargetName(ParseConninfo("postgres://u@h:7/d").value()), "h:7");
}

}  // namespace
}  // namespace pgrepl
