// Builders of classified InstanceSnapshots for unit tests: a cluster
// "main" of primaries and replicas in the states the model knows.
#ifndef PGREPL_TESTS_UNIT_TESTING_SNAPSHOTS_H_
#define PGREPL_TESTS_UNIT_TESTING_SNAPSHOTS_H_

#include <string>
#include <vector>

#include "exporter/model/snapshot.h"

namespace pgrepl {
namespace fixtures {

// Polled, down, role unknown.
inline InstanceSnapshot Base(const std::string& instance) {
  InstanceSnapshot s;
  s.cluster = "main";
  s.instance = instance;
  s.polled = true;
  return s;
}

inline InstanceSnapshot Primary(const std::string& instance) {
  InstanceSnapshot s = Base(instance);
  s.configured_primary = true;
  s.up = true;
  s.recovery = RecoveryInfo{};
  s.recovery->in_recovery = false;
  s.standbys = std::vector<StandbyRow>{};
  s.slots = std::vector<SlotRow>{};
  return s;
}

inline InstanceSnapshot Replica(
    const std::string& instance, const std::string& name,
    const std::string& slot, const std::string& receiver_status = "streaming") {
  InstanceSnapshot s = Base(instance);
  s.up = true;
  s.recovery = RecoveryInfo{};
  s.recovery->in_recovery = true;
  if (!receiver_status.empty()) {
    s.wal_receiver = WalReceiverInfo{};
    s.wal_receiver->status = receiver_status;
  }
  s.wal_receiver_read = true;
  s.identity = ReplicaIdentity{name, slot};
  return s;
}

// The last poll failed: role and receiver are unread, the identity stays.
inline InstanceSnapshot Stopped(InstanceSnapshot s) {
  s.up = false;
  s.recovery.reset();
  s.wal_receiver.reset();
  s.wal_receiver_read = false;
  return s;
}

// A replica that was promoted: it answers and is not in recovery.
inline InstanceSnapshot Promoted(InstanceSnapshot s) {
  s.recovery->in_recovery = false;
  s.wal_receiver.reset();
  s.standbys = std::vector<StandbyRow>{};
  s.slots = std::vector<SlotRow>{};
  return s;
}

inline StandbyRow Row(const std::string& name, const std::string& slot,
                      const std::string& state = "streaming") {
  StandbyRow r;
  r.application_name = name;
  r.slot = slot;
  r.state = state;
  r.sync_state = "async";
  return r;
}

inline SlotRow Slot(const std::string& name,
                    const std::string& type = "physical", bool active = false) {
  SlotRow s;
  s.name = name;
  s.type = type;
  s.active = active;
  return s;
}

inline std::vector<const InstanceSnapshot*> Ptrs(
    const std::vector<InstanceSnapshot>& v) {
  std::vector<const InstanceSnapshot*> out;
  for (const auto& s : v) out.push_back(&s);
  return out;
}

}  // namespace fixtures
}  // namespace pgrepl

#endif  // PGREPL_TESTS_UNIT_TESTING_SNAPSHOTS_H_
