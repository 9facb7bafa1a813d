// The exporter's validated configuration, built from flags, environment
// variables and an optional JSON file.
#include "exporter/config/config.h"

#include <CLI/CLI.hpp>
#include <cctype>
#include <nlohmann/json.hpp>
#include <set>
#include <unistd.h>

#include "exporter/pg/conninfo.h"
#include "exporter/base/duration.h"
#include "exporter/base/text.h"
#include "exporter/config/lag_limit.h"
#include "exporter/base/version.h"

namespace pgrepl {
namespace {

constexpr char kEnvHelp[] = R"(
Environment:
  DB_HOST                 primary host (Kubernetes ConfigMap); used when no
                          --primary/--replica/--config.file is given
  DB_REPLICA_HOST         replica host or headless Service; every address it
                          resolves to is polled as a replica, re-resolved
                          every poll cycle
  DB_PORT                 port for DB_HOST and DB_REPLICA_HOST (default 5432)
  PGREPL_USER             monitoring user for DB_HOST mode (default
                          pgrepl_monitor)
  PGREPL_DATABASE         database for DB_HOST mode (default postgres)
  PGREPL_PASSWORD         monitoring user's password
  PGREPL_PASSWORD_FILE    file holding that password (wins over
                          PGREPL_PASSWORD); passwords are never flags
  PGREPL_CLUSTER          default for --cluster
  PGPASSFILE, PGSSLMODE.. read by libpq as usual
Exit status: 0 on clean shutdown, 2 on bad input at startup.
)";

Result<InstanceTarget> TargetFromJson(const nlohmann::json& j, bool primary,
                                      const std::string& where) {
  InstanceTarget t;
  t.configured_primary = primary;
  if (j.is_string()) {
    t.conninfo = j.get<std::string>();
  } else if (j.is_object()) {
    if (!j.contains("conninfo") || !j["conninfo"].is_string()) {
      return Status::Invalid(where + ": \"conninfo\" must be a string");
    }
    t.conninfo = j["conninfo"].get<std::string>();
    if (j.contains("name")) {
      if (!j["name"].is_string()) {
        return Status::Invalid(where + ": \"name\" must be a string");
      }
      t.name = j["name"].get<std::string>();
    }
  } else {
    return Status::Invalid(where + ": expected a conninfo string or an object");
  }
  auto parsed = ParseConninfo(t.conninfo);
  if (!parsed.ok()) return Status::Invalid(where + ": " + parsed.status().message());
  if (t.name.empty()) t.name = TargetName(parsed.value());
  return t;
}

Result<ClusterConfig> ClusterFromJson(const nlohmann::json& j, size_t index,
                                      const std::string& default_name) {
  std::string where = "clusters[" + std::to_string(index) + "]";
  if (!j.is_object()) return Status::Invalid(where + ": expected an object");
  static const std::set<std::string> kKeys = {"name", "primary", "replicas",
                                              "replica_discovery"};
  for (const auto& item : j.items()) {
    if (!kKeys.count(item.key())) {
      return Status::Invalid(where + ": unknown key \"" + item.key() + "\"");
    }
  }
  ClusterConfig c;
  c.name = default_name;
  if (j.contains("name")) {
    if (!j["name"].is_string()) return Status::Invalid(where + ".name: expected a string");
    c.name = j["name"].get<std::string>();
  }
  if (j.contains("primary")) {
    auto t = TargetFromJson(j["primary"], true, where + ".primary");
    if (!t.ok()) return t.status();
    c.instances.push_back(std::move(t).value());
  }
  if (j.contains("replicas")) {
    if (!j["replicas"].is_array()) {
      return Status::Invalid(where + ".replicas: expected an array");
    }
    for (size_t i = 0; i < j["replicas"].size(); ++i) {
      auto t = TargetFromJson(j["replicas"][i], false,
                              where + ".replicas[" + std::to_string(i) + "]");
      if (!t.ok()) return t.status();
      c.instances.push_back(std::move(t).value());
    }
  }
  if (j.contains("replica_discovery")) {
    const auto& d = j["replica_discovery"];
    std::string dw = where + ".replica_discovery";
    if (!d.is_object() || !d.contains("host") || !d["host"].is_string()) {
      return Status::Invalid(dw + ": expected {\"host\": ..., \"port\": ..., \"conninfo\": ...}");
    }
    c.discovery.host = d["host"].get<std::string>();
    if (d.contains("port")) {
      if (!d["port"].is_number_integer()) return Status::Invalid(dw + ".port: expected an integer");
      // Range-checked before narrowing to int, so 4294975376 is not 8080.
      int64_t port = d["port"].get<int64_t>();
      if (port < 1 || port > 65535) return Status::Invalid(dw + ".port: expected 1 to 65535");
      c.discovery.port = static_cast<int>(port);
    }
    if (d.contains("conninfo")) {
      if (!d["conninfo"].is_string()) return Status::Invalid(dw + ".conninfo: expected a string");
      c.discovery.base_conninfo = d["conninfo"].get<std::string>();
    }
  }
  return c;
}

}  // namespace

