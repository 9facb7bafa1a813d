// Helpers shared by the parsers of values with a unit suffix (durations,
// sizes, lag limits): scanning the number and quoting bad input.
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

// At most the first `limit` characters of text, each one outside printable
// ASCII replaced by '?', and "..." when text was longer than that and
// `mark_cut` is set: safe to echo in an error message or a reply.
std::string QuoteInput(std::string_view text, size_t limit = 40,
                       bool mark_cut = false);

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_BASE_UNITS_H_
