// HttpServer: the exporter's HTTP surface on civetweb.
#include "exporter/http_server.h"

#include <civetweb.h>
#include <prometheus/text_serializer.h>

#include <cstring>
#include <sstream>
#include <vector>

#include "exporter/exporter_metrics.h"
#include "exporter/snapshot_store.h"

namespace pgrepl {
namespace {

bool IsHead(mg_connection* conn) {
  const mg_request_info* ri = mg_get_request_info(conn);
  return ri && ri->request_method && std::strcmp(ri->request_method, "HEAD") == 0;
}

int Reply(mg_connection* conn, int code, const char* content_type,
          const std::string& body) {
  const char* reason = code == 200 ? "OK"
                       : code == 503 ? "Service Unavailable"
                       : code == 404 ? "Not Found"
                       : code == 405 ? "Method Not Allowed"
                                     : "Error";
  mg_printf(conn,
            "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
            "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n\r\n",
            code, reason, content_type, body.size());
  if (!IsHead(conn)) mg_write(conn, body.data(), body.size());
  return code;
}

// GET and HEAD only; anything else gets 405.
bool MethodAllowed(mg_connection* conn) {
  const mg_request_info* ri = mg_get_request_info(conn);
  if (!ri || !ri->request_method) return false;
  return std::strcmp(ri->request_method, "GET") == 0 ||
         std::strcmp(ri->request_method, "HEAD") == 0;
}

int LogMessage(const mg_connection*, const char*) {
  return 1;  // civetweb's own messages are dropped: they may echo requests
}

}  // namespace

std::string HttpServer::CivetListenSpec(const std::string& listen_address) {
  std::string a = listen_address;
  if (!a.empty() && a[0] == ':') a = a.substr(1);
  return a;
}

HttpServer::HttpServer(HttpOptions options, const ExporterMetrics* metrics,
                       const SnapshotStore* store)
    : options_(std::move(options)), metrics_(metrics), store_(store) {}

HttpServer::~HttpServer() {
  if (ctx_ != nullptr) mg_stop(ctx_);
}

Status HttpServer::Start() {
  std::string ports = CivetListenSpec(options_.listen_address);
  if (ports.empty()) return Status::Invalid("--web.listen-address is empty");
  std::string threads = std::to_string(options_.threads);
  std::string timeout = std::to_string(options_.request_timeout_ms);
  std::string max_size = std::to_string(options_.max_request_size);
  const char* opts[] = {"listening_ports", ports.c_str(),
                        "num_threads", threads.c_str(),
                        "request_timeout_ms", timeout.c_str(),
                        "max_request_size", max_size.c_str(),
                        "enable_keep_alive", "yes",
                        "keep_alive_timeout_ms", "5000",
                        nullptr};
  mg_callbacks callbacks{};
  callbacks.log_message = LogMessage;
  mg_init_data init{};
  init.callbacks = &callbacks;
  init.user_data = this;
  init.configuration_options = opts;
  char err_text[256] = {0};
  unsigned err_code = 0;
  mg_error_data err{};
  err.code = &err_code;
  err.text = err_text;
  err.text_buffer_size = sizeof err_text;
  ctx_ = mg_start2(&init, &err);
  if (ctx_ == nullptr) {
    std::string why = err_text[0] ? err_text : "cannot start HTTP server";
    why += " (port in use, or address not available)";
    for (char& c : why) {
      if (c == '\n') c = ' ';
    }
    return Status::Invalid("--web.listen-address " + options_.listen_address +
                           ": " + why);
  }
  std::string metrics_pattern = options_.telemetry_path + "$";
  mg_set_request_handler(ctx_, metrics_pattern.c_str(), HandleMetrics, this);
  mg_set_request_handler(ctx_, "/healthz$", HandleHealthz, this);
  mg_set_request_handler(ctx_, "/ready$", HandleReady, this);
  mg_set_request_handler(ctx_, "/$", HandleRoot, this);
  return Status::Ok();
}

int HttpServer::HandleMetrics(mg_connection* conn, void* p) {
  auto* self = static_cast<HttpServer*>(p);
  if (!MethodAllowed(conn)) return Reply(conn, 405, "text/plain", "GET or HEAD only\n");
  std::string body;
  try {
    std::ostringstream out;
    prometheus::TextSerializer().Serialize(out, self->metrics_->Collect());
    body = out.str();
  } catch (...) {
    return Reply(conn, 500, "text/plain", "serialization failed\n");
  }
  return Reply(conn, 200, "text/plain; version=0.0.4; charset=utf-8", body);
}

int HttpServer::HandleHealthz(mg_connection* conn, void*) {
  return Reply(conn, 200, "text/plain", "ok: exporter process is alive\n");
}

int HttpServer::HandleReady(mg_connection* conn, void* p) {
  auto* self = static_cast<HttpServer*>(p);
  if (self->store_->AnyPolled()) {
    return Reply(conn, 200, "text/plain", "ok: at least one poll completed\n");
  }
  return Reply(conn, 503, "text/plain", "not ready: no poll has completed yet\n");
}

int HttpServer::HandleRoot(mg_connection* conn, void* p) {
  auto* self = static_cast<HttpServer*>(p);
  std::string path = self->options_.telemetry_path;
  std::string body =
      "<!doctype html><html><head><meta charset=\"utf-8\">"
      "<title>pgrepl_exporter</title></head><body>"
      "<h1>pgrepl_exporter</h1><ul>"
      "<li><a href=\"" + path + "\">metrics</a></li>"
      "<li><a href=\"/healthz\">healthz</a></li>"
      "<li><a href=\"/ready\">ready</a></li></ul></body></html>\n";
  return Reply(conn, 200, "text/html; charset=utf-8", body);
}

}  // namespace pgrepl
