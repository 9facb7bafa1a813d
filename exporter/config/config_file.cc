// The JSON config file (--config.file): clusters with named instances and
// replica discovery, as documented in README.md ("Running the exporter").
#include "exporter/config/config_file.h"

#include <nlohmann/json.hpp>
#include <set>

#include "exporter/pg/conninfo.h"

namespace pgrepl {
namespace {

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
  if (!parsed.ok())
    return Status::Invalid(where + ": " + parsed.status().message());
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
    if (!j["name"].is_string())
      return Status::Invalid(where + ".name: expected a string");
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
      return Status::Invalid(
          dw + ": expected {\"host\": ..., \"port\": ..., \"conninfo\": ...}");
    }
    c.discovery.host = d["host"].get<std::string>();
    if (d.contains("port")) {
      if (!d["port"].is_number_integer())
        return Status::Invalid(dw + ".port: expected an integer");
      // Range-checked before narrowing to int, so 4294975376 is not 8080.
      int64_t port = d["port"].get<int64_t>();
      if (port < 1 || port > 65535)
        return Status::Invalid(dw + ".port: expected 1 to 65535");
      c.discovery.port = static_cast<int>(port);
    }
    if (d.contains("conninfo")) {
      if (!d["conninfo"].is_string())
        return Status::Invalid(dw + ".conninfo: expected a string");
      c.discovery.base_conninfo = d["conninfo"].get<std::string>();
    }
  }
  return c;
}

}  // namespace

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

}  // namespace pgrepl
