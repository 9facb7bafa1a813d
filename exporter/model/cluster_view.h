// ClusterView: facts that need several instances' snapshots at once —
// primaries, expected and streaming replicas, expected standbys.
#ifndef PGREPL_EXPORTER_MODEL_CLUSTER_VIEW_H_
#define PGREPL_EXPORTER_MODEL_CLUSTER_VIEW_H_

#include <string>
#include <vector>

#include "exporter/model/snapshot.h"

namespace pgrepl {

// A standby the exporter knows a primary should have.
struct ExpectedStandby {
  std::string name;  // application_name it connects with
  std::string slot;  // "" when unknown or slot-less
  bool connected = false;
};

// The standbys `primary` should serve: every other instance of the cluster
// that is not itself a primary now (by the name it last reported), plus
// every physical slot on `primary` that no such instance claims. Sorted by
// name. Connected means a pg_stat_replication row with that
// application_name or slot.
std::vector<ExpectedStandby> ExpectedStandbys(
    const InstanceSnapshot& primary,
    const std::vector<const InstanceSnapshot*>& cluster);

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_MODEL_CLUSTER_VIEW_H_
