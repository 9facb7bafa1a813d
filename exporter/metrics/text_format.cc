// Prometheus text exposition format (0.0.4) appended straight to a string.
#include "exporter/metrics/text_format.h"

#include <prometheus/client_metric.h>
#include <prometheus/metric_type.h>

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>

namespace pgrepl {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

// Room for any 64-bit integer (a sign and 20 digits) and any double in
// "%.16g" form (the longest, "-1.234567890123456e-308", has 23 characters).
constexpr std::size_t kNumberChars = 32;

// Per sample line, beyond name and labels: braces, the space, a value of up
// to 24 characters and the newline.
constexpr std::size_t kLineExtra = 28;
// For a line with a bound label: a suffix of up to 7 ("_bucket"), and
// `,quantile=""` (12) around a bound of up to 24 characters.
constexpr std::size_t kBoundLineExtra = 7 + 12 + 24;
// A timestamp: the space and up to 20 characters.
constexpr std::size_t kTimestampExtra = 21;

// Counts and timestamps: plain decimal integers.
void AppendNumber(std::uint64_t value, std::string* out) {
  char buf[kNumberChars];
  out->append(buf, std::to_chars(buf, buf + sizeof buf, value).ptr);
}

void AppendNumber(std::int64_t value, std::string* out) {
  char buf[kNumberChars];
  out->append(buf, std::to_chars(buf, buf + sizeof buf, value).ptr);
}

// A double the way TextSerializer writes one: "Nan", "+Inf" and "-Inf",
// otherwise what an ostream with precision 16 in the classic locale
// writes, which is printf's "%.16g".
void AppendNumber(double value, std::string* out) {
  if (std::isnan(value)) {
    out->append("Nan");
    return;
  }
  if (std::isinf(value)) {
    out->append(value < 0 ? "-Inf" : "+Inf");
    return;
  }
  // "%.16g" writes an integral value below 1e16 (at most 16 digits) as a
  // plain integer, so the common case (positions, counts, 0 and 1) skips
  // the general conversion. Negative zero takes that one: it is "-0".
  if (std::fabs(value) < 1e16 && std::trunc(value) == value &&
      !(value == 0 && std::signbit(value))) {
    AppendNumber(static_cast<std::int64_t>(value), out);
    return;
  }
  char buf[kNumberChars];
  const auto result = std::to_chars(buf, buf + sizeof buf, value,
                                    std::chars_format::general, 16);
  out->append(buf, result.ptr);
}

// A label value: backslash, double quote and newline escaped, every other
// byte (UTF-8 included) as is. Runs without those go in one append.
void AppendEscaped(std::string_view value, std::string* out) {
  std::size_t start = 0;
  for (std::size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (c != '\\' && c != '"' && c != '\n') continue;
    out->append(value.data() + start, i - start);
    out->push_back('\\');
    out->push_back(c == '\n' ? 'n' : c);
    start = i + 1;
  }
  out->append(value.data() + start, value.size() - start);
}

// The metric's own labels as `a="x",b="y"`, without braces, into `*labels`
// (cleared first): built once per metric, copied into each of its lines.
void FormatLabels(const ClientMetric& metric, std::string* labels) {
  labels->clear();
  bool first = true;
  for (const ClientMetric::Label& label : metric.label) {
    if (!first) labels->push_back(',');
    first = false;
    labels->append(label.name);
    labels->append("=\"");
    AppendEscaped(label.value, labels);
    labels->push_back('"');
  }
}

// Writes the lines of one metric: each is its name, a suffix, its labels
// (plus, for a bucket or quantile, one more), a value and the timestamp.
class LineWriter {
 public:
  // `labels` as FormatLabels writes them. All are borrowed.
  LineWriter(const std::string& name, const std::string& labels,
             const ClientMetric& metric, std::string* out)
      : name_(name), labels_(labels), metric_(metric), out_(out) {}

  // `name suffix{labels} value`, the braces only if there are labels.
  template <typename Value>
  void Line(std::string_view suffix, Value value) {
    out_->append(name_);
    out_->append(suffix);
    if (!labels_.empty()) {
      out_->push_back('{');
      out_->append(labels_);
      out_->push_back('}');
    }
    Finish(value);
  }

  // `name suffix{labels,bound_name="bound"} value`.
  template <typename Value>
  void BoundLine(std::string_view suffix, std::string_view bound_name,
                 double bound, Value value) {
    out_->append(name_);
    out_->append(suffix);
    out_->push_back('{');
    if (!labels_.empty()) {
      out_->append(labels_);
      out_->push_back(',');
    }
    out_->append(bound_name);
    out_->append("=\"");
    AppendNumber(bound, out_);
    out_->append("\"}");
    Finish(value);
  }

