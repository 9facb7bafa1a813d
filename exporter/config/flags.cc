// The command line: flags (CLI11) and environment variables, plus the JSON
// config file they may name, parsed into a validated Config.
#include "exporter/config/flags.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <charconv>
#include <chrono>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "exporter/base/duration.h"
#include "exporter/base/text.h"
#include "exporter/base/version.h"
#include "exporter/config/config_file.h"
#include "exporter/config/lag_limit.h"
#include "exporter/config/web_config.h"
#include "exporter/pg/conninfo.h"

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

// Flag values that still need parsing once CLI11 is done. The other flags
// are bound straight to Config's fields.
struct RawFlags {
  std::vector<std::string> primaries;
  std::vector<std::string> replicas;
  std::string cluster;  // the `cluster` label of flag and DB_HOST targets
  std::string config_file;
  std::string poll_interval;
  std::string poll_timeout;
  std::string connect_timeout;
  std::string reconnect_backoff_max;
  std::string replica_max_lag;
  std::string sidecar_primary;
  bool version = false;
};

// The environment variable's value; `fallback` when it is unset or empty.
std::string EnvOr(const EnvLookup& env, const char* name,
                  const std::string& fallback) {
  const char* v = env(name);
  return (v && *v) ? std::string(v) : fallback;
}

// Declares every flag, in the order --help lists them. Defaults shown by
// --help are the values `raw` and `cfg` hold now.
void DefineFlags(CLI::App* app, RawFlags* raw, Config* cfg) {
  app->option_defaults()->always_capture_default();
  app->add_option("--primary", raw->primaries,
                  "conninfo or URI of a primary (repeatable)")
      ->take_all();
  app->add_option("--replica", raw->replicas,
                  "conninfo or URI of a replica (repeatable)")
      ->take_all();
  app->add_option(
      "--cluster", raw->cluster,
      "value of the `cluster` label for --primary/--replica/DB_HOST targets");
  app->add_option("--config.file", raw->config_file,
                  "JSON file describing several clusters");
  app->add_option("--poll.interval", raw->poll_interval,
                  "time between polls of each instance (default 1s)");
  app->add_option(
      "--poll.timeout", raw->poll_timeout,
      "client-side bound on one poll: connect plus queries (default 2s)");
  app->add_option("--pg.connect-timeout", raw->connect_timeout,
                  "bound on establishing a connection (default 2s)");
  app->add_option("--pg.reconnect-backoff-max", raw->reconnect_backoff_max,
                  "cap of the doubling reconnect backoff (default 5s)");
  app->add_option("--web.listen-address", cfg->listen_address,
                  "address to serve HTTP on, [host:]port");
  app->add_option("--web.telemetry-path", cfg->telemetry_path,
                  "path of the metrics endpoint");
  app->add_option("--web.config.file", cfg->web_config_file,
                  "exporter-toolkit web config (YAML): TLS and basic auth");
  app->add_flag(
      "--sidecar", cfg->sidecar,
      "watch exactly one local instance; health checks default to it");
  app->add_option("--sidecar.primary", raw->sidecar_primary,
                  "with --sidecar: conninfo or URI of the primary as clients "
                  "reach it (DB_HOST); one short query per poll");
  app->add_option("--health.replica-max-lag", raw->replica_max_lag,
                  "lag limit of /replica and /read-only without ?max_lag=: a "
                  "duration (5s) or a size (16MB) (default 5s)");
  app->add_option("--log.level", cfg->log_level,
                  "trace, debug, info, warn or error");
  app->add_option("--log.format", cfg->log_format, "logfmt or json");
  app->add_flag("--heartbeat", cfg->heartbeat,
                "write a heartbeat row on the primary every poll and measure "
                "skew-free lag on every replica (needs docs/heartbeat.sql)");
  app->add_option("--heartbeat.id", cfg->heartbeat_id,
                  "this exporter's heartbeat row (default: the host name)");
  app->add_flag("--version", raw->version, "print the version and exit");
  app->footer(kEnvHelp);
}

// CLI11's error as a Status. CLI11 quotes arguments verbatim (an unknown
// flag's value, a positional argument), and one may be a URI or conninfo
// with a password: each argument that carries a secret is replaced by its
// scrubbed form, and the rest of the message is scrubbed as free text.
Status FromParseError(const CLI::ParseError& e, int argc,
                      const char* const* argv) {
  std::string msg = e.what();
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string scrubbed = ScrubArgument(arg);
    if (arg.empty() || scrubbed == arg) continue;
    for (size_t at = msg.find(arg); at != std::string::npos;
         at = msg.find(arg, at + scrubbed.size())) {
      msg.replace(at, arg.size(), scrubbed);
    }
  }
  return Status::Invalid(ScrubSecrets(msg));
}

