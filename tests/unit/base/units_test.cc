// Tests for exporter/units: the number scanner and input quoting shared by
// the duration, size and lag-limit parsers.
#include "exporter/base/units.h"

#include <gtest/gtest.h>

namespace pgrepl {
namespace {

TEST(ScanDecimal, TakesDigitsAndOneDotThenStops) {
  struct Case {
    const char* text;
    const char* number;
  };
  for (const Case& c :
       {Case{"16MB", "16"}, Case{"1.5kB", "1.5"}, Case{".5s", ".5"},
        Case{"250", "250"}, Case{"1.2.3kB", "1.2"}, Case{"1e3", "1"},
        Case{"16 MB", "16"}, Case{"", ""}, Case{"kB", ""}, Case{"-1s", ""},
        Case{"+1MB", ""}, Case{".", "."}, Case{".s", "."}}) {
    EXPECT_EQ(ScanDecimal(c.text), c.number) << c.text;
  }
}

TEST(ScanDecimal, IsAPrefixOfItsInput) {
  std::string_view text = "12.5ms";
  std::string_view number = ScanDecimal(text);
  EXPECT_EQ(number.data(), text.data());
  EXPECT_EQ(text.substr(number.size()), "ms");
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

}  // namespace
}  // namespace pgrepl
