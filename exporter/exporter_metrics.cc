// ExporterMetrics: renders the latest snapshots as Prometheus families.
#include "exporter/exporter_metrics.h"

#include <libpq-fe.h>

#include <chrono>

#include "exporter/fleet.h"
#include "exporter/metric_sink.h"
#include "exporter/process_stats.h"
#include "exporter/snapshot_store.h"
#include "exporter/version.h"

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
  for (size_t k = 0; k < kPollErrorKindNames.size(); ++k) {
    sink.Counter("pgrepl_poll_errors_total",
                 "Failed polls by kind: connect, query or timeout.",
                 static_cast<double>(s.errors[k]),
                 {{"kind", kPollErrorKindNames[k]}});
  }
  sink.Counter("pgrepl_connections_opened_total",
               "Sessions the exporter opened to the instance; steady state "
               "is 1.",
               static_cast<double>(s.connects));
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
               "1 when the collector's query succeeded in the latest poll.",
               c.ok ? 1 : 0, {{"collector", c.name}});
    sink.Gauge("pgrepl_collector_duration_seconds",
               "Time the collector's query took in the latest poll.",
               c.duration_seconds, {{"collector", c.name}});
  }
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
    const std::vector<std::unique_ptr<Collector>>* collectors,
    const Fleet* fleet)
    : store_(store), collectors_(collectors), fleet_(fleet) {}

std::vector<prometheus::MetricFamily> ExporterMetrics::Collect() const {
  MetricSink root;
  try {
    for (const auto& snap : store_->All()) {
      MetricSink sink =
          root.WithBase({{"cluster", snap->cluster}, {"instance", snap->instance}});
      EmitInstance(*snap, sink);
      for (const auto& c : *collectors_) c->Emit(*snap, sink);
    }
    if (fleet_ != nullptr) fleet_->Emit(root);
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
