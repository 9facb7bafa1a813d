// Tests for exporter/base/units: the number scanner shared by the duration,
// size and lag-limit parsers.
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

}  // namespace
}  // namespace pgrepl
