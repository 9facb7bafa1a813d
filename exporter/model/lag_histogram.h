// LagHistogram: a cumulative histogram of lag seconds observed every poll.
#ifndef PGREPL_EXPORTER_MODEL_LAG_HISTOGRAM_H_
#define PGREPL_EXPORTER_MODEL_LAG_HISTOGRAM_H_

#include <array>
#include <cstdint>
#include <utility>
#include <vector>

namespace pgrepl {

// Polls run far more often than Prometheus scrapes. Counting every poll's
// lag into buckets lets any number of scrapers see a spike that began and
// ended between two of their scrapes (histogram_quantile / increase()).
// Plain value type; the owning poller copies it into each snapshot.
class LagHistogram {
 public:
  static constexpr std::array<double, 13> kBounds = {
      0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30, 60, 120, 300};

  void Observe(double seconds);

  // (upper bound, cumulative count) pairs, without +Inf.
  std::vector<std::pair<double, uint64_t>> Cumulative() const;
  uint64_t count() const { return count_; }
  double sum() const { return sum_; }

 private:
  std::array<uint64_t, kBounds.size()> buckets_{};  // non-cumulative
  uint64_t count_ = 0;
  double sum_ = 0;
};

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_MODEL_LAG_HISTOGRAM_H_