// --poll.interval, --poll.timeout, --pg.connect-timeout and
// --pg.reconnect-backoff-max, each where given.
Status SetDurations(const RawFlags& raw, Config* cfg) {
  for (auto [text, flag, out] :
       {std::tuple{&raw.poll_interval, "--poll.interval", &cfg->poll_interval},
        std::tuple{&raw.poll_timeout, "--poll.timeout", &cfg->poll_timeout},
        std::tuple{&raw.connect_timeout, "--pg.connect-timeout",
                   &cfg->connect_timeout},
        std::tuple{&raw.reconnect_backoff_max, "--pg.reconnect-backoff-max",
                   &cfg->reconnect_backoff_max}}) {
    if (text->empty()) continue;
    auto d = ParseDuration(*text);
    if (!d.ok()) {
      return Status::Invalid(std::string(flag) + ": " + d.status().message());
    }
    *out = d.value();
  }
  return Status::Ok();
}

// --health.replica-max-lag, where given.
Status SetReplicaMaxLag(const RawFlags& raw, Config* cfg) {
  if (raw.replica_max_lag.empty()) return Status::Ok();
  auto limit = ParseLagLimit(raw.replica_max_lag);
  if (!limit.ok()) {
    return Status::Invalid("--health.replica-max-lag: " +
                           limit.status().message());
  }
  cfg->health_replica_max_lag = limit.value();
  return Status::Ok();
}

// TLS and basic auth from --web.config.file, where given.
Status SetWebConfig(Config* cfg) {
  if (cfg->web_config_file.empty()) return Status::Ok();
  auto web = LoadWebConfig(cfg->web_config_file);
  if (!web.ok()) return web.status();
  cfg->web = std::move(web).value();
  return Status::Ok();
}

// --primary and --replica: one cluster named by --cluster.
Status AddFlagTargets(const RawFlags& raw, Config* cfg) {
  if (raw.primaries.empty() && raw.replicas.empty()) return Status::Ok();
  ClusterConfig c;
  c.name = raw.cluster;
  for (auto [list, primary] :
       {std::pair{&raw.primaries, true}, std::pair{&raw.replicas, false}}) {
    for (const auto& conninfo : *list) {
      auto parsed = ParseConninfo(conninfo);
      if (!parsed.ok()) {
        return Status::Invalid(
            std::string(primary ? "--primary" : "--replica") + ": " +
            parsed.status().message());
      }
      c.instances.push_back({TargetName(parsed.value()), conninfo, primary});
    }
  }
  cfg->clusters.push_back(std::move(c));
  return Status::Ok();
}

// --sidecar.primary, where given.
Status SetSidecarPrimary(const RawFlags& raw, Config* cfg) {
  if (raw.sidecar_primary.empty()) return Status::Ok();
  auto parsed = ParseConninfo(raw.sidecar_primary);
  if (!parsed.ok()) {
    return Status::Invalid("--sidecar.primary: " + parsed.status().message());
  }
  cfg->sidecar_primary = {TargetName(parsed.value()), raw.sidecar_primary,
                          true};
  return Status::Ok();
}

// The clusters of --config.file, where given; --cluster names those that
// give no name.
Status AddConfigFileTargets(const RawFlags& raw, Config* cfg) {
  if (raw.config_file.empty()) return Status::Ok();
  auto text = ReadFile(raw.config_file);
  if (!text.ok()) {
    return Status::Invalid("cannot read --config.file " + raw.config_file);
  }
  auto clusters = ParseConfigJson(text.value(), raw.cluster);
  if (!clusters.ok()) return clusters.status();
  for (auto& c : clusters.value()) cfg->clusters.push_back(std::move(c));
  return Status::Ok();
}