 private:
  // The value, the timestamp if any, and the newline.
  template <typename Value>
  void Finish(Value value) {
    out_->push_back(' ');
    AppendNumber(value, out_);
    if (metric_.timestamp_ms != 0) {
      out_->push_back(' ');
      AppendNumber(metric_.timestamp_ms, out_);
    }
    out_->push_back('\n');
  }

  const std::string& name_;
  const std::string& labels_;
  const ClientMetric& metric_;
  std::string* const out_;
};

void AppendSummary(const ClientMetric::Summary& summary, LineWriter* lines) {
  lines->Line("_count", summary.sample_count);
  lines->Line("_sum", summary.sample_sum);
  for (const ClientMetric::Quantile& q : summary.quantile) {
    lines->BoundLine("", "quantile", q.quantile, q.value);
  }
}

void AppendHistogram(const ClientMetric::Histogram& histogram,
                     LineWriter* lines) {
  lines->Line("_count", histogram.sample_count);
  lines->Line("_sum", histogram.sample_sum);
  for (const ClientMetric::Bucket& bucket : histogram.bucket) {
    lines->BoundLine("_bucket", "le", bucket.upper_bound,
                     bucket.cumulative_count);
  }
  // Only the last bucket counts: a +Inf bound earlier in the list does not
  // stop the extra one (TextSerializer's rule).
  constexpr double kInf = std::numeric_limits<double>::infinity();
  if (histogram.bucket.empty() || histogram.bucket.back().upper_bound != kInf) {
    lines->BoundLine("_bucket", "le", kInf, histogram.sample_count);
  }
}

// The word of the TYPE line; empty for a type TextSerializer does not know.
std::string_view TypeWord(MetricType type) {
  switch (type) {
    case MetricType::Counter:
      return "counter";
    case MetricType::Gauge:
      return "gauge";
    case MetricType::Summary:
      return "summary";
    case MetricType::Untyped:
      return "untyped";
    case MetricType::Histogram:
      return "histogram";
  }
  return {};
}

void AppendFamily(const MetricFamily& family, std::string* labels,
                  std::string* out) {
  if (!family.help.empty()) {
    out->append("# HELP ");
    out->append(family.name);
    out->push_back(' ');
    out->append(family.help);
    out->push_back('\n');
  }
  const std::string_view type = TypeWord(family.type);
  if (type.empty()) return;
  out->append("# TYPE ");
  out->append(family.name);
  out->push_back(' ');
  out->append(type);
  out->push_back('\n');
  for (const ClientMetric& metric : family.metric) {
    FormatLabels(metric, labels);
    LineWriter lines(family.name, *labels, metric, out);
    switch (family.type) {
      case MetricType::Counter:
        lines.Line("", metric.counter.value);
        break;
      case MetricType::Gauge:
        lines.Line("", metric.gauge.value);
        break;
      case MetricType::Untyped:
        lines.Line("", metric.untyped.value);
        break;
      case MetricType::Summary:
        AppendSummary(metric.summary, &lines);
        break;
      case MetricType::Histogram:
        AppendHistogram(metric.histogram, &lines);
        break;
    }
  }
}

// An upper estimate of the text's size unless label values need much
// escaping, so that `out` is allocated once.
std::size_t EstimateSize(const std::vector<MetricFamily>& families) {
  std::size_t total = 0;
  for (const MetricFamily& family : families) {
    total += family.help.size() + 2 * family.name.size() + 32;
    for (const ClientMetric& metric : family.metric) {
      std::size_t labels = 0;
      for (const ClientMetric::Label& label : metric.label) {
        labels += label.name.size() + label.value.size() + 4;
      }
      std::size_t lines = 1;
      std::size_t bound_lines = 0;
      if (family.type == MetricType::Histogram) {
        bound_lines = metric.histogram.bucket.size() + 1;
        lines = bound_lines + 2;
      } else if (family.type == MetricType::Summary) {
        bound_lines = metric.summary.quantile.size();
        lines = bound_lines + 2;
      }
      std::size_t per_line = family.name.size() + labels + kLineExtra;
      if (metric.timestamp_ms != 0) per_line += kTimestampExtra;
      total += lines * per_line + bound_lines * kBoundLineExtra;
    }
  }
  return total;
}

}  // namespace

bool AppendTextFormat(const std::vector<MetricFamily>& families,
                      std::string* out) noexcept {
  const std::size_t old_size = out->size();
  // Only allocation can fail (std::bad_alloc, std::length_error).
  try {
    out->reserve(old_size + EstimateSize(families));
    std::string labels;
    for (const MetricFamily& family : families) {
      AppendFamily(family, &labels, out);
    }
    return true;
  } catch (...) {
    out->resize(old_size);
    return false;
  }
}

}  // namespace pgrepl
