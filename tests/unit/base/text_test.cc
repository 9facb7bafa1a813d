// Tests for exporter/base/text: one-line error text, quoting, scrubbing,
// file reads and timestamps.
#include "exporter/base/text.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <string>

namespace pgrepl {
namespace {

TEST(OneLine, JoinsLinesAndDropsTheTrailingNewline) {
  EXPECT_EQ(OneLine("connection refused\n\tIs the server running?\n"),
            "connection refused  Is the server running?");
  EXPECT_EQ(OneLine("a\r\nb"), "a  b");
  EXPECT_EQ(OneLine("  lead kept"), "  lead kept");
  EXPECT_EQ(OneLine("tail \n \r\t"), "tail");
}

TEST(OneLine, KeepsOtherBytes) {
  EXPECT_EQ(OneLine("caf\xc3\xa9 \x01"), "caf\xc3\xa9 \x01");
}

TEST(OneLine, EmptyIsUnknownError) {
  EXPECT_EQ(OneLine(""), "unknown error");
  EXPECT_EQ(OneLine("\n\n"), "unknown error");
  EXPECT_EQ(OneLine("abc", 0), "unknown error");
}

TEST(OneLine, AtMostMaxBytes) {
  EXPECT_EQ(OneLine(std::string(300, 'x'), 200), std::string(200, 'x'));
  EXPECT_EQ(OneLine("ab\ncd", 3), "ab ");
  EXPECT_EQ(OneLine(std::string(300, 'x')), std::string(300, 'x'));
}

TEST(QuoteInput, KeepsPrintableAscii) {
  EXPECT_EQ(QuoteInput("16MB"), "16MB");
  EXPECT_EQ(QuoteInput(""), "");
  EXPECT_EQ(QuoteInput("a \"b\" ~"), "a \"b\" ~");
}

TEST(QuoteInput, ReplacesTheRest) {
  EXPECT_EQ(QuoteInput(std::string_view("a\nb\tc\0d\x7f", 8)), "a?b?c?d?");
  EXPECT_EQ(QuoteInput("\xc3\xa9"), "??");
}

TEST(QuoteInput, AtMostFortyCharacters) {
  EXPECT_EQ(QuoteInput(std::string(40, 'x')), std::string(40, 'x'));
  EXPECT_EQ(QuoteInput(std::string(500, 'x')), std::string(40, 'x'));
}

TEST(QuoteInput, OtherLimitAndCutMark) {
  EXPECT_EQ(QuoteInput(std::string(64, 'x'), 64, true), std::string(64, 'x'));
  EXPECT_EQ(QuoteInput(std::string(65, 'x'), 64, true),
            std::string(64, 'x') + "...");
  EXPECT_EQ(QuoteInput("ab\n", 2, true), "ab...");
  EXPECT_EQ(QuoteInput("ab\n", 2, false), "ab");
}

TEST(ScrubControlChars, ReplacesC0AndDel) {
  EXPECT_EQ(ScrubControlChars(std::string_view("a\nb\tc\0d\x7f\x1f", 9)),
            "a?b?c?d??");
  EXPECT_EQ(ScrubControlChars("a\nb", ' '), "a b");
}

TEST(ScrubControlChars, KeepsPrintableAndUtf8) {
  EXPECT_EQ(ScrubControlChars("cluster \"caf\xc3\xa9\" ~"),
            "cluster \"caf\xc3\xa9\" ~");
  EXPECT_EQ(ScrubControlChars(""), "");
}

TEST(ReadFile, ReadsEveryByte) {
  char path[] = "/tmp/pgrepl_text_testXXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  const std::string content("line 1\n\0\xff\r\n", 11);
  ASSERT_EQ(write(fd, content.data(), content.size()),
            static_cast<ssize_t>(content.size()));
  close(fd);
  auto text = ReadFile(path);
  unlink(path);
  ASSERT_TRUE(text.ok()) << text.status().message();
  EXPECT_EQ(text.value(), content);
}

TEST(ReadFile, MissingFileNamesThePath) {
  auto text = ReadFile("/nonexistent/pgrepl/secret.txt");
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().kind(), Status::Kind::kIo);
  EXPECT_EQ(text.status().message(),
            "cannot read /nonexistent/pgrepl/secret.txt");
}

TEST(ReadableByOthersMode, GroupOrOtherReadBit) {
  char path[] = "/tmp/pgrepl_text_testXXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  struct Case {
    mode_t mode;
    unsigned want;
  };
  for (const Case& c : {Case{0600, 0}, Case{0700, 0}, Case{0640, 0640},
                        Case{0604, 0604}, Case{0644, 0644}, Case{0620, 0}}) {
    ASSERT_EQ(chmod(path, c.mode), 0);
    EXPECT_EQ(ReadableByOthersMode(path), c.want) << std::oct << c.mode;
  }
  unlink(path);
  EXPECT_EQ(ReadableByOthersMode(path), 0u);  // gone: nothing to warn about
}

TEST(FormatTimestamp, Rfc3339Utc) {
  auto t = std::chrono::system_clock::time_point(
      std::chrono::milliseconds(1700000000123LL));
  EXPECT_EQ(FormatTimestamp(t), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(FormatTimestamp(std::chrono::system_clock::time_point()),
            "1970-01-01T00:00:00.000Z");
}

}  // namespace
}  // namespace pgrepl
