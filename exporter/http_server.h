// HttpServer: the exporter's HTTP surface on civetweb.
#ifndef PGREPL_EXPORTER_HTTP_SERVER_H_
#define PGREPL_EXPORTER_HTTP_SERVER_H_

#include <memory>
#include <string>

#include "exporter/status.h"

struct mg_context;
struct mg_connection;

namespace pgrepl {

class ExporterMetrics;
class SnapshotStore;

struct HttpOptions {
  std::string listen_address;  // "[host:]port"
  std::string telemetry_path;
  // civetweb limits, chosen deliberately (see docs/http.md).
  int threads = 8;
  int request_timeout_ms = 5000;
  int max_request_size = 16384;
};

// Serves /metrics (from the latest snapshots), /healthz, /ready and the
// landing page. No handler touches a database.
class HttpServer {
 public:
  HttpServer(HttpOptions options, const ExporterMetrics* metrics,  // not own
             const SnapshotStore* store);                          // not own
  ~HttpServer();  // stops serving
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts serving. An Invalid status (port in use, bad address)
  // is a startup error. Must be called once.
  Status Start();

  // Converts "[host]:port" or "port" into civetweb's listening_ports form.
  static std::string CivetListenSpec(const std::string& listen_address);

 private:
  static int HandleMetrics(mg_connection* conn, void* self);
  static int HandleHealthz(mg_connection* conn, void* self);
  static int HandleReady(mg_connection* conn, void* self);
  static int HandleRoot(mg_connection* conn, void* self);

  const HttpOptions options_;
  const ExporterMetrics* const metrics_;
  const SnapshotStore* const store_;
  mg_context* ctx_ = nullptr;  // owned
};

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_HTTP_SERVER_H_
