// The number scanner shared by the parsers of values with a unit suffix
// (durations, sizes, lag limits).
#ifndef PGREPL_EXPORTER_BASE_UNITS_H_
#define PGREPL_EXPORTER_BASE_UNITS_H_

#include <string>
#include <string_view>

namespace pgrepl {

// The longest prefix of text made of decimal digits and at most one '.':
// "1.5kB" gives "1.5", ".5s" gives ".5", "kB" gives "". Anything else ends
// it (signs, exponents, spaces, a second '.'). The prefix may be "" or ".",
// which callers reject as not a number.
std::string_view ScanDecimal(std::string_view text);

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_BASE_UNITS_H_
