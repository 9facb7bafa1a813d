// MetricSink: collects samples into prometheus-cpp MetricFamily values.
#ifndef PGREPL_EXPORTER_METRIC_SINK_H_
#define PGREPL_EXPORTER_METRIC_SINK_H_

#include <prometheus/metric_family.h>

#include <map>
#include <string>
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

  void Gauge(const std::string& name, const std::string& help, double value,
             const LabelPairs& labels = {});
  void Counter(const std::string& name, const std::string& help, double value,
               const LabelPairs& labels = {});
  // Cumulative buckets (upper bound, count) plus sum and count.
  void Histogram(const std::string& name, const std::string& help,
                 const std::vector<std::pair<double, uint64_t>>& buckets,
                 double sum, uint64_t count, const LabelPairs& labels = {});

  // The families, in first-use order. Only on the root sink.
  std::vector<prometheus::MetricFamily> Take();

 private:
  MetricSink(MetricSink* root, LabelPairs base)
      : base_(std::move(base)), root_(root) {}
  prometheus::ClientMetric& Add(const std::string& name, const std::string& help,
                                prometheus::MetricType type,
                                const LabelPairs& labels);

  LabelPairs base_;
  MetricSink* root_ = nullptr;  // not owned; null on the root
  std::vector<prometheus::MetricFamily> families_;
  std::map<std::string, size_t> index_;
};

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_METRIC_SINK_H_
