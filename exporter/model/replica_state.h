// Role and ReplicaState: what an instance is and how its WAL stream stands,
// decided in one place from one poll's readings.
#ifndef PGREPL_EXPORTER_MODEL_REPLICA_STATE_H_
#define PGREPL_EXPORTER_MODEL_REPLICA_STATE_H_

#include <optional>
#include <string_view>

#include "exporter/model/view_rows.h"

namespace pgrepl {

// The role the latest poll read; kUnknown while the instance is down.
enum class Role { kUnknown, kPrimary, kReplica };

// "unknown", "primary" or "replica": stable names for pages and JSON.
const char* RoleName(Role role);

// How a replica's WAL stream stands in the latest poll. Every consumer
// (lag, health checks, metrics, status page) reads this one value.
enum class ReplicaState {
  kNotReplica,    // a primary, or the role is unknown
  kUnknown,       // a replica whose WAL receiver could not be read
  kNoReceiver,    // no WAL receiver process: the stream is broken
  kNotStreaming,  // a receiver in another state (starting, waiting, ...)
  kStreaming,     // the receiver streams from its upstream
};

// "not_replica", "unknown", "no_receiver", "not_streaming", "streaming".
const char* ReplicaStateName(ReplicaState state);

// True for the state name "streaming", as pg_stat_wal_receiver.status and
// pg_stat_replication.state both spell it.
bool IsStreamingState(std::string_view state);

// The role: unknown unless the poll reached the server and read it.
Role RoleOf(bool up, const std::optional<RecoveryInfo>& recovery);

// The stream state of an instance with role `role`. `receiver_read` is
// false when the WAL receiver query failed; `receiver` is nullopt when no
// receiver process runs.
ReplicaState ReplicaStateOf(Role role, bool receiver_read,
                            const std::optional<WalReceiverInfo>& receiver);

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_MODEL_REPLICA_STATE_H_
