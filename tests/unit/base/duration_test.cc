// Tests for exporter/duration.
#include "exporter/base/duration.h"

#include <gtest/gtest.h>

namespace pgrepl {
namespace {

using std::chrono::milliseconds;

TEST(ParseDuration, Units) {
  EXPECT_EQ(ParseDuration("500ms").value(), milliseconds(500));
  EXPECT_EQ(ParseDuration("2s").value(), milliseconds(2000));
  EXPECT_EQ(ParseDuration("1.5s").value(), milliseconds(1500));
  EXPECT_EQ(ParseDuration("1m30s").value(), milliseconds(90000));
  EXPECT_EQ(ParseDuration("1h").value(), milliseconds(3600000));
  EXPECT_EQ(ParseDuration("0").value(), milliseconds(0));
  EXPECT_EQ(ParseDuration("0s").value(), milliseconds(0));
}

TEST(ParseDuration, RejectsBadInput) {
  for (const char* bad : {"", "1", "s", "-1s", "1x", "1 s", "1.2.3s", ".s",
                          "1s2", "9999999999999999s", "200h"}) {
    auto r = ParseDuration(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().kind(), Status::Kind::kInvalid);
      EXPECT_EQ(r.status().message().find('\n'), std::string::npos);
    }
  }
}

TEST(FormatDuration, RoundTrips) {
  for (long long ms : {0LL, 250LL, 1000LL, 1500LL, 60000LL, 90000LL}) {
    auto text = FormatDuration(milliseconds(ms));
    EXPECT_EQ(ParseDuration(text).value(), milliseconds(ms)) << text;
  }
  EXPECT_EQ(FormatDuration(milliseconds(2000)), "2s");
  EXPECT_EQ(FormatDuration(milliseconds(120000)), "2m");
}

}  // namespace
}  // namespace pgrepl
