// LagLimit: the most replica lag a health check accepts, as a duration
// ("500ms", "2s") or a size ("16MB", "512kB", bytes).
#ifndef PGREPL_EXPORTER_CONFIG_LAG_LIMIT_H_
#define PGREPL_EXPORTER_CONFIG_LAG_LIMIT_H_

#include <string>
#include <string_view>

#include "exporter/base/status.h"

namespace pgrepl {

struct LagLimit {
  enum class Kind { kSeconds, kBytes };
  Kind kind = Kind::kSeconds;
  double value = 5;         // seconds or bytes; always > 0
  std::string text = "5s";  // canonical form for messages, e.g. "1s", "16MB"
};

// Parses a duration (see ParseDuration: ms, s, m, h) or, failing that, a
// size (see ParseSize: B, kB, MB, GB, TB; a bare number is bytes). Zero and
// anything else is an Invalid status naming both accepted forms; the
// message quotes at most 40 printable characters of the input.
Result<LagLimit> ParseLagLimit(std::string_view text);

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_CONFIG_LAG_LIMIT_H_
