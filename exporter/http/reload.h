// ReloadWebConfig: what SIGHUP does, re-reading --web.config.file and
// applying it to the running HTTP server.
#ifndef PGREPL_EXPORTER_HTTP_RELOAD_H_
#define PGREPL_EXPORTER_HTTP_RELOAD_H_

#include "exporter/base/status.h"

namespace pgrepl {

class HttpServer;
class SnapshotStore;
struct Config;

// Loads config.web_config_file again and hands it to http->Reload(): new
// basic auth users, TLS certificate, key and client CAs for new
// connections, without a restart (a certificate rotated by cert-manager).
// A file that fails to load or apply changes nothing: the previous web
// config stays in use. Logs the outcome on one line, records it in `store`
// (pgrepl_config_last_reload_successful) and returns it. Without a web
// config file there is nothing to reload: a success.
Status ReloadWebConfig(const Config& config, HttpServer* http,
                       SnapshotStore* store);

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_HTTP_RELOAD_H_
