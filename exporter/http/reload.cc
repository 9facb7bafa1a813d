// ReloadWebConfig: what SIGHUP does, re-reading --web.config.file and
// applying it to the running HTTP server.
#include "exporter/http/reload.h"

#include <string>

#include "exporter/base/logging.h"
#include "exporter/config/config.h"
#include "exporter/config/secret_files.h"
#include "exporter/config/web_config.h"
#include "exporter/http/http_server.h"
#include "exporter/model/snapshot_store.h"

namespace pgrepl {

Status ReloadWebConfig(const Config& config, HttpServer* http,
                       SnapshotStore* store) {
  const auto now = InstanceSnapshot::WallClock::now();
  if (config.web_config_file.empty()) {
    Log(spdlog::level::info, "SIGHUP: no --web.config.file, nothing to reload");
    store->RecordReload(true, now);
    return Status::Ok();
  }
  Status status = Status::Ok();
  auto loaded = LoadWebConfig(config.web_config_file);
  if (!loaded.ok()) {
    status = loaded.status();
  } else {
    status = http->Reload(loaded.value());
  }
  store->RecordReload(status.ok(), now);
  if (!status.ok()) {
    Log(spdlog::level::err,
        "web config reload failed; the previous one stays in use",
        {{"file", config.web_config_file}, {"error", status.message()}});
    return status;
  }
  const WebConfig& web = loaded.value();
  Log(spdlog::level::info, "web config reloaded",
      {{"file", config.web_config_file},
       {"tls", web.tls ? "on" : "off"},
       {"basic_auth_users", std::to_string(web.basic_auth_users.size())}});
  Config reloaded = config;
  reloaded.web = web;
  WarnAboutReadableSecretFiles(reloaded);
  return status;
}

}  // namespace pgrepl
