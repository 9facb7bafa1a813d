// Cluster metrics: series that need several instances' snapshots at once.
#ifndef PGREPL_EXPORTER_METRICS_CLUSTER_METRICS_H_
#define PGREPL_EXPORTER_METRICS_CLUSTER_METRICS_H_

#include <vector>

#include "exporter/model/snapshot.h"

namespace pgrepl {

class MetricSink;

// Renders the cluster's metrics. `cluster` holds every snapshot of one
// cluster; `root` gets cluster-level series (label cluster only) and
// per-primary series (labels cluster and instance).
void EmitClusterView(const std::vector<const InstanceSnapshot*>& cluster,
                     MetricSink& root);

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_METRICS_CLUSTER_METRICS_H_
