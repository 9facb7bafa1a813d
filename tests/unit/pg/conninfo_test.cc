// Tests for exporter/conninfo: parsing, redaction and target names.
#include "exporter/pg/conninfo.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <vector>

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

TEST(IsSecretKeyword, FollowsLibpqTable) {
  EXPECT_TRUE(IsSecretKeyword("password"));
  EXPECT_TRUE(IsSecretKeyword("sslpassword"));
  EXPECT_FALSE(IsSecretKeyword("host"));
  EXPECT_FALSE(IsSecretKeyword("passfile"));
  EXPECT_FALSE(IsSecretKeyword("sslkey"));
  // Every keyword libpq itself masks ('*') is one.
  PQconninfoOption* defaults = PQconndefaults();
  ASSERT_NE(defaults, nullptr);
  int masked = 0;
  for (PQconninfoOption* o = defaults; o->keyword; ++o) {
    if (o->dispchar && o->dispchar[0] == '*') {
      ++masked;
      EXPECT_TRUE(IsSecretKeyword(o->keyword)) << o->keyword;
    }
  }
  PQconninfoFree(defaults);
  EXPECT_GE(masked, 2);
}

// Every secret libpq accepts, in each way a conninfo can carry it.
TEST(RedactConninfo, HidesEverySecret) {
  const std::string s = kSecret;
  for (const std::string& conninfo : {
           "host=db sslpassword=" + s,
           "host=db sslpassword='" + s + " x'",
           "host=db password = " + s,
           "postgresql://mon:" + s + "@db/postgres?sslpassword=" + s,
           "postgresql://mon@db/postgres?sslpassword=" + s,
           "postgresql://mon@db/postgres?password=" + s,
           "postgresql://mon@db/postgres?pass%77ord=" + s,
           "postgres://:" + s + "@db",
           // A dbname may itself be a conninfo or a URI (libpq expands it).
           "host=db dbname='password=" + s + "'",
           "host=db dbname=postgresql://u:" + s + "@h/d",
           // A host that is a URI ends up in the target's name.
           "host=postgresql://u:" + s + "@h",
       }) {
    std::string r = RedactConninfo(conninfo);
    EXPECT_EQ(r.find(kSecret), std::string::npos) << conninfo << " -> " << r;
    EXPECT_NE(r, "<malformed conninfo>") << conninfo;
  }
  EXPECT_NE(RedactConninfo("host=db sslpassword=x").find("sslpassword=*****"),
            std::string::npos);
}

TEST(ScrubSecrets, FreeText) {
  const std::string s = kSecret;
  struct Case {
    std::string in;
    std::string want;
  };
  for (const Case& c : std::vector<Case>{
           {"not expected: postgresql://mon:" + s + "@db/postgres x",
            "not expected: postgresql://mon:*****@db/postgres x"},
           {"--primray=postgres://mon:" + s +
                "@db:5/p?sslmode=require&"
                "sslpassword=" +
                s,
            "--primray=postgres://mon:*****@db:5/p?sslmode=require&"
            "sslpassword=*****"},
           {"POSTGRESQL://u:" + s + "@h", "POSTGRESQL://u:*****@h"},
           {"host=x password='" + s + " b' user=m",
            "host=x password=***** user=m"},
           {"host=x PASSWORD=" + s, "host=x PASSWORD=*****"},
           {"a sslpassword =  " + s + "	b", "a sslpassword =  *****	b"},
           {"unterminated password='" + s, "unterminated password=*****"},
           {"no secrets: host=db port=5 password",
            "no secrets: host=db port=5 password"},
           {"x_password=keep mypassword=keep",
            "x_password=keep mypassword=keep"},
           {"postgresql://u@h/d", "postgresql://u@h/d"},
       }) {
    EXPECT_EQ(ScrubSecrets(c.in), c.want);
  }
}

