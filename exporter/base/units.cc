// The number scanner shared by the parsers of values with a unit suffix
// (durations, sizes, lag limits).
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

}  // namespace pgrepl
