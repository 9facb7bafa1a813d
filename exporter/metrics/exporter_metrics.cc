// ExporterMetrics: renders the latest snapshots as Prometheus families.
#include "exporter/metrics/exporter_metrics.h"

#include <libpq-fe.h>

#include <chrono>
#include <map>
#include <string>

#include "exporter/base/metric_sink.h"
#include "exporter/base/version.h"
#include "exporter/metrics/cluster_metrics.h"
#include "exporter/metrics/process_stats.h"
#include "exporter/model/server_merge.h"
#include "exporter/model/snapshot_store.h"

namespace pgrepl {
namespace {

double UnixSeconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

// The poller's own view of an instance: up, timings and errors.
void EmitInstance(const InstanceSnapshot& s, MetricSink& sink) {
  sink.Gauge("pgrepl_up",
             "1 when the latest poll reached the instance and read its role.",
             s.up ? 1 : 0);
  if (s.polled) {
    sink.Gauge("pgrepl_poll_duration_seconds",
               "Wall time of the latest poll of the instance.",
               s.poll_duration_seconds);
  }
  for (size_t k = 0; k < kPollErrorKinds.size(); ++k) {
    sink.Counter("pgrepl_poll_errors_total",
                 "Failed polls by kind: connect, query or timeout.",
                 static_cast<double>(s.errors[k]),
                 {{"kind", Status::KindName(kPollErrorKinds[k])}});
  }
  sink.Counter("pgrepl_connections_opened_total",
               "Sessions the exporter opened to the instance; steady state "
               "is 1.",
               static_cast<double>(s.connects));
  if (s.polled) {
    sink.Gauge("pgrepl_poll_round_trips",
               "Round trips to the instance in the latest poll: 1 in steady "
               "state (every collector's statements in one pipelined "
               "batch); more on a new session or for undeclared statements.",
               static_cast<double>(s.poll_round_trips));
  }
  sink.Counter("pgrepl_poll_round_trips_total",
               "Round trips to the instance for statements since the "
               "exporter started (not counting the connection handshake "
               "and its session settings).",
               static_cast<double>(s.round_trips));
  if (s.last_success) {
    sink.Gauge("pgrepl_last_poll_success_timestamp_seconds",
               "Unix time of the latest successful poll.",
               UnixSeconds(*s.last_success));
    double age = UnixSeconds(std::chrono::system_clock::now()) -
                 UnixSeconds(*s.last_success);
    sink.Gauge("pgrepl_last_poll_success_age_seconds",
               "Seconds since the latest successful poll, at scrape time.",
               age < 0 ? 0 : age);
  }
  for (const auto& c : s.collectors) {
    sink.Gauge("pgrepl_collector_success",
               "1 when the collector's latest read succeeded (on a poll "
               "between full polls, it may not read: docs/metrics.md).",
               c.ok ? 1 : 0, {{"collector", c.name}});
    sink.Gauge("pgrepl_collector_duration_seconds",
               "Time the collector's latest read took.", c.duration_seconds,
               {{"collector", c.name}});
  }
}

// What the poller derives on its own clock: replica lag, role history.
void EmitDerived(const InstanceSnapshot& s, MetricSink& sink) {
  if (s.timeline) {
    sink.Gauge("pgrepl_timeline_id",
               "Current timeline: a primary's from its WAL file, a replica's "
               "from its WAL receiver. Kept while the instance is down.",
               *s.timeline);
  }
  sink.Counter("pgrepl_role_changes_total",
               "Times the instance switched between primary and replica "
               "while the exporter watched (promotion, re-clone).",
               static_cast<double>(s.role_changes));
  sink.Counter("pgrepl_timeline_changes_total",
               "Times the instance's timeline changed while the exporter "
               "watched.",
               static_cast<double>(s.timeline_changes));
  if (s.primary_reachable) {
    sink.Gauge("pgrepl_primary_reachable",
               "Sidecar with --sidecar.primary: 1 when the primary as "
               "clients reach it answered as a writable primary at its latest "
               "poll.",
               *s.primary_reachable ? 1 : 0);
  }
  if (s.role() != Role::kReplica) return;
  if (s.primary_reachable) {
    sink.Gauge("pgrepl_replica_serving_without_primary",
               "1 while no primary is reachable and this replica, having "
               "replayed everything the primary wrote before it was last "
               "seen, keeps passing /replica.",
               s.serving_without_primary ? 1 : 0);
  }
  if (s.replica_lag_seconds) {
    sink.Gauge("pgrepl_replica_lag_seconds",
               "How long ago the primary wrote the oldest WAL this replica "
               "has not replayed, on the exporter's clock; 0 when caught up "
               "and streaming; grows while the stream is broken; NaN when "
               "unknown.",
               *s.replica_lag_seconds);
  }
  if (s.replica_lag_bytes) {
    sink.Gauge("pgrepl_replica_lag_bytes",
               "The primary's latest WAL position minus this replica's "
               "replay position.",
               *s.replica_lag_bytes);
  }
  sink.Histogram("pgrepl_replica_lag_poll_seconds",
                 "pgrepl_replica_lag_seconds observed at every poll, so lag "
                 "spikes between scrapes stay visible.",
                 s.replica_lag_histogram.Cumulative(),
                 s.replica_lag_histogram.sum(),
                 s.replica_lag_histogram.count());
}

// What each cluster's DNS discovery found.
void EmitDiscovery(const std::map<std::string, SnapshotStore::Discovery>& all,
                   MetricSink& root) {
  for (const auto& [cluster, d] : all) {
    MetricSink sink = root.WithBase({{"cluster", cluster}});
    sink.Counter("pgrepl_discovery_errors_total",
                 "Failed DNS resolutions of the replica discovery name.",
                 static_cast<double>(d.errors));
    if (d.resolved_once) {
      sink.Gauge("pgrepl_discovered_replicas",
                 "Addresses the replica discovery name resolved to last.",
                 static_cast<double>(d.discovered));
    }
  }
}

// The outcome of SIGHUP reloads of the web config (http/reload).
void EmitReloads(const SnapshotStore::Reloads& r, MetricSink& sink) {
  sink.Gauge("pgrepl_config_last_reload_successful",
             "1 when the last configuration reload (SIGHUP) succeeded, or "
             "none was tried; 0 when it failed and the previous "
             "configuration is still in use.",
             r.last_ok ? 1 : 0);
  sink.Gauge(
      "pgrepl_config_last_reload_success_timestamp_seconds",
      "When the configuration in use was loaded (startup or the "
      "last successful reload), in seconds since the epoch.",
      std::chrono::duration<double>(r.last_success.time_since_epoch()).count());
  sink.Counter("pgrepl_config_reloads_total",
               "Configuration reloads tried (SIGHUP), by result.",
               static_cast<double>(r.successes), {{"result", "success"}});
  sink.Counter("pgrepl_config_reloads_total",
               "Configuration reloads tried (SIGHUP), by result.",
               static_cast<double>(r.failures), {{"result", "failure"}});
}

void EmitProcess(MetricSink& sink) {
  auto p = ReadProcessStats();
  if (!p) return;
  sink.Counter("process_cpu_seconds_total",
               "Total user and system CPU time spent in seconds.",
               p->cpu_seconds);
  sink.Gauge("process_resident_memory_bytes", "Resident memory size in bytes.",
             p->resident_bytes);
  sink.Gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.",
             p->virtual_bytes);
  sink.Gauge("process_start_time_seconds",
             "Start time of the process since unix epoch in seconds.",
             p->start_time_seconds);
  sink.Gauge("process_open_fds", "Number of open file descriptors.",
             p->open_fds);
  sink.Gauge("process_max_fds", "Maximum number of open file descriptors.",
             p->max_fds);
}

}  // namespace

