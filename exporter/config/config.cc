// The exporter's configuration and its validation.
#include "exporter/config/config.h"

#include <cctype>
#include <set>

#include "exporter/base/text.h"
#include "exporter/pg/conninfo.h"

namespace pgrepl {

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
        return Status::Invalid("cluster \"" + c.name +
                               "\": an instance name is empty");
      }
      if (!names.insert(t.name).second) {
        return Status::Invalid("cluster \"" + c.name + "\": instance \"" +
                               t.name + "\" is defined twice");
      }
      auto parsed = ParseConninfo(t.conninfo);
      Status s =
          parsed.ok() ? CheckConninfoValues(parsed.value()) : parsed.status();
      if (!s.ok()) {
        return Status::Invalid("cluster \"" + c.name + "\": instance \"" +
                               t.name + "\": " + s.message());
      }
    }
    if (!c.discovery.host.empty()) {
      if (c.discovery.port <= 0 || c.discovery.port > 65535) {
        return Status::Invalid("cluster \"" + c.name + "\": bad replica port");
      }
      auto parsed = ParseConninfo(c.discovery.base_conninfo);
      Status s =
          parsed.ok() ? CheckConninfoValues(parsed.value()) : parsed.status();
      if (!s.ok()) {
        return Status::Invalid("cluster \"" + c.name +
                               "\" discovery: " + s.message());
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
    return Status::Invalid(
        "--log.level must be one of trace, debug, info, warn, error");
  }
  if (config.log_format != "logfmt" && config.log_format != "json") {
    return Status::Invalid("--log.format must be logfmt or json");
  }
  if (!config.sidecar_primary.conninfo.empty()) {
    if (!config.sidecar) {
      return Status::Invalid("--sidecar.primary needs --sidecar");
    }
    auto parsed = ParseConninfo(config.sidecar_primary.conninfo);
    Status s =
        parsed.ok() ? CheckConninfoValues(parsed.value()) : parsed.status();
    if (!s.ok()) return Status::Invalid("--sidecar.primary: " + s.message());
  }
  if (config.sidecar) {
    size_t instances = 0;
    bool discovery = false;
    for (const auto& c : config.clusters) {
      instances += c.instances.size();
      discovery = discovery || !c.discovery.host.empty();
    }
    if (instances != 1 || discovery) {
      return Status::Invalid(
          "--sidecar needs exactly one configured instance, got " +
          std::to_string(instances) +
          (discovery ? " plus replica discovery" : ""));
    }
  }
  return Status::Ok();
}

}  // namespace pgrepl
