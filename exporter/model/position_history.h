// PositionHistory: when, on the exporter's clock, a primary reached each
// WAL position (or heartbeat number), for lag measured with one clock.
#ifndef PGREPL_EXPORTER_MODEL_POSITION_HISTORY_H_
#define PGREPL_EXPORTER_MODEL_POSITION_HISTORY_H_

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>

namespace pgrepl {

// The primary's poller records (time, position) every poll; a replica's
// poller asks how long ago the primary first went past the position the
// replica has applied. Both times come from the exporter's steady clock,
// so the clocks of the database hosts never enter the result.
// Safe to call from any thread.
class PositionHistory {
 public:
  using Clock = std::chrono::steady_clock;

  struct Behind {
    bool caught_up = false;     // applied >= the latest recorded position
    Clock::time_point since{};  // when the primary passed `applied`
    bool lower_bound = false;   // `applied` predates the oldest sample
    uint64_t latest = 0;        // the latest recorded position
  };

  // How positions advance between two samples.
  enum class Progress {
    kContinuous,  // WAL: written at a steady rate between samples
    kDiscrete,    // heartbeats: each position written exactly at its sample
  };

  explicit PositionHistory(Progress progress = Progress::kContinuous,
                           size_t capacity = 1200)
      : progress_(progress), capacity_(capacity) {}

  // Records a sample from `source`. A sample from another source, or a
  // position lower than the last one (a new primary), restarts the history
  // unless the current source reported within `keep_source_for`: during a
  // split brain the first primary stays the reference.
  void Record(const std::string& source, Clock::time_point t, uint64_t position,
              Clock::duration keep_source_for);

  // How far `applied` is behind, or nullopt when there is no sample newer
  // than `max_age` (the primary is not being polled successfully).
  std::optional<Behind> Estimate(uint64_t applied, Clock::time_point now,
                                 Clock::duration max_age) const;

  struct Sample {
    Clock::time_point t;
    uint64_t position;
  };
  // The latest sample, however old; nullopt before the first.
  std::optional<Sample> Latest() const;

 private:
  const Progress progress_;
  const size_t capacity_;
  mutable std::mutex mu_;
  std::string source_;          // GUARDED_BY(mu_)
  std::deque<Sample> samples_;  // GUARDED_BY(mu_), ascending in t and position
};

// Whether the primary a sidecar watches (--sidecar.primary, the write
// endpoint) answered as a writable primary at its latest poll. Written by
// that watch's poller, read by the local replica's. Thread-safe.
class PrimaryReach {
 public:
  using Clock = std::chrono::steady_clock;

  struct State {
    bool watched = false;    // a primary watch exists and has polled
    bool reachable = false;  // its latest poll reached a writable primary
    // Since when it has not (reachable == false only).
    std::optional<Clock::time_point> unreachable_since;
  };

  void Record(bool reached, Clock::time_point now);
  State Get() const;

 private:
  mutable std::mutex mu_;
  State state_;  // GUARDED_BY(mu_)
};

// What the pollers of one cluster share: the primary's WAL positions and
// heartbeat writes, timed on the exporter's clock, and whether the watched
// primary is reachable. Thread-safe.
struct ClusterHistory {
  PositionHistory wal{PositionHistory::Progress::kContinuous};
  PositionHistory heartbeat{PositionHistory::Progress::kDiscrete};
  PrimaryReach primary_reach;
};

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_MODEL_POSITION_HISTORY_H_
