// LagLimit: the most replica lag a health check accepts, as a duration
// ("500ms", "2s") or a size ("16MB", "512kB", bytes).
#include "exporter/config/lag_limit.h"

#include "exporter/base/duration.h"
#include "exporter/base/size.h"
#include "exporter/base/text.h"

namespace pgrepl {

Result<LagLimit> ParseLagLimit(std::string_view text) {
  LagLimit limit;
  if (auto d = ParseDuration(text); d.ok()) {
    limit.kind = LagLimit::Kind::kSeconds;
    limit.value = static_cast<double>(d.value().count()) / 1000.0;
    limit.text = FormatDuration(d.value());
  } else if (auto s = ParseSize(text); s.ok()) {
    limit.kind = LagLimit::Kind::kBytes;
    limit.value = static_cast<double>(s.value());
    limit.text = FormatSize(s.value());
  } else {
    return Status::Invalid("bad lag limit \"" + QuoteInput(text) +
                           "\": expected a duration (500ms, 2s) or a size "
                           "(16MB, 512kB, bytes)");
  }
  if (limit.value <= 0) {
    return Status::Invalid("bad lag limit \"" + QuoteInput(text) +
                           "\": must be greater than zero");
  }
  return limit;
}

}  // namespace pgrepl
