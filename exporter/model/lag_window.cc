// LagWindow: the replica lag of an instance's latest few polls, the
// history the health checks use to keep a verdict from flapping.
#include "exporter/model/lag_window.h"

#include "exporter/model/snapshot.h"

namespace pgrepl {

LagSample LagWindow::SampleOf(const InstanceSnapshot& s) {
  LagSample out;
  if (s.role() != Role::kReplica) return out;
  if (s.replica_lag_seconds) out.seconds = *s.replica_lag_seconds;
  out.bytes = s.replica_lag_bytes;
  return out;
}

void LagWindow::Push(const LagSample& sample) {
  ring_[next_] = sample;
  next_ = (next_ + 1) % kCapacity;
  if (size_ < kCapacity) ++size_;
}

const LagSample& LagWindow::Get(size_t ago) const {
  return ring_[(next_ + kCapacity - 1 - ago) % kCapacity];
}

}  // namespace pgrepl
