// HttpServer: the exporter's HTTP surface on civetweb.
#ifndef PGREPL_EXPORTER_HTTP_HTTP_SERVER_H_
#define PGREPL_EXPORTER_HTTP_HTTP_SERVER_H_

#include <memory>
#include <mutex>
#include <string>

#include "exporter/base/status.h"
#include "exporter/config/web_config.h"
#include "exporter/http/basic_auth.h"
#include "exporter/http/health.h"

struct mg_context;
struct mg_connection;

namespace pgrepl {

class ExporterMetrics;
class SnapshotStore;
class TlsContext;
struct Config;

struct HttpOptions {
  std::string listen_address;  // "[host:]port"
  std::string telemetry_path = "/metrics";
  WebConfig web;         // TLS and basic auth (--web.config.file)
  HealthPolicy health;   // /primary, /replica, /read-only
  bool sidecar = false;  // health checks default to the one instance
  // civetweb limits, chosen deliberately (see docs/http.md).
  int threads = 32;               // concurrent connections being served
  int request_timeout_ms = 5000;  // to receive a whole request, and per write
  int max_request_size = 16384;   // request line plus headers, bytes
  int keep_alive_timeout_ms = 2000;

  static HttpOptions From(const Config& config);
};

// Serves, for GET and HEAD only: the metrics (from the latest snapshots),
// /healthz, /ready, the health checks /primary, /replica and /read-only,
// the status page / and its JSON /status. No handler touches a database;
// every one answers from the SnapshotStore. With a web config, every
// endpoint is behind TLS and/or basic auth.
class HttpServer {
 public:
  HttpServer(HttpOptions options, const ExporterMetrics* metrics,  // not own
             const SnapshotStore* store);                          // not own
  ~HttpServer();  // stops serving
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Sets up TLS if configured, binds and starts serving. An Invalid status
  // (port in use, bad address, unusable certificate) is a startup error.
  // Must be called once.
  Status Start();

  // Applies a newly loaded web config to new connections and requests:
  // the basic auth users, and the TLS certificate, key, client CAs, client
  // certificate policy and protocol versions. Connections already open
  // keep their TLS session. Switching TLS on or off needs a restart and is
  // refused. On any error nothing changes. Thread-safe; after Start().
  Status Reload(const WebConfig& web);

  // Converts "[host]:port" or "port" into civetweb's listening_ports form,
  // with civetweb's 's' suffix for a TLS port.
  static std::string CivetListenSpec(const std::string& listen_address,
                                     bool tls);

 private:
  static int BeginRequest(mg_connection* conn);
  static int ExternalSslContext(void** ssl_ctx, void* self);
  int Dispatch(mg_connection* conn) const;
  int HandleMetrics(mg_connection* conn) const;
  int HandleReady(mg_connection* conn) const;
  int HandleHealth(mg_connection* conn, HealthCheck check) const;
  int HandleStatusPage(mg_connection* conn) const;
  int HandleStatusJson(mg_connection* conn) const;
  std::shared_ptr<const BasicAuth> auth() const;

  const HttpOptions options_;  // as at startup; Reload() does not change it
  const ExporterMetrics* const metrics_;
  const SnapshotStore* const store_;
  mutable std::mutex auth_mu_;
  std::shared_ptr<const BasicAuth> auth_;  // GUARDED_BY(auth_mu_)
  std::unique_ptr<TlsContext> tls_;        // set by Start() when TLS is on
  bool library_initialised_ = false;
  mg_context* ctx_ = nullptr;  // owned
};

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_HTTP_HTTP_SERVER_H_
