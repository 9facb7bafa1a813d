// LagHistogram: a cumulative histogram of lag seconds observed every poll.
#include "exporter/model/lag_histogram.h"

#include <cmath>

namespace pgrepl {

void LagHistogram::Observe(double seconds) {
  if (!std::isfinite(seconds)) return;  // unknown lag is not a sample
  if (seconds < 0) seconds = 0;
  for (size_t i = 0; i < kBounds.size(); ++i) {
    if (seconds <= kBounds[i]) {
      buckets_[i]++;
      break;
    }
  }
  count_++;
  sum_ += seconds;
}

std::vector<std::pair<double, uint64_t>> LagHistogram::Cumulative() const {
  std::vector<std::pair<double, uint64_t>> out;
  uint64_t running = 0;
  for (size_t i = 0; i < kBounds.size(); ++i) {
    running += buckets_[i];
    out.emplace_back(kBounds[i], running);
  }
  return out;
}

}  // namespace pgrepl
