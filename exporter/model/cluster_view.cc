// ClusterView: facts that need several instances' snapshots at once —
// primaries, expected and streaming replicas, expected standbys.
#include "exporter/model/cluster_view.h"

#include <algorithm>
#include <map>
#include <set>

#include "exporter/base/metric_sink.h"

namespace pgrepl {
namespace {

bool IsPrimaryNow(const InstanceSnapshot& s) {
  return s.up && s.recovery && !s.recovery->in_recovery;
}

bool IsStreamingReplica(const InstanceSnapshot& s) {
  return s.up && s.recovery && s.recovery->in_recovery && s.wal_receiver &&
         s.wal_receiver->status == "streaming";
}

}  // namespace

std::vector<ExpectedStandby> ExpectedStandbys(
    const InstanceSnapshot& primary,
    const std::vector<const InstanceSnapshot*>& cluster) {
  std::map<std::string, std::string> expected;  // name -> slot
  std::set<std::string> claimed_slots;
  for (const InstanceSnapshot* o : cluster) {
    if (o == &primary || !o->identity || IsPrimaryNow(*o)) continue;
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

void EmitClusterView(const std::vector<const InstanceSnapshot*>& cluster,
                     MetricSink& root) {
  if (cluster.empty()) return;
  const std::string& name = cluster.front()->cluster;
  size_t primaries = 0, expected = 0, streaming = 0, up = 0;
  for (const InstanceSnapshot* s : cluster) {
    if (IsPrimaryNow(*s)) ++primaries;
    if (!s->configured_primary) ++expected;
    if (IsStreamingReplica(*s)) ++streaming;
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
  c.Gauge("pgrepl_cluster_instances_up", "Instances whose latest poll succeeded.",
          static_cast<double>(up));

  for (const InstanceSnapshot* p : cluster) {
    if (!IsPrimaryNow(*p) || !p->standbys) continue;
    MetricSink ps = root.WithBase({{"cluster", name}, {"instance", p->instance}});
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
