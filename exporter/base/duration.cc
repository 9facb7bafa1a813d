// Parsing of human durations such as "500ms", "2s", "1m30s".
#include "exporter/base/duration.h"

#include <cctype>
#include <cmath>

#include "exporter/base/units.h"

namespace pgrepl {
namespace {

constexpr double kMaxMillis = 7.0 * 24 * 3600 * 1000;

// Milliseconds per unit, or 0 when the unit is unknown.
double UnitMillis(std::string_view unit) {
  if (unit == "ms") return 1;
  if (unit == "s") return 1000;
  if (unit == "m") return 60 * 1000;
  if (unit == "h") return 3600 * 1000;
  return 0;
}

}  // namespace

Result<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  auto bad = [&](const char* why) {
    return Status::Invalid("bad duration \"" + std::string(text.substr(0, 40)) +
                           "\": " + why);
  };
  if (text.empty()) return bad("empty");
  if (text == "0") return std::chrono::milliseconds(0);
  double total = 0;
  size_t i = 0;
  while (i < text.size()) {
    std::string_view number = ScanDecimal(text.substr(i));
    i += number.size();
    if (number.empty() || number == ".") return bad("expected a number");
    if (number.size() > 15) return bad("number too long");
    size_t unit_start = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i])))
      ++i;
    double per = UnitMillis(text.substr(unit_start, i - unit_start));
    if (per == 0) return bad("expected a unit of ms, s, m or h");
    total += std::stod(std::string(number)) * per;
    if (total > kMaxMillis) return bad("longer than one week");
  }
  return std::chrono::milliseconds(static_cast<long long>(std::llround(total)));
}

std::string FormatDuration(std::chrono::milliseconds d) {
  long long ms = d.count();
  if (ms != 0 && ms % 60000 == 0) return std::to_string(ms / 60000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

}  // namespace pgrepl
