// pgrepl_exporter: wires config, pollers and the HTTP server together.
#include <malloc.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>

#include "exporter/base/logging.h"
#include "exporter/base/version.h"
#include "exporter/collector/collector.h"
#include "exporter/config/config.h"
#include "exporter/config/secret_files.h"
#include "exporter/config/flags.h"
#include "exporter/http/http_server.h"
#include "exporter/http/reload.h"
#include "exporter/metrics/exporter_metrics.h"
#include "exporter/model/snapshot_store.h"
#include "exporter/pg/connection.h"
#include "exporter/pg/conninfo.h"
#include "exporter/poll/fleet.h"

int main(int argc, char** argv) {
  using pgrepl::CommandLine;
  auto parsed = pgrepl::ParseCommandLine(
      argc, argv, [](const char* name) { return std::getenv(name); });
  if (!parsed.ok()) {
    std::fprintf(stderr, "pgrepl_exporter: error: %s\n",
                 parsed.status().message().c_str());
    return 2;
  }
  const CommandLine& cl = parsed.value();
  if (cl.action != CommandLine::Action::kRun) {
    std::printf("%s\n", cl.text.c_str());
    return 0;
  }
  const pgrepl::Config& config = cl.config;

  // Block the handled signals in every thread; main waits for them below.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  // Two malloc arenas for the process, set before any thread starts.
  // glibc's default (eight per core) lets each of civetweb's worker threads
  // keep an arena sized for a /metrics body, so RSS grew with every thread
  // that ever served a scrape (docs/BENCHMARKS.md). MALLOC_ARENA_MAX in the
  // environment still wins.
  if (std::getenv("MALLOC_ARENA_MAX") == nullptr) mallopt(M_ARENA_MAX, 2);

  pgrepl::SetupLogging(config.log_level, config.log_format);
  pgrepl::WarnAboutReadableSecretFiles(config);

  pgrepl::SnapshotStore store;
  const auto collectors = pgrepl::DefaultCollectors(
      {.heartbeat = config.heartbeat, .heartbeat_id = config.heartbeat_id});
  pgrepl::Fleet fleet(config, &collectors, &store, pgrepl::MakeConnection,
                      pgrepl::DnsResolver());
  pgrepl::ExporterMetrics metrics(&store, &collectors);
  pgrepl::HttpServer http(pgrepl::HttpOptions::From(config), &metrics, &store);
  if (auto st = http.Start(); !st.ok()) {
    std::fprintf(stderr, "pgrepl_exporter: error: %s\n", st.message().c_str());
    return 2;
  }
  pgrepl::Log(
      spdlog::level::info, "starting",
      {{"version", pgrepl::Version()},
       {"listen", config.listen_address},
       {"path", config.telemetry_path},
       {"tls", config.web.tls ? "on" : "off"},
       {"basic_auth_users", std::to_string(config.web.basic_auth_users.size())},
       {"sidecar", config.sidecar ? "true" : "false"},
       {"replica_max_lag", config.health_replica_max_lag.text}});
  for (const auto& c : config.clusters) {
    for (const auto& t : c.instances) {
      pgrepl::Log(spdlog::level::info, "target",
                  {{"cluster", c.name},
                   {"instance", t.name},
                   {"conninfo", pgrepl::RedactConninfo(t.conninfo)}});
    }
    if (!config.sidecar_primary.conninfo.empty()) {
      pgrepl::Log(spdlog::level::info, "sidecar primary watch",
                  {{"cluster", c.name},
                   {"instance", config.sidecar_primary.name},
                   {"conninfo",
                    pgrepl::RedactConninfo(config.sidecar_primary.conninfo)}});
    }
    if (!c.discovery.host.empty()) {
      pgrepl::Log(spdlog::level::info, "replica discovery",
                  {{"cluster", c.name},
                   {"host", c.discovery.host},
                   {"port", std::to_string(c.discovery.port)}});
    }
  }
  fleet.Start();

  int sig = 0;
  // SIGHUP reloads the web config (TLS certificate rotation, users).
  while (sigwait(&signals, &sig) == 0 && sig == SIGHUP) {
    (void)pgrepl::ReloadWebConfig(config, &http, &store);
  }
  pgrepl::Log(spdlog::level::info, "stopping",
              {{"signal", std::to_string(sig)}});
  // The pollers wind down while HTTP stops; ~Fleet joins them last.
  fleet.RequestStop();
  return 0;
}
