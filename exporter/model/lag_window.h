// LagWindow: the replica lag of an instance's latest few polls, the
// history the health checks use to keep a verdict from flapping.
#ifndef PGREPL_EXPORTER_MODEL_LAG_WINDOW_H_
#define PGREPL_EXPORTER_MODEL_LAG_WINDOW_H_

#include <array>
#include <cstddef>
#include <limits>
#include <optional>

namespace pgrepl {

struct InstanceSnapshot;

// One poll's lag. Unknown values (instance down, not a replica, lag not
// measurable) are NaN seconds and no bytes: a check treats them as over
// any limit.
struct LagSample {
  double seconds = std::numeric_limits<double>::quiet_NaN();
  std::optional<double> bytes;
};

// A fixed-size ring, newest last. Not thread-safe: the SnapshotStore
// guards it and hands out copies.
class LagWindow {
 public:
  static constexpr size_t kCapacity = 8;

  // The sample of one polled snapshot (replica lag when up and in
  // recovery; unknown otherwise).
  static LagSample SampleOf(const InstanceSnapshot& s);

  void Push(const LagSample& sample);
  size_t size() const { return size_; }
  // ago = 0 is the newest sample; requires ago < size().
  const LagSample& Get(size_t ago) const;

 private:
  std::array<LagSample, kCapacity> ring_{};
  size_t next_ = 0;  // where the next sample goes
  size_t size_ = 0;
};

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_MODEL_LAG_WINDOW_H_