bool ValidHeartbeatId(const std::string& id) {
  if (id.empty() || id.size() > 63) return false;
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' &&
        c != '-') {
      return false;
    }
  }
  return true;
}

Result<std::vector<ClusterConfig>> ParseConfigJson(
    const std::string& text, const std::string& default_cluster) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return Status::Invalid("config file: not valid JSON");
  if (!j.is_object() || !j.contains("clusters") || !j["clusters"].is_array()) {
    return Status::Invalid("config file: expected {\"clusters\": [...]}");
  }
  for (const auto& item : j.items()) {
    if (item.key() != "clusters") {
      return Status::Invalid("config file: unknown key \"" + item.key() + "\"");
    }
  }
  std::vector<ClusterConfig> out;
  for (size_t i = 0; i < j["clusters"].size(); ++i) {
    auto c = ClusterFromJson(j["clusters"][i], i, default_cluster);
    if (!c.ok()) return Status::Invalid("config file: " + c.status().message());
    out.push_back(std::move(c).value());
  }
  return out;
}

Status Validate(const Config& config) {
  if (config.clusters.empty()) {
    return Status::Invalid(
        "no targets: give --primary/--replica, --config.file or DB_HOST");
  }
  std::set<std::string> clusters;
  for (const auto& c : config.clusters) {
    if (c.name.empty()) return Status::Invalid("a cluster name is empty");
    if (!clusters.insert(c.name).second) {
      return Status::Invalid("cluster \"" + c.name + "\" is defined twice");
    }
    if (c.instances.empty() && c.discovery.host.empty()) {
      return Status::Invalid("cluster \"" + c.name + "\" has no instances");
    }
    std::set<std::string> names;
    for (const auto& t : c.instances) {
      if (t.name.empty()) {
        return Status::Invalid("cluster \"" + c.name + "\": an instance name is empty");
      }
      if (!names.insert(t.name).second) {
        return Status::Invalid("cluster \"" + c.name + "\": instance \"" +
                               t.name + "\" is defined twice");
      }
      auto parsed = ParseConninfo(t.conninfo);
      if (!parsed.ok()) {
        return Status::Invalid("instance \"" + t.name + "\": " +
                               parsed.status().message());
      }
    }
    if (!c.discovery.host.empty()) {
      if (c.discovery.port <= 0 || c.discovery.port > 65535) {
        return Status::Invalid("cluster \"" + c.name + "\": bad replica port");
      }
      auto parsed = ParseConninfo(c.discovery.base_conninfo);
      if (!parsed.ok()) {
        return Status::Invalid("cluster \"" + c.name + "\" discovery: " +
                               parsed.status().message());
      }
    }
  }
  if (config.poll_interval < std::chrono::milliseconds(100)) {
    return Status::Invalid("--poll.interval must be at least 100ms");
  }
  if (config.poll_timeout < std::chrono::milliseconds(100)) {
    return Status::Invalid("--poll.timeout must be at least 100ms");
  }
  if (config.connect_timeout < std::chrono::milliseconds(100)) {
    return Status::Invalid("--pg.connect-timeout must be at least 100ms");
  }
  if (config.telemetry_path.empty() || config.telemetry_path[0] != '/') {
    return Status::Invalid("--web.telemetry-path must start with '/'");
  }
  if (config.heartbeat && !ValidHeartbeatId(config.heartbeat_id)) {
    return Status::Invalid(
        "--heartbeat.id must be 1-63 letters, digits, '.', '_' or '-'");
  }
  static const std::set<std::string> kLevels = {"trace", "debug", "info",
                                                "warn", "error"};
  if (!kLevels.count(config.log_level)) {
    return Status::Invalid("--log.level must be one of trace, debug, info, warn, error");
  }
  if (config.log_format != "logfmt" && config.log_format != "json") {
    return Status::Invalid("--log.format must be logfmt or json");
  }
  if (config.sidecar) {
    size_t instances = 0;
    bool discovery = false;
    for (const auto& c : config.clusters) {
      instances += c.instances.size();
      discovery = discovery || !c.discovery.host.empty();
    }
    if (instances != 1 || discovery) {
      return Status::Invalid("--sidecar needs exactly one configured instance, got " +
                             std::to_string(instances) +
                             (discovery ? " plus replica discovery" : ""));
    }
  }
  return Status::Ok();
}

