// Role and ReplicaState: what an instance is and how its WAL stream stands,
// decided in one place from one poll's readings.
#include "exporter/model/replica_state.h"

namespace pgrepl {

const char* RoleName(Role role) {
  switch (role) {
    case Role::kUnknown:
      return "unknown";
    case Role::kPrimary:
      return "primary";
    case Role::kReplica:
      return "replica";
  }
  return "unknown";
}

const char* ReplicaStateName(ReplicaState state) {
  switch (state) {
    case ReplicaState::kNotReplica:
      return "not_replica";
    case ReplicaState::kUnknown:
      return "unknown";
    case ReplicaState::kNoReceiver:
      return "no_receiver";
    case ReplicaState::kNotStreaming:
      return "not_streaming";
    case ReplicaState::kStreaming:
      return "streaming";
  }
  return "unknown";
}

bool IsStreamingState(std::string_view state) { return state == "streaming"; }

Role RoleOf(bool up, const std::optional<RecoveryInfo>& recovery) {
  if (!up || !recovery) return Role::kUnknown;
  return recovery->in_recovery ? Role::kReplica : Role::kPrimary;
}

ReplicaState ReplicaStateOf(Role role, bool receiver_read,
                            const std::optional<WalReceiverInfo>& receiver) {
  if (role != Role::kReplica) return ReplicaState::kNotReplica;
  if (!receiver_read) return ReplicaState::kUnknown;
  if (!receiver) return ReplicaState::kNoReceiver;
  return IsStreamingState(receiver->status) ? ReplicaState::kStreaming
                                            : ReplicaState::kNotStreaming;
}

}  // namespace pgrepl
