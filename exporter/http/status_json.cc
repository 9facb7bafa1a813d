// The /status API: a StatusReport as JSON (schema in docs/http.md).
#include "exporter/http/status_json.h"

#include <nlohmann/json.hpp>

#include "exporter/base/text.h"
#include "exporter/base/version.h"

namespace pgrepl {
namespace {

using json = nlohmann::ordered_json;

template <typename T>
json OrNull(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

json TimeOrNull(
    const std::optional<InstanceSnapshot::WallClock::time_point>& t) {
  return t ? json(FormatTimestamp(*t)) : json(nullptr);
}

json Check(const HealthVerdict& v) {
  return {{"ok", v.ok}, {"reason", v.reason}};
}

json InstanceJson(const InstanceStatus& i) {
  json slots = json::array();
  for (const auto& s : i.slots) {
    slots.push_back({{"name", s.name},
                     {"type", s.type},
                     {"active", s.active},
                     {"wal_status", OrNull(s.wal_status)},
                     {"retained_bytes", OrNull(s.retained_bytes)},
                     {"safe_wal_size_bytes", OrNull(s.safe_wal_size)}});
  }
  json standbys = json::array();
  for (const auto& s : i.standbys) {
    standbys.push_back({{"name", s.name},
                        {"slot", s.slot},
                        {"connected", s.connected},
                        {"state", s.state},
                        {"sync_state", s.sync_state}});
  }
  json receiver = nullptr;
  if (i.wal_receiver) {
    const auto& w = *i.wal_receiver;
    receiver = {{"status", w.status},
                {"upstream_host", w.upstream_host},
                {"upstream_port", w.upstream_port},
                {"slot", w.slot},
                {"last_message_age_seconds", OrNull(w.last_msg_age)}};
  }
  return {{"name", i.name},
          {"role", RoleName(i.role)},
          {"configured_role", RoleName(i.configured_role)},
          {"discovered", i.discovered},
          {"aliases", i.aliases},
          {"up", i.up},
          {"lag_seconds", OrNull(i.lag_seconds)},
          {"lag_bytes", OrNull(i.lag_bytes)},
          {"lag_state", LagBandName(i.lag_band)},
          {"wal_receiver", receiver},
          {"replay_paused", OrNull(i.replay_paused)},
          {"primary_reachable", OrNull(i.primary_reachable)},
          {"serving_without_primary", i.serving_without_primary},
          {"server_version_num", OrNull(i.server_version_num)},
          {"timeline", OrNull(i.timeline)},
          {"last_poll", TimeOrNull(i.last_poll)},
          {"last_success", TimeOrNull(i.last_success)},
          {"last_error", i.last_error},
          {"slots", slots},
          {"standbys", standbys},
          {"health",
           {{"primary", Check(i.primary_check)},
            {"replica", Check(i.replica_check)},
            {"read_only", Check(i.read_only_check)}}}};
}

}  // namespace

std::string RenderStatusJson(const StatusReport& report) {
  json clusters = json::array();
  for (const auto& c : report.clusters) {
    json instances = json::array();
    for (const auto& i : c.instances) instances.push_back(InstanceJson(i));
    clusters.push_back({{"name", c.name},
                        {"primaries", c.primaries},
                        {"instances", instances}});
  }
  json out = {{"version", StatusReport::kVersion},
              {"exporter_version", Version()},
              {"generated_at", FormatTimestamp(report.generated_at)},
              {"last_poll", TimeOrNull(report.last_poll)},
              {"replica_max_lag", report.lag_limit.text},
              {"clusters", clusters}};
  return out.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace pgrepl
