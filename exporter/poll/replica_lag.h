// Replica lag on the exporter's clock: true on idle clusters, never 0 on a
// broken stream, immune to skew between database hosts.
#ifndef PGREPL_EXPORTER_POLL_REPLICA_LAG_H_
#define PGREPL_EXPORTER_POLL_REPLICA_LAG_H_

#include <optional>

#include "exporter/model/position_history.h"

namespace pgrepl {

struct ReplicaLagInput {
  bool streaming = false;  // WAL receiver present with status streaming
  std::optional<uint64_t> receive_lsn, replay_lsn;
  // The primary's history answer for replay_lsn; nullopt when the primary
  // has not been polled successfully lately.
  std::optional<PositionHistory::Behind> behind;
  PositionHistory::Clock::time_point now;
  // The last poll at which the replica was streaming and caught up.
  std::optional<PositionHistory::Clock::time_point> last_healthy;
};

struct ReplicaLag {
  double seconds;               // NaN when unknown
  std::optional<double> bytes;  // primary position minus replay position
  bool healthy = false;         // streaming and caught up at this poll
};

// The rules, in order:
//  1. Streaming and replayed everything the primary had written: 0.
//  2. Behind the primary: the time since the primary first wrote WAL the
//     replica has not replayed (interpolated between primary polls).
//  3. Not streaming: at least the time since the replica was last seen
//     streaming and caught up, so a broken stream on an idle primary still
//     shows growing lag rather than 0.
//  4. Otherwise unknown (NaN), e.g. the primary is down and the replica
//     was never seen healthy.
ReplicaLag ComputeReplicaLag(const ReplicaLagInput& in);

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_POLL_REPLICA_LAG_H_
