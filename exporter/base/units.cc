// Helpers shared by the parsers of values with a unit suffix (durations,
// sizes, lag limits): scanning the number and quoting bad input.
#include "exporter/base/units.h"

#include <cctype>

namespace pgrepl {

std::string_view ScanDecimal(std::string_view text) {
  size_t i = 0;
  bool dot = false;
  while (i < text.size() &&
         (std::isdigit(static_cast<unsigned char>(text[i])) ||
          (text[i] == '.' && !dot))) {
    if (text[i] == '.') dot = true;
    ++i;
  }
  return text.substr(0, i);
}

std::string QuoteInput(std::string_view text, size_t limit, bool mark_cut) {
  std::string out;
  for (char c : text.substr(0, limit)) {
    out += (c >= 0x20 && c < 0x7f) ? c : '?';
  }
  if (mark_cut && text.size() > limit) out += "...";
  return out;
}

}  // namespace pgrepl
