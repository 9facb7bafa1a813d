// StatusReport: the topology and health of every watched cluster, built
// from the latest snapshots for the status page (/) and the API (/status).
#include "exporter/http/status_report.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "exporter/model/cluster_view.h"

namespace pgrepl {
namespace {

using WallClock = InstanceSnapshot::WallClock;

std::vector<StandbyStatus> Standbys(
    const InstanceSnapshot& primary,
    const std::vector<const InstanceSnapshot*>& cluster) {
  std::vector<StandbyStatus> out;
  const std::vector<StandbyRow> none;
  const auto& rows = primary.standbys ? *primary.standbys : none;
  for (const auto& r : rows) {
    out.push_back({r.application_name, r.slot, true, r.state, r.sync_state});
  }
  for (const auto& e : ExpectedStandbys(primary, cluster)) {
    if (e.connected) continue;  // listed above with its row
    out.push_back({e.name, e.slot, false, "", ""});
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

void SetLag(const InstanceSnapshot& s, const LagLimit& limit,
            InstanceStatus* out) {
  if (s.replica_lag_seconds && !std::isnan(*s.replica_lag_seconds)) {
    out->lag_seconds = *s.replica_lag_seconds;
  }
  out->lag_bytes = s.replica_lag_bytes;
  if (out->role != Role::kReplica) return;
  std::optional<double> lag = limit.kind == LagLimit::Kind::kSeconds
                                  ? out->lag_seconds
                                  : out->lag_bytes;
  if (!lag || s.replica_state() != ReplicaState::kStreaming) {
    out->lag_band = LagBand::kBad;
    out->lag_fraction = 1;
    return;
  }
  out->lag_fraction = std::max(0.0, *lag / limit.value);
  out->lag_band = out->lag_fraction >= 1.0   ? LagBand::kBad
                  : out->lag_fraction >= 0.8 ? LagBand::kWarn
                                             : LagBand::kGood;
}

InstanceStatus StatusOf(const SnapshotStore::Entry& entry,
                        const std::vector<const InstanceSnapshot*>& cluster,
                        const HealthPolicy& policy, WallClock::time_point now) {
  const InstanceSnapshot& s = *entry.snapshot;
  InstanceStatus out;
  out.name = s.instance;
  out.configured_role = s.configured_primary ? Role::kPrimary : Role::kReplica;
  out.discovered = s.discovered;
  out.aliases = s.aliases;
  out.polled = s.polled;
  out.up = s.up;
  out.role = s.role();
  out.replica_state = s.replica_state();
  SetLag(s, policy.default_limit, &out);
  if (out.role == Role::kReplica) out.wal_receiver = s.wal_receiver;
  if (s.recovery) out.replay_paused = s.recovery->replay_paused;
  out.primary_reachable = s.primary_reachable;
  out.serving_without_primary = s.serving_without_primary;
  out.server_version_num = s.server_version_num;
  out.timeline = s.timeline;
  if (s.polled) out.last_poll = s.polled_at;
  out.last_success = s.last_success;
  out.last_error = s.last_error;
  if (s.slots) out.slots = *s.slots;
  if (out.role == Role::kPrimary) out.standbys = Standbys(s, cluster);
  const LagLimit& limit = policy.default_limit;
  out.primary_check = DecideHealth(HealthCheck::kPrimary, s, entry.recent_lag,
                                   limit, policy, now);
  out.replica_check = DecideHealth(HealthCheck::kReplica, s, entry.recent_lag,
                                   limit, policy, now);
  out.read_only_check = DecideHealth(HealthCheck::kReadOnly, s,
                                     entry.recent_lag, limit, policy, now);
  return out;
}

}  // namespace

const char* LagBandName(LagBand band) {
  switch (band) {
    case LagBand::kNone:
      return "none";
    case LagBand::kGood:
      return "ok";
    case LagBand::kWarn:
      return "warn";
    case LagBand::kBad:
      return "bad";
  }
  return "none";
}

StatusReport BuildStatusReport(const std::vector<SnapshotStore::Entry>& entries,
                               const HealthPolicy& policy,
                               WallClock::time_point now) {
  StatusReport report;
  report.generated_at = now;
  report.lag_limit = policy.default_limit;
  std::map<std::string, std::vector<const SnapshotStore::Entry*>> by_cluster;
  for (const auto& e : entries) {
    by_cluster[e.snapshot->cluster].push_back(&e);
    if (e.snapshot->polled &&
        (!report.last_poll || e.snapshot->polled_at > *report.last_poll)) {
      report.last_poll = e.snapshot->polled_at;
    }
  }
  for (const auto& [name, members] : by_cluster) {
    ClusterStatus c;
    c.name = name;
    std::vector<const InstanceSnapshot*> snaps;
    for (const auto* e : members) snaps.push_back(e->snapshot.get());
    for (const auto* e : members) {
      c.instances.push_back(StatusOf(*e, snaps, policy, now));
      if (c.instances.back().role == Role::kPrimary) ++c.primaries;
    }
    std::stable_sort(c.instances.begin(), c.instances.end(),
                     [](const InstanceStatus& a, const InstanceStatus& b) {
                       return (a.role == Role::kPrimary) >
                              (b.role == Role::kPrimary);
                     });
    report.clusters.push_back(std::move(c));
  }
  return report;
}

}  // namespace pgrepl
