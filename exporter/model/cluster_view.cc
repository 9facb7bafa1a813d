// ClusterView: facts that need several instances' snapshots at once —
// primaries, expected and streaming replicas, expected standbys.
#include "exporter/model/cluster_view.h"

#include <algorithm>
#include <map>
#include <set>

namespace pgrepl {

std::vector<ExpectedStandby> ExpectedStandbys(
    const InstanceSnapshot& primary,
    const std::vector<const InstanceSnapshot*>& cluster) {
  std::map<std::string, std::string> expected;  // name -> slot
  std::set<std::string> claimed_slots;
  for (const InstanceSnapshot* o : cluster) {
    if (o == &primary || !o->identity || o->role() == Role::kPrimary) continue;
    expected[o->identity->standby_name] = o->identity->slot;
    if (!o->identity->slot.empty()) claimed_slots.insert(o->identity->slot);
  }
  const std::vector<StandbyRow> no_rows;
  const auto& rows = primary.standbys ? *primary.standbys : no_rows;
  if (primary.slots) {
    for (const auto& slot : *primary.slots) {
      if (slot.type != "physical" || claimed_slots.count(slot.name)) continue;
      std::string name = slot.name;
      for (const auto& r : rows) {
        if (r.slot == slot.name) name = r.application_name;
      }
      expected.emplace(name, slot.name);
    }
  }
  std::vector<ExpectedStandby> out;
  for (const auto& [name, slot] : expected) {
    ExpectedStandby e{name, slot, false};
    for (const auto& r : rows) {
      if (r.application_name == name || (!slot.empty() && r.slot == slot)) {
        e.connected = true;
      }
    }
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace pgrepl
