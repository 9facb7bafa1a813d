// StreamRestarts: counts WAL receiver processes that took over a replica's
// stream, even when the break was shorter than a poll interval.
#include "exporter/poll/stream_restarts.h"

#include "exporter/model/replica_state.h"

namespace pgrepl {

bool StreamRestarts::Observe(const std::optional<WalReceiverInfo>& w) {
  if (!w || !w->pid || !IsStreamingState(w->status)) return false;
  Process now{*w->pid, w->postmaster_start};
  const bool restarted = last_ && !(*last_ == now);
  last_ = now;
  return restarted;
}

}  // namespace pgrepl
