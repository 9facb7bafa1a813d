// PositionHistory: when, on the exporter's clock, a primary reached each
// WAL position (or heartbeat number), for lag measured with one clock.
#include "exporter/model/position_history.h"

namespace pgrepl {

void PositionHistory::Record(const std::string& source, Clock::time_point t,
                             uint64_t position,
                             Clock::duration keep_source_for) {
  std::lock_guard<std::mutex> lock(mu_);
  if (source != source_) {
    if (!samples_.empty() && t - samples_.back().t < keep_source_for) return;
    source_ = source;
    samples_.clear();
  }
  if (!samples_.empty() && position < samples_.back().position) {
    samples_.clear();
  }
  const size_t n = samples_.size();
  if (n >= 2 && samples_[n - 1].position == position &&
      samples_[n - 2].position == position) {
    samples_.back().t = t;  // idle: keep the first and the latest time only
  } else {
    samples_.push_back({t, position});
  }
  while (samples_.size() > capacity_) samples_.pop_front();
}

std::optional<PositionHistory::Behind> PositionHistory::Estimate(
    uint64_t applied, Clock::time_point now, Clock::duration max_age) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (samples_.empty() || now - samples_.back().t > max_age)
    return std::nullopt;
  Behind b;
  b.latest = samples_.back().position;
  if (applied >= b.latest) {
    b.caught_up = true;
    return b;
  }
  // First sample beyond `applied`; samples ascend in position.
  size_t i = 0;
  while (i < samples_.size() && samples_[i].position <= applied) ++i;
  if (i == 0) {
    b.since = samples_.front().t;
    b.lower_bound = true;
    return b;
  }
  const Sample& a = samples_[i - 1];
  const Sample& c = samples_[i];
  if (progress_ == Progress::kDiscrete) {
    b.since = c.t;  // the first write `applied` does not include
    return b;
  }
  // The primary went from `a` to `c`; assume it wrote at a steady rate in
  // between and find when it passed `applied`.
  double frac = static_cast<double>(applied - a.position) /
                static_cast<double>(c.position - a.position);
  b.since =
      a.t + std::chrono::duration_cast<Clock::duration>((c.t - a.t) * frac);
  return b;
}

std::optional<PositionHistory::Sample> PositionHistory::Latest() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (samples_.empty()) return std::nullopt;
  return samples_.back();
}

void PrimaryReach::Record(bool reached, Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!reached && (state_.reachable || !state_.watched)) {
    state_.unreachable_since = now;
  }
  if (reached) state_.unreachable_since.reset();
  state_.watched = true;
  state_.reachable = reached;
}

PrimaryReach::State PrimaryReach::Get() const {
  std::lock_guard<std::mutex> lock(mu_);
  return state_;
}

}  // namespace pgrepl