ExporterMetrics::ExporterMetrics(
    const SnapshotStore* store,
    const std::vector<std::unique_ptr<Collector>>* collectors)
    : store_(store), collectors_(collectors) {}

std::vector<prometheus::MetricFamily> ExporterMetrics::Collect() const {
  MetricSink root;
  try {
    // One instance per server, ordered by cluster (model/server_merge).
    const auto entries = MergeSameServer(store_->Entries());
    std::vector<const InstanceSnapshot*> cluster;
    for (size_t i = 0; i < entries.size(); ++i) {
      const InstanceSnapshot& snap = *entries[i].snapshot;
      MetricSink sink = root.WithBase(
          {{"cluster", snap.cluster}, {"instance", snap.instance}});
      EmitInstance(snap, sink);
      for (const auto& c : *collectors_) c->Emit(snap, sink);
      EmitDerived(snap, sink);
      cluster.push_back(&snap);
      if (i + 1 == entries.size() ||
          entries[i + 1].snapshot->cluster != snap.cluster) {
        EmitClusterView(cluster, root);
        cluster.clear();
      }
    }
    EmitDiscovery(store_->Discoveries(), root);
    EmitReloads(store_->ReloadOutcome(), root);
    root.Gauge("pgrepl_build_info",
               "Build identity of the exporter; the value is always 1.", 1,
               {{"version", Version()},
                {"revision", Revision()},
                {"libpq_version", std::to_string(PQlibVersion())}});
    EmitProcess(root);
  } catch (...) {
    // A scrape must never throw into civetweb; what was built is served.
  }
  return root.Take();
}

}  // namespace pgrepl