namespace {

// ParseCommandLine without its one-line guarantee.
Result<CommandLine> ParseCommandLineUnchecked(int argc, const char* const* argv,
                                              const EnvLookup& env) {
  auto getenv_or = [&](const char* name, const std::string& fallback) {
    const char* v = env(name);
    return (v && *v) ? std::string(v) : fallback;
  };

  CommandLine cl;
  Config& cfg = cl.config;
  std::vector<std::string> primaries, replicas;
  std::string cluster = getenv_or("PGREPL_CLUSTER", "default");
  std::string config_file, interval, timeout, connect_timeout, backoff_max;
  std::string replica_max_lag;

  CLI::App app{"pgrepl_exporter: PostgreSQL streaming replication exporter",
               "pgrepl_exporter"};
  app.option_defaults()->always_capture_default();
  app.add_option("--primary", primaries,
                 "conninfo or URI of a primary (repeatable)")->take_all();
  app.add_option("--replica", replicas,
                 "conninfo or URI of a replica (repeatable)")->take_all();
  app.add_option("--cluster", cluster,
                 "value of the `cluster` label for --primary/--replica/DB_HOST targets");
  app.add_option("--config.file", config_file,
                 "JSON file describing several clusters");
  app.add_option("--poll.interval", interval, "time between polls of each instance (default 1s)");
  app.add_option("--poll.timeout", timeout,
                 "client-side bound on one poll: connect plus queries (default 2s)");
  app.add_option("--pg.connect-timeout", connect_timeout,
                 "bound on establishing a connection (default 2s)");
  app.add_option("--pg.reconnect-backoff-max", backoff_max,
                 "cap of the doubling reconnect backoff (default 5s)");
  app.add_option("--web.listen-address", cfg.listen_address,
                 "address to serve HTTP on, [host:]port");
  app.add_option("--web.telemetry-path", cfg.telemetry_path,
                 "path of the metrics endpoint");
  app.add_option("--web.config.file", cfg.web_config_file,
                 "exporter-toolkit web config (YAML): TLS and basic auth");
  app.add_flag("--sidecar", cfg.sidecar,
               "watch exactly one local instance; health checks default to it");
  app.add_option("--health.replica-max-lag", replica_max_lag,
                 "lag limit of /replica and /read-only without ?max_lag=: a "
                 "duration (5s) or a size (16MB) (default 5s)");
  app.add_option("--log.level", cfg.log_level, "trace, debug, info, warn or error");
  app.add_option("--log.format", cfg.log_format, "logfmt or json");
  app.add_flag("--heartbeat", cfg.heartbeat,
               "write a heartbeat row on the primary every poll and measure "
               "skew-free lag on every replica (needs docs/heartbeat.sql)");
  app.add_option("--heartbeat.id", cfg.heartbeat_id,
                 "this exporter's heartbeat row (default: the host name)");
  bool version = false;
  app.add_flag("--version", version, "print the version and exit");
  app.footer(kEnvHelp);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    cl.action = CommandLine::Action::kHelp;
    cl.text = app.help();
    return cl;
  } catch (const CLI::ParseError& e) {
    std::string msg = e.what();
    // Never echo a value that might be a secret (a conninfo given to an
    // unknown flag, say): keep CLI11's message only up to the first ':'.
    if (auto colon = msg.find(": "); colon != std::string::npos &&
                                    msg.find("password") != std::string::npos) {
      msg = msg.substr(0, colon);
    }
    return Status::Invalid(msg);
  }
  if (version) {
    cl.action = CommandLine::Action::kVersion;
    cl.text = VersionString();
    return cl;
  }

  auto set_duration = [](const std::string& text, const char* flag,
                         std::chrono::milliseconds* out) -> Status {
    if (text.empty()) return Status::Ok();
    auto d = ParseDuration(text);
    if (!d.ok()) return Status::Invalid(std::string(flag) + ": " + d.status().message());
    *out = d.value();
    return Status::Ok();
  };
  for (auto [text, flag, out] :
       {std::tuple{&interval, "--poll.interval", &cfg.poll_interval},
        std::tuple{&timeout, "--poll.timeout", &cfg.poll_timeout},
        std::tuple{&connect_timeout, "--pg.connect-timeout", &cfg.connect_timeout},
        std::tuple{&backoff_max, "--pg.reconnect-backoff-max", &cfg.reconnect_backoff_max}}) {
    Status s = set_duration(*text, flag, out);
    if (!s.ok()) return s;
  }

