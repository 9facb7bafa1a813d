// Cluster metrics: series that need several instances' snapshots at once.
#include "exporter/metrics/cluster_metrics.h"

#include "exporter/base/metric_sink.h"
#include "exporter/model/cluster_view.h"

namespace pgrepl {

void EmitClusterView(const std::vector<const InstanceSnapshot*>& cluster,
                     MetricSink& root) {
  if (cluster.empty()) return;
  const std::string& name = cluster.front()->cluster;
  size_t primaries = 0, expected = 0, streaming = 0, up = 0;
  for (const InstanceSnapshot* s : cluster) {
    if (s->role() == Role::kPrimary) ++primaries;
    if (!s->configured_primary) ++expected;
    if (s->replica_state() == ReplicaState::kStreaming) ++streaming;
    if (s->up) ++up;
  }
  MetricSink c = root.WithBase({{"cluster", name}});
  c.Gauge("pgrepl_cluster_primaries",
          "Instances that answer and are not in recovery; 1 is healthy, 0 "
          "means no writable primary, 2 or more is a split brain.",
          static_cast<double>(primaries));
  c.Gauge("pgrepl_cluster_replicas_expected",
          "Instances configured or discovered as replicas.",
          static_cast<double>(expected));
  c.Gauge("pgrepl_cluster_replicas_streaming",
          "Replicas that answer, are in recovery and whose WAL receiver is "
          "streaming.",
          static_cast<double>(streaming));
  c.Gauge("pgrepl_cluster_instances", "Instances the exporter polls.",
          static_cast<double>(cluster.size()));
  c.Gauge("pgrepl_cluster_instances_up",
          "Instances whose latest poll succeeded.", static_cast<double>(up));

  for (const InstanceSnapshot* p : cluster) {
    if (p->role() != Role::kPrimary || !p->standbys) continue;
    MetricSink ps =
        root.WithBase({{"cluster", name}, {"instance", p->instance}});
    auto standbys = ExpectedStandbys(*p, cluster);
    ps.Gauge("pgrepl_standbys_expected",
             "Standbys this primary should serve: known replicas plus "
             "physical slots no known replica claims.",
             static_cast<double>(standbys.size()));
    for (const auto& e : standbys) {
      ps.Gauge("pgrepl_standby_connected",
               "1 when an expected standby has a pg_stat_replication row on "
               "this primary; 0 (not absent) when its row has vanished.",
               e.connected ? 1 : 0, {{"standby", e.name}, {"slot", e.slot}});
    }
  }
}

}  // namespace pgrepl
