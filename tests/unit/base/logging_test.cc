// Tests for exporter/logging: logfmt and JSON line formats.
#include "exporter/base/logging.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace pgrepl {
namespace {

TEST(FormatLogfmt, TextAndFields) {
  EXPECT_EQ(FormatLogfmt("T", "info",
                         "poll failed\x1f"
                         "cluster\x1f"
                         "c\x1f"
                         "instance\x1f"
                         "r1\x1f"
                         "err\x1f"
                         "connect: refused"),
            "ts=T level=info msg=\"poll failed\" cluster=c instance=r1 "
            "err=\"connect: refused\"");
  EXPECT_EQ(FormatLogfmt("T", "warn", "plain"), "ts=T level=warn msg=plain");
}

TEST(FormatLogfmt, EscapesQuotesAndNewlines) {
  std::string line = FormatLogfmt("T", "info", "a \"b\"\nc");
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_NE(line.find("\\\"b\\\""), std::string::npos);
}

TEST(FormatLogfmt, QuotesFieldValuesWithQuotes) {
  std::string line =
      FormatLogfmt("T", "warn",
                   "poll failed\x1f"
                   "err\x1f"
                   "connection to server at \"127.0.0.1\" failed");
  EXPECT_EQ(line,
            "ts=T level=warn msg=\"poll failed\" "
            "err=\"connection to server at \\\"127.0.0.1\\\" failed\"");
}

TEST(FormatJson, IsValidJsonWithFields) {
  auto j = nlohmann::json::parse(FormatJson("T", "error",
                                            "stopping\x1fsignal\x1f"
                                            "15\x1fnote\x1f"
                                            "a \"b\""));
  EXPECT_EQ(j["ts"], "T");
  EXPECT_EQ(j["level"], "error");
  EXPECT_EQ(j["msg"], "stopping");
  EXPECT_EQ(j["signal"], "15");
  EXPECT_EQ(j["note"], "a \"b\"");
}

}  // namespace
}  // namespace pgrepl
