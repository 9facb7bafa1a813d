// MetricSink: collects samples into prometheus-cpp MetricFamily values.
#include "exporter/base/metric_sink.h"

namespace pgrepl {

prometheus::ClientMetric& MetricSink::Add(std::string_view name,
                                          std::string_view help,
                                          prometheus::MetricType type,
                                          const LabelPairs& labels) {
  MetricSink* root = root_ ? root_ : this;
  auto it = root->index_.find(name);
  if (it == root->index_.end()) {
    prometheus::MetricFamily f;
    f.name = std::string(name);
    f.help = std::string(help);
    f.type = type;
    root->families_.push_back(std::move(f));
    it = root->index_.emplace(std::string(name), root->families_.size() - 1)
             .first;
  }
  auto& family = root->families_[it->second];
  family.metric.emplace_back();
  auto& m = family.metric.back();
  m.label.reserve(base_.size() + labels.size());
  for (const auto& [k, v] : base_) m.label.push_back({k, v});
  for (const auto& [k, v] : labels) m.label.push_back({k, v});
  return m;
}

void MetricSink::Gauge(std::string_view name, std::string_view help,
                       double value, const LabelPairs& labels) {
  Add(name, help, prometheus::MetricType::Gauge, labels).gauge.value = value;
}

void MetricSink::Counter(std::string_view name, std::string_view help,
                         double value, const LabelPairs& labels) {
  Add(name, help, prometheus::MetricType::Counter, labels).counter.value =
      value;
}

void MetricSink::Histogram(
    std::string_view name, std::string_view help,
    const std::vector<std::pair<double, uint64_t>>& buckets, double sum,
    uint64_t count, const LabelPairs& labels) {
  auto& h =
      Add(name, help, prometheus::MetricType::Histogram, labels).histogram;
  for (const auto& [bound, cumulative] : buckets) {
    h.bucket.push_back({cumulative, bound});
  }
  h.sample_sum = sum;
  h.sample_count = count;
}

std::vector<prometheus::MetricFamily> MetricSink::Take() {
  index_.clear();
  return std::move(families_);
}

}  // namespace pgrepl