// The seed's Kubernetes ConfigMap variables, when nothing else names a
// target: DB_HOST is the primary, DB_REPLICA_HOST a name whose addresses
// are the replicas, both on DB_PORT, as PGREPL_USER on PGREPL_DATABASE.
Status AddEnvironmentTargets(const EnvLookup& env, const std::string& cluster,
                             Config* cfg) {
  const char* db_host = env("DB_HOST");
  const char* replica_host = env("DB_REPLICA_HOST");
  bool has_primary = db_host && *db_host;
  bool has_replicas = replica_host && *replica_host;
  if (!cfg->clusters.empty() || (!has_primary && !has_replicas)) {
    return Status::Ok();
  }
  std::string port = EnvOr(env, "DB_PORT", "5432");
  std::string base = "user=" + EnvOr(env, "PGREPL_USER", "pgrepl_monitor") +
                     " dbname=" + EnvOr(env, "PGREPL_DATABASE", "postgres");
  ClusterConfig c;
  c.name = cluster;
  if (has_primary) {
    std::string conninfo = base + " host=" + db_host + " port=" + port;
    auto parsed = ParseConninfo(conninfo);
    if (!parsed.ok())
      return Status::Invalid("DB_HOST: " + parsed.status().message());
    c.instances.push_back({db_host, conninfo, true});
  }
  if (has_replicas) {
    c.discovery.host = replica_host;
    c.discovery.base_conninfo = base;
    int n = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
    if (ec != std::errc() || end != port.data() + port.size() || n < 1 ||
        n > 65535) {
      return Status::Invalid("DB_PORT: expected a port number 1 to 65535");
    }
    c.discovery.port = n;
  }
  cfg->clusters.push_back(std::move(c));
  return Status::Ok();
}

// The monitoring password: PGREPL_PASSWORD_FILE's content less its
// trailing line ends, else PGREPL_PASSWORD. Neither: left empty for libpq.
Status SetPassword(const EnvLookup& env, Config* cfg) {
  if (const char* file = env("PGREPL_PASSWORD_FILE"); file && *file) {
    auto text = ReadFile(file);
    if (!text.ok()) {
      return Status::Invalid(std::string("cannot read PGREPL_PASSWORD_FILE ") +
                             file);
    }
    cfg->password = text.value();
    cfg->password_file = file;
    while (!cfg->password.empty() &&
           (cfg->password.back() == '\n' || cfg->password.back() == '\r')) {
      cfg->password.pop_back();
    }
  } else if (const char* pw = env("PGREPL_PASSWORD"); pw) {
    cfg->password = pw;
  }
  return Status::Ok();
}

// --heartbeat.id defaults to the host name, made a valid id: each other
// character becomes '_', and at most 63 are kept.
void SetDefaultHeartbeatId(Config* cfg) {
  if (!cfg->heartbeat_id.empty()) return;
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  for (char* c = host; *c; ++c) {
    if (!ValidHeartbeatId(std::string(1, *c))) *c = '_';
  }
  cfg->heartbeat_id = host[0] ? host : "pgrepl_exporter";
  if (cfg->heartbeat_id.size() > 63) cfg->heartbeat_id.resize(63);
}

// ParseCommandLine without its one-line guarantee.
Result<CommandLine> ParseCommandLineUnchecked(int argc, const char* const* argv,
                                              const EnvLookup& env) {
  CommandLine cl;
  Config& cfg = cl.config;
  RawFlags raw;
  raw.cluster = EnvOr(env, "PGREPL_CLUSTER", "default");
  CLI::App app{"pgrepl_exporter: PostgreSQL streaming replication exporter",
               "pgrepl_exporter"};
  DefineFlags(&app, &raw, &cfg);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    cl.action = CommandLine::Action::kHelp;
    cl.text = app.help();
    return cl;
  } catch (const CLI::ParseError& e) {
    return FromParseError(e, argc, argv);
  }
  if (raw.version) {
    cl.action = CommandLine::Action::kVersion;
    cl.text = VersionString();
    return cl;
  }

  // In this order, so the first problem is the one reported.
  Status s = SetDurations(raw, &cfg);
  if (s.ok()) s = SetReplicaMaxLag(raw, &cfg);
  if (s.ok()) s = SetWebConfig(&cfg);
  if (s.ok()) s = AddFlagTargets(raw, &cfg);
  if (s.ok()) s = SetSidecarPrimary(raw, &cfg);
  if (s.ok()) s = AddConfigFileTargets(raw, &cfg);
  if (s.ok()) s = AddEnvironmentTargets(env, raw.cluster, &cfg);
  if (s.ok()) s = SetPassword(env, &cfg);
  if (s.ok()) SetDefaultHeartbeatId(&cfg);
  if (s.ok()) s = Validate(cfg);
  if (!s.ok()) return s;
  return cl;
}

}  // namespace

Result<CommandLine> ParseCommandLine(int argc, const char* const* argv,
                                     const EnvLookup& env) {
  auto cl = ParseCommandLineUnchecked(argc, argv, env);
  if (cl.ok()) return cl;
  // Messages quote names and keys from flags and files; a control
  // character there ("a\nb" in JSON) must not split the one line, and a
  // secret there must not be shown.
  return Status::Invalid(
      ScrubControlChars(ScrubSecrets(cl.status().message())));
}

}  // namespace pgrepl
