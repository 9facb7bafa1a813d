// Parsing of byte sizes such as "16MB", "512kB", "1GB" or "1048576".
#include "exporter/base/size.h"

#include <cmath>
#include <cstdlib>

#include "exporter/base/text.h"
#include "exporter/base/units.h"

namespace pgrepl {
namespace {

constexpr double kMaxBytes = 1125899906842624.0;  // 1 PiB

// Bytes per unit, or 0 when the unit is unknown. "" is bytes.
double UnitBytes(std::string_view unit) {
  if (unit.empty() || unit == "B") return 1;
  if (unit == "kB" || unit == "KiB") return 1024.0;
  if (unit == "MB" || unit == "MiB") return 1024.0 * 1024;
  if (unit == "GB" || unit == "GiB") return 1024.0 * 1024 * 1024;
  if (unit == "TB" || unit == "TiB") return 1024.0 * 1024 * 1024 * 1024;
  return 0;
}

}  // namespace

Result<uint64_t> ParseSize(std::string_view text) {
  auto bad = [&](const char* why) {
    return Status::Invalid("bad size \"" + QuoteInput(text) + "\": " + why);
  };
  if (text.empty()) return bad("empty");
  std::string_view number = ScanDecimal(text);
  if (number.empty() || number == ".") return bad("expected a number");
  if (number.size() > 20) return bad("number too long");
  double per = UnitBytes(text.substr(number.size()));
  if (per == 0) return bad("expected a unit of B, kB, MB, GB or TB");
  double bytes = std::strtod(std::string(number).c_str(), nullptr) * per;
  if (!(bytes <= kMaxBytes)) return bad("larger than 1 PiB");
  return static_cast<uint64_t>(std::llround(bytes));
}

std::string FormatSize(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "kB", "MB", "GB", "TB"};
  size_t unit = 0;
  while (unit + 1 < std::size(kUnits) && bytes != 0 && bytes % 1024 == 0) {
    bytes /= 1024;
    ++unit;
  }
  return std::to_string(bytes) + kUnits[unit];
}

}  // namespace pgrepl
