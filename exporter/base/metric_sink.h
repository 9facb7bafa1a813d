// MetricSink: collects samples into prometheus-cpp MetricFamily values.
#ifndef PGREPL_EXPORTER_BASE_METRIC_SINK_H_
#define PGREPL_EXPORTER_BASE_METRIC_SINK_H_

#include <prometheus/metric_family.h>

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pgrepl {

using LabelPairs = std::vector<std::pair<std::string, std::string>>;

// Builds families in first-use order. Every sample gets the sink's base
// labels (cluster, instance) first, then its own. Not thread-safe.
class MetricSink {
 public:
  explicit MetricSink(LabelPairs base = {}) : base_(std::move(base)) {}

  // A sink sharing this one's families but with other base labels.
  MetricSink WithBase(LabelPairs base) {
    return MetricSink(root_ ? root_ : this, std::move(base));
  }

  // Name and help are copied only when a family is created, so literals
  // cost no allocation per sample.
  void Gauge(std::string_view name, std::string_view help, double value,
             const LabelPairs& labels = {});
  void Counter(std::string_view name, std::string_view help, double value,
               const LabelPairs& labels = {});
  // Cumulative buckets (upper bound, count) plus sum and count.
  void Histogram(std::string_view name, std::string_view help,
                 const std::vector<std::pair<double, uint64_t>>& buckets,
                 double sum, uint64_t count, const LabelPairs& labels = {});

  // The families, in first-use order. Only on the root sink.
  std::vector<prometheus::MetricFamily> Take();

 private:
  MetricSink(MetricSink* root, LabelPairs base)
      : base_(std::move(base)), root_(root) {}
  prometheus::ClientMetric& Add(std::string_view name, std::string_view help,
                                prometheus::MetricType type,
                                const LabelPairs& labels);

  LabelPairs base_;
  MetricSink* root_ = nullptr;  // not owned; null on the root
  std::vector<prometheus::MetricFamily> families_;
  std::map<std::string, size_t, std::less<>> index_;
};

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_BASE_METRIC_SINK_H_