  if (!replica_max_lag.empty()) {
    auto limit = ParseLagLimit(replica_max_lag);
    if (!limit.ok()) {
      return Status::Invalid("--health.replica-max-lag: " + limit.status().message());
    }
    cfg.health_replica_max_lag = limit.value();
  }
  if (!cfg.web_config_file.empty()) {
    auto web = LoadWebConfig(cfg.web_config_file);
    if (!web.ok()) return web.status();
    cfg.web = std::move(web).value();
  }

  // Targets from flags form one cluster.
  if (!primaries.empty() || !replicas.empty()) {
    ClusterConfig c;
    c.name = cluster;
    for (auto [list, primary] : {std::pair{&primaries, true}, std::pair{&replicas, false}}) {
      for (const auto& conninfo : *list) {
        auto parsed = ParseConninfo(conninfo);
        if (!parsed.ok()) {
          return Status::Invalid(std::string(primary ? "--primary" : "--replica") +
                                 ": " + parsed.status().message());
        }
        c.instances.push_back({TargetName(parsed.value()), conninfo, primary});
      }
    }
    cfg.clusters.push_back(std::move(c));
  }
  if (!config_file.empty()) {
    auto text = ReadFile(config_file);
    if (!text.ok()) return Status::Invalid("cannot read --config.file " + config_file);
    auto clusters = ParseConfigJson(text.value(), cluster);
    if (!clusters.ok()) return clusters.status();
    for (auto& c : clusters.value()) cfg.clusters.push_back(std::move(c));
  }
  // The seed's ConfigMap variables, when nothing else names a target.
  const char* db_host = env("DB_HOST");
  const char* replica_host = env("DB_REPLICA_HOST");
  if (cfg.clusters.empty() && ((db_host && *db_host) || (replica_host && *replica_host))) {
    std::string port = getenv_or("DB_PORT", "5432");
    std::string base = "user=" + getenv_or("PGREPL_USER", "pgrepl_monitor") +
                       " dbname=" + getenv_or("PGREPL_DATABASE", "postgres");
    ClusterConfig c;
    c.name = cluster;
    if (db_host && *db_host) {
      std::string conninfo = base + " host=" + db_host + " port=" + port;
      auto parsed = ParseConninfo(conninfo);
      if (!parsed.ok()) return Status::Invalid("DB_HOST: " + parsed.status().message());
      c.instances.push_back({db_host, conninfo, true});
    }
    if (replica_host && *replica_host) {
      c.discovery.host = replica_host;
      c.discovery.base_conninfo = base;
      try {
        c.discovery.port = std::stoi(port);
      } catch (...) {
        return Status::Invalid("DB_PORT: not a port number");
      }
    }
    cfg.clusters.push_back(std::move(c));
  }

  if (const char* file = env("PGREPL_PASSWORD_FILE"); file && *file) {
    auto text = ReadFile(file);
    if (!text.ok()) {
      return Status::Invalid(std::string("cannot read PGREPL_PASSWORD_FILE ") + file);
    }
    cfg.password = text.value();
    while (!cfg.password.empty() &&
           (cfg.password.back() == '\n' || cfg.password.back() == '\r')) {
      cfg.password.pop_back();
    }
  } else if (const char* pw = env("PGREPL_PASSWORD"); pw) {
    cfg.password = pw;
  }

  if (cfg.heartbeat_id.empty()) {
    char host[256] = {0};
    gethostname(host, sizeof host - 1);
    for (char* c = host; *c; ++c) {
      if (!ValidHeartbeatId(std::string(1, *c))) *c = '_';
    }
    cfg.heartbeat_id = host[0] ? host : "pgrepl_exporter";
    if (cfg.heartbeat_id.size() > 63) cfg.heartbeat_id.resize(63);
  }

  Status s = Validate(cfg);
  if (!s.ok()) return s;
  return cl;
}

}  // namespace

Result<CommandLine> ParseCommandLine(int argc, const char* const* argv,
                                     const EnvLookup& env) {
  auto cl = ParseCommandLineUnchecked(argc, argv, env);
  if (cl.ok()) return cl;
  // Messages quote names and keys from flags and files; a control
  // character there ("a\nb" in JSON) must not split the one line.
  return Status::Invalid(ScrubControlChars(cl.status().message()));
}

}  // namespace pgrepl
