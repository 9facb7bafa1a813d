// The exporter's configuration and its validation. ParseCommandLine
// (exporter/config/flags.h) builds it from flags, environment variables and
// the JSON config file (exporter/config/config_file.h).
#ifndef PGREPL_EXPORTER_CONFIG_CONFIG_H_
#define PGREPL_EXPORTER_CONFIG_CONFIG_H_

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "exporter/base/status.h"
#include "exporter/config/lag_limit.h"
#include "exporter/config/web_config.h"

namespace pgrepl {

// One PostgreSQL instance to poll.
struct InstanceTarget {
  std::string name;      // the `instance` label; unique within its cluster
  std::string conninfo;  // libpq conninfo or URI; may hold a password
  bool configured_primary = false;  // how it was configured, not its role
};

// Replicas found by resolving one DNS name every poll cycle (Kubernetes
// headless Service). Every address becomes one replica instance.
struct ReplicaDiscovery {
  std::string host;  // empty: discovery off
  int port = 5432;
  std::string base_conninfo;  // user, dbname...; host/port are appended
};

struct ClusterConfig {
  std::string name;  // the `cluster` label
  std::vector<InstanceTarget> instances;
  ReplicaDiscovery discovery;
};

struct Config {
  std::vector<ClusterConfig> clusters;

  std::chrono::milliseconds poll_interval{1000};
  // Bounds one whole poll of one instance (connect + queries), enforced on
  // the client side so a frozen server cannot hold a poller longer.
  std::chrono::milliseconds poll_timeout{2000};
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds reconnect_backoff_max{5000};

  std::string listen_address = "0.0.0.0:9752";
  std::string telemetry_path = "/metrics";
  std::string log_level = "info";
  std::string log_format = "logfmt";

  // --heartbeat: write a row on the primary every poll and read it back on
  // every replica (docs/heartbeat.sql). `heartbeat_id` names the row.
  bool heartbeat = false;
  std::string heartbeat_id;

  // --sidecar: the exporter watches exactly one (local) instance, which the
  // health checks (/primary, /replica, /read-only) use when a request
  // names none.
  bool sidecar = false;
  // --sidecar.primary: in sidecar mode, the primary as the applications
  // reach it (DB_HOST, the write endpoint). Polled with one short query per
  // poll, for lag against the primary and the rule for reads without a
  // primary (docs/http.md). Empty conninfo: not watched.
  InstanceTarget sidecar_primary;
  // --health.replica-max-lag: the lag limit of /replica and /read-only
  // when a request gives no max_lag, and of the status page's colours.
  LagLimit health_replica_max_lag;  // default 5s
  // --web.config.file: TLS and basic auth for every endpoint, in the
  // exporter-toolkit format (docs/http.md). Empty: plain HTTP, no auth.
  std::string web_config_file;
  WebConfig web;

  // The monitoring user's password (PGREPL_PASSWORD or PGREPL_PASSWORD_FILE).
  // Handed to libpq only; never logged or exported. Empty: libpq decides
  // (conninfo, PGPASSWORD, ~/.pgpass).
  std::string password;
  // The file PGREPL_PASSWORD_FILE names; empty when unset.
  std::string password_file;
};


// Checks the whole: at least one target; cluster and instance names
// non-empty and unique; conninfos libpq accepts; poll interval, poll
// timeout and connect timeout of at least 100ms; the telemetry path,
// --heartbeat.id (when --heartbeat is on), the log level and format; and
// --sidecar's one instance. Called by ParseCommandLine.
Status Validate(const Config& config);

// True when `id` is a valid --heartbeat.id: 1 to 63 letters, digits, '.',
// '_' or '-', so it is safe to embed in the heartbeat SQL
// (exporter/collector/heartbeat.h).
bool ValidHeartbeatId(const std::string& id);

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_CONFIG_CONFIG_H_
