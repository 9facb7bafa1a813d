// Parsing of byte sizes such as "16MB", "512kB", "1GB" or "1048576".
#ifndef PGREPL_EXPORTER_BASE_SIZE_H_
#define PGREPL_EXPORTER_BASE_SIZE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "exporter/base/status.h"

namespace pgrepl {

// Parses <non-negative decimal>[unit], where unit is one of PostgreSQL's
// memory units B, kB, MB, GB, TB (multiples of 1024, as in
// postgresql.conf) or KiB, MiB, GiB, TiB (the same values). A bare number
// is bytes. Fractions are rounded to whole bytes ("1.5kB" is 1536). Empty
// input, other units, signs, spaces and results above 1 PiB are an Invalid
// status whose message quotes at most 40 characters of the input.
Result<uint64_t> ParseSize(std::string_view text);

// Formats bytes as the largest unit that divides them: "16MB", "1536B".
std::string FormatSize(uint64_t bytes);

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_BASE_SIZE_H_
