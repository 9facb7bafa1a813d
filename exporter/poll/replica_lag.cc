// Replica lag on the exporter's clock: true on idle clusters, never 0 on a
// broken stream, immune to skew between database hosts.
#include "exporter/poll/replica_lag.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace pgrepl {
namespace {

double Seconds(PositionHistory::Clock::duration d) {
  return std::max(0.0, std::chrono::duration<double>(d).count());
}

}  // namespace

ReplicaLag ComputeReplicaLag(const ReplicaLagInput& in) {
  ReplicaLag out{std::numeric_limits<double>::quiet_NaN(), std::nullopt, false};
  if (in.replay_lsn && in.behind) {
    const auto& b = *in.behind;
    if (b.caught_up) {
      out.bytes = 0.0;
      // Caught up with what the primary wrote is only "0 lag" while the
      // stream is up; otherwise rule 3 or 4 decides.
      if (in.streaming) {
        out.seconds = 0.0;
        out.healthy = true;
      }
    } else {
      // Clamped at 0: the primary's sample may be stamped a moment after
      // this poll's clock reading; the replica is still not healthy.
      out.seconds = Seconds(in.now - b.since);
      out.bytes = static_cast<double>(b.latest - *in.replay_lsn);
    }
  } else if (in.streaming && in.receive_lsn && in.replay_lsn &&
             *in.replay_lsn >= *in.receive_lsn) {
    // No primary reference (e.g. a cascaded replica whose upstream is not
    // polled), but streaming with nothing left to replay.
    out.seconds = 0.0;
    out.healthy = true;
  }
  if (!in.streaming && in.last_healthy) {
    double since_healthy = Seconds(in.now - *in.last_healthy);
    out.seconds = std::isnan(out.seconds)
                      ? since_healthy
                      : std::max(out.seconds, since_healthy);
  }
  return out;
}

}  // namespace pgrepl
