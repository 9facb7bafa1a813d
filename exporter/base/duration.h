// Parsing of human durations such as "500ms", "2s", "1m30s".
#ifndef PGREPL_EXPORTER_BASE_DURATION_H_
#define PGREPL_EXPORTER_BASE_DURATION_H_

#include <chrono>
#include <string>
#include <string_view>

#include "exporter/base/status.h"

namespace pgrepl {

// Parses a sequence of <non-negative decimal><unit> terms, where unit is one
// of ms, s, m, h (Prometheus / Go style, e.g. "1m30s", "1.5s", "250ms").
// A bare "0" is accepted. Everything else, including empty input, negative
// values and results beyond one week, is an Invalid status.
Result<std::chrono::milliseconds> ParseDuration(std::string_view text);

// Formats a duration as the shortest of "1500ms", "2s", "1m".
std::string FormatDuration(std::chrono::milliseconds d);

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_BASE_DURATION_H_
