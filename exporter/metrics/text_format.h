// Prometheus text exposition format (0.0.4) appended straight to a string.
#ifndef PGREPL_EXPORTER_METRICS_TEXT_FORMAT_H_
#define PGREPL_EXPORTER_METRICS_TEXT_FORMAT_H_

#include <prometheus/metric_family.h>

#include <string>
#include <vector>

namespace pgrepl {

// Appends the text exposition format of `families` to `*out`. The bytes are
// exactly what prometheus-cpp 1.0's TextSerializer writes into a fresh
// std::ostringstream, for every MetricType it knows (counter, gauge,
// histogram, summary, untyped), so the two are interchangeable; this one
// avoids the per-character stream inserts. That includes TextSerializer's
// quirks, kept on purpose:
//   - HELP text is written as is, not escaped (a newline in it would end the
//     line); label values escape only backslash, double quote and newline.
//   - NaN is written "Nan", infinities "+Inf" and "-Inf"; other doubles as
//     printf's "%.16g" (so -0.0 is "-0"); counts as plain integers.
//   - A histogram gets a final le="+Inf" bucket (with the sample count)
//     unless its last bucket's bound already is +Inf.
//   - A non-zero timestamp_ms is written after the value.
//   - A family whose type is none of the five gets its HELP line only.
// Never throws: if memory runs out, `*out` is cut back to its old length and
// the result is false.
bool AppendTextFormat(const std::vector<prometheus::MetricFamily>& families,
                      std::string* out) noexcept;

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_METRICS_TEXT_FORMAT_H_