TEST(ScrubArgument, UriRunsToTheEnd) {
  std::string arg = std::string("--x=postgresql://u:a ") + kSecret + "@h/d";
  EXPECT_EQ(ScrubArgument(arg), "--x=postgresql://u:*****@h/d");
  // In free text a later '@' still ends the password.
  EXPECT_EQ(ScrubSecrets("x " + arg + " y"),
            "x --x=postgresql://u:*****@h/d y");
  // A URI with no password keeps its text.
  EXPECT_EQ(ScrubSecrets("postgresql://h:5/d, then a@b"),
            "postgresql://h:5/d, then a@b");
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

// CheckConninfoValues' message for `conninfo`; "" when libpq would take it.
std::string ValueProblem(const std::string& conninfo) {
  auto parsed = ParseConninfo(conninfo);
  EXPECT_TRUE(parsed.ok()) << conninfo;
  if (!parsed.ok()) return "unparsed";
  Status s = CheckConninfoValues(parsed.value());
  return s.ok() ? "" : s.message();
}

TEST(CheckConninfoValues, AcceptsWhatLibpqAccepts) {
  for (const std::string& ok : {
           "host=a port=5432",
           "host=a port=' 5432 '",
           "host=a,b,c port=5432",
           "host=a,b port=5432,5433",
           "host=a,b port=,5433",
           "hostaddr=127.0.0.1,127.0.0.2 port=1,65535",
           "port=",
           "connect_timeout=10",
           "connect_timeout=0",
           "sslmode=disable",
           "sslmode=verify-full",
           "target_session_attrs=read-write",
           "target_session_attrs=prefer-standby",
           "gssencmode=disable channel_binding=prefer",
           "postgresql://u@a:7,b:8/d?sslmode=require&connect_timeout=3",
       }) {
    EXPECT_EQ(ValueProblem(ok), "") << ok;
  }
}

TEST(CheckConninfoValues, RejectsWhatLibpqRejectsOnConnect) {
  struct Case {
    std::string conninfo;
    std::string keyword;
  };
  for (const Case& c : std::vector<Case>{
           {"host=127.0.0.1 port=notaport", "port"},
           {"host=a port=0", "port"},
           {"host=a port=65536", "port"},
           {"host=a port=-1", "port"},
           {"host=a port=54x32", "port"},
           {"host=a,b port=5432,x", "port"},
           {"host=a,b port=1,2,3", "port"},
           {"host=a port=1,2", "port"},
           {"connect_timeout=soon", "connect_timeout"},
           {"connect_timeout=", "connect_timeout"},
           {"connect_timeout=1.5", "connect_timeout"},
           {"sslmode=required", "sslmode"},
           {"sslmode=", "sslmode"},
           {"sslmode=DISABLE", "sslmode"},
           {"target_session_attrs=readwrite", "target_session_attrs"},
           {"gssencmode=yes", "gssencmode"},
           {"channel_binding=on", "channel_binding"},
           {"postgresql://u@a:x/d", "port"},
           {"postgresql://u@a/d?sslmode=on", "sslmode"},
       }) {
    std::string problem = ValueProblem(c.conninfo);
    EXPECT_TRUE(problem.starts_with("bad " + c.keyword + " "))
        << c.conninfo << " -> " << problem;
  }
  EXPECT_EQ(ValueProblem("host=127.0.0.1 port=notaport"),
            "bad port \"notaport\": expected integers 1 to 65535, "
            "comma-separated");
}

TEST(CheckConninfoValues, NeverShowsThePassword) {
  std::string problem =
      ValueProblem(std::string("password=") + kSecret + " sslmode=x");
  EXPECT_FALSE(problem.empty());
  EXPECT_EQ(problem.find(kSecret), std::string::npos) << problem;
}

TEST(TargetName, DefaultsLikeLibpq) {
  EXPECT_EQ(TargetName(ParseConninfo("host=a port=5").value()), "a:5");
  EXPECT_EQ(TargetName(ParseConninfo("host=a").value()), "a:5432");
  EXPECT_EQ(TargetName(ParseConninfo("hostaddr=127.0.0.2").value()),
            "127.0.0.2:5432");
  EXPECT_EQ(TargetName(ParseConninfo("dbname=x").value()), "localhost:5432");
  EXPECT_EQ(TargetName(ParseConninfo("postgres://u@h:7/d").value()), "h:7");
  EXPECT_EQ(TargetName(ParseConninfo("host='password=x'").value()),
            "password=*****");
}

}  // namespace
}  // namespace pgrepl
