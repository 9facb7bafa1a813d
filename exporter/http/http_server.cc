// HttpServer: the exporter's HTTP surface on civetweb.
#include "exporter/http/http_server.h"

#include <arpa/inet.h>
#include <civetweb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "exporter/config/config.h"
#include "exporter/http/health_request.h"
#include "exporter/http/status_json.h"
#include "exporter/http/status_page.h"
#include "exporter/http/status_report.h"
#include "exporter/http/tls_context.h"
#include "exporter/metrics/exporter_metrics.h"
#include "exporter/metrics/text_format.h"
#include "exporter/model/server_merge.h"
#include "exporter/model/snapshot_store.h"

namespace pgrepl {
namespace {

constexpr char kText[] = "text/plain; charset=utf-8";

// The address a local client reaches a listener on: the listen address's
// host, or loopback for a wildcard ("", 0.0.0.0, ::). Empty when the host
// is a name (never resolved at shutdown).
std::string WakeHost(const std::string& listen_address) {
  std::string host = listen_address.substr(0, listen_address.rfind(':'));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty() || host == "0.0.0.0") return "127.0.0.1";
  if (host == "::") return "::1";
  in6_addr probe{};
  if (inet_pton(AF_INET, host.c_str(), &probe) == 1 ||
      inet_pton(AF_INET6, host.c_str(), &probe) == 1) {
    return host;
  }
  return "";
}

// Opens and closes one TCP connection to host:port; errors are ignored.
void Knock(const std::string& host, int port) {
  sockaddr_storage addr{};
  socklen_t len = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&addr);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&addr);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    len = sizeof *v4;
  } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    len = sizeof *v6;
  } else {
    return;
  }
  int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  (void)connect(fd, reinterpret_cast<sockaddr*>(&addr), len);
  close(fd);
}

bool IsHead(mg_connection* conn) {
  const mg_request_info* ri = mg_get_request_info(conn);
  return ri && ri->request_method &&
         std::strcmp(ri->request_method, "HEAD") == 0;
}

const char* ReasonPhrase(int code) {
  switch (code) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 503:
      return "Service Unavailable";
    default:
      return "Internal Server Error";
  }
}

// Sends a complete response; HEAD gets the same headers and no body.
// `extra_headers` is zero or more "Name: value\r\n" lines.
int Reply(mg_connection* conn, int code, const char* content_type,
          const std::string& body, const char* extra_headers = "") {
  // Headers and body leave in one write: two writes on a keep-alive
  // connection let Nagle's algorithm hold the body until the client's
  // delayed ACK, about 40 ms per request (tcp_nodelay is also on).
  std::string out =
      "HTTP/1.1 " + std::to_string(code) + " " + ReasonPhrase(code) +
      "\r\nContent-Type: " + content_type +
      "\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n" +
      extra_headers + "\r\n";
  if (!IsHead(conn)) out += body;
  mg_write(conn, out.data(), out.size());
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

HttpOptions HttpOptions::From(const Config& config) {
  HttpOptions o;
  o.listen_address = config.listen_address;
  o.telemetry_path = config.telemetry_path;
  o.web = config.web;
  o.sidecar = config.sidecar;
  o.health.default_limit = config.health_replica_max_lag;
  // A poll publishes within interval + timeout; allow for one missed cycle.
  o.health.stale_after = 3 * config.poll_interval + 2 * config.poll_timeout;
  return o;
}

std::string HttpServer::CivetListenSpec(const std::string& listen_address,
                                        bool tls) {
  std::string a = listen_address;
  if (!a.empty() && a[0] == ':') a = a.substr(1);
  if (tls && !a.empty()) a += 's';
  return a;
}

HttpServer::HttpServer(HttpOptions options, const ExporterMetrics* metrics,
                       const SnapshotStore* store)
    : options_(std::move(options)),
      metrics_(metrics),
      store_(store),
      auth_(std::make_shared<const BasicAuth>(options_.web.basic_auth_users)) {}

HttpServer::~HttpServer() {
  if (ctx_ != nullptr) {
    // civetweb's accept loop looks at its stop flag only between polls of
    // its sockets, up to 2 s apart: a connection of our own wakes it, so a
    // stop takes milliseconds (bounded: 3 s of knocks at most).
    mg_server_port ports[4] = {};
    const int n = mg_get_server_ports(ctx_, 4, ports);
    const std::string host = WakeHost(options_.listen_address);
    std::atomic<bool> stopped{false};
    std::thread waker([&] {
      for (int i = 0; i < 150 && !stopped.load() && !host.empty(); ++i) {
        for (int p = 0; p < n; ++p) Knock(host, ports[p].port);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    });
    mg_stop(ctx_);
    stopped = true;
    waker.join();
  }
  if (library_initialised_) mg_exit_library();
  // tls_ outlives civetweb's use of it: mg_stop() has returned.
}

Status HttpServer::Start() {
  const bool tls = options_.web.tls.has_value();
  std::string ports = CivetListenSpec(options_.listen_address, tls);
  if (ports.empty()) return Status::Invalid("--web.listen-address is empty");
  if (tls) {
    Status compat = TlsContext::CheckCivetwebCompat();
    if (!compat.ok()) return compat;
    auto context = TlsContext::Create(*options_.web.tls);
    if (!context.ok()) {
      return Status::Invalid("--web.config.file: " +
                             context.status().message());
    }
    tls_ = std::move(context).value();
    tls_->EnableRotation();
    library_initialised_ = true;
    if ((mg_init_library(MG_FEATURES_TLS) & MG_FEATURES_TLS) == 0) {
      return Status::Invalid(
          "--web.config.file: civetweb cannot initialise TLS");
    }
  }
  std::string threads = std::to_string(options_.threads);
  std::string timeout = std::to_string(options_.request_timeout_ms);
  std::string max_size = std::to_string(options_.max_request_size);
  std::string keep_alive = std::to_string(options_.keep_alive_timeout_ms);
  const char* opts[] = {"listening_ports",
                        ports.c_str(),
                        "num_threads",
                        threads.c_str(),
                        "request_timeout_ms",
                        timeout.c_str(),
                        "max_request_size",
                        max_size.c_str(),
                        "enable_keep_alive",
                        "yes",
                        "keep_alive_timeout_ms",
                        keep_alive.c_str(),
                        "tcp_nodelay",
                        "1",
                        nullptr};
  mg_callbacks callbacks{};
  callbacks.log_message = LogMessage;
  // Every request, whatever its path, goes to Dispatch, so the method and
  // authentication checks cannot be bypassed. Set before the server
  // starts: a handler registered after mg_start2() left a window in which
  // a request that had connected got civetweb's own 404.
  callbacks.begin_request = BeginRequest;
  if (tls) callbacks.external_ssl_ctx = ExternalSslContext;
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
  return Status::Ok();
}

Status HttpServer::Reload(const WebConfig& web) {
  const bool tls_on = tls_ != nullptr;
  if (web.tls.has_value() != tls_on) {
    return Status::Invalid(
        tls_on ? "tls_server_config was removed: switching TLS off needs a "
                 "restart"
               : "tls_server_config was added: switching TLS on needs a "
                 "restart");
  }
  std::shared_ptr<const TlsContext> next_tls;
  if (web.tls) {
    auto context = TlsContext::Create(*web.tls);
    if (!context.ok()) return context.status();
    next_tls = std::move(context).value();
  }
  auto next_auth = std::make_shared<const BasicAuth>(web.basic_auth_users);
  // Both are built: from here on nothing can fail.
  if (next_tls) tls_->Rotate(std::move(next_tls));
  std::lock_guard<std::mutex> lock(auth_mu_);
  auth_ = std::move(next_auth);
  return Status::Ok();
}

std::shared_ptr<const BasicAuth> HttpServer::auth() const {
  std::lock_guard<std::mutex> lock(auth_mu_);
  return auth_;
}

int HttpServer::ExternalSslContext(void** ssl_ctx, void* p) {
  auto* self = static_cast<HttpServer*>(p);
  // Creation: hand civetweb our context. Release (non-null): keep it, the
  // TlsContext frees it after mg_stop().
  if (*ssl_ctx == nullptr) *ssl_ctx = self->tls_->ssl_ctx();
  return 1;
}

int HttpServer::BeginRequest(mg_connection* conn) {
  const auto* self =
      static_cast<const HttpServer*>(mg_get_user_data(mg_get_context(conn)));
  // No exception may unwind into civetweb's C code. The status returned
  // (1-999) tells civetweb the request is answered.
  try {
    return self->Dispatch(conn);
  } catch (...) {
    return Reply(conn, 500, kText, "internal error\n");
  }
}

int HttpServer::Dispatch(mg_connection* conn) const {
  if (!MethodAllowed(conn)) {
    return Reply(conn, 405, kText, "GET or HEAD only\n",
                 "Allow: GET, HEAD\r\n");
  }
  const std::shared_ptr<const BasicAuth> auth = this->auth();
  if (auth->enabled() && !auth->Check(mg_get_header(conn, "Authorization"))) {
    return Reply(conn, 401, kText, "unauthorized\n",
                 "WWW-Authenticate: Basic realm=\"pgrepl_exporter\", "
                 "charset=\"UTF-8\"\r\n");
  }
  const mg_request_info* ri = mg_get_request_info(conn);
  const std::string path = ri->local_uri ? ri->local_uri : "";
  if (path == options_.telemetry_path) return HandleMetrics(conn);
  if (path == "/healthz")
    return Reply(conn, 200, kText, "ok: exporter process is alive\n");
  if (path == "/ready") return HandleReady(conn);
  if (path == "/primary") return HandleHealth(conn, HealthCheck::kPrimary);
  if (path == "/replica") return HandleHealth(conn, HealthCheck::kReplica);
  if (path == "/read-only") return HandleHealth(conn, HealthCheck::kReadOnly);
  if (path == "/status") return HandleStatusJson(conn);
  if (path == "/") return HandleStatusPage(conn);
  return Reply(conn, 404, kText, "not found\n");
}

int HttpServer::HandleMetrics(mg_connection* conn) const {
  std::string body;
  if (!AppendTextFormat(metrics_->Collect(), &body)) {
    return Reply(conn, 500, kText, "internal error\n");
  }
  return Reply(conn, 200, "text/plain; version=0.0.4; charset=utf-8", body);
}

int HttpServer::HandleReady(mg_connection* conn) const {
  if (store_->AnyPolled()) {
    return Reply(conn, 200, kText, "ok: at least one poll completed\n");
  }
  return Reply(conn, 503, kText, "not ready: no poll has completed yet\n");
}

int HttpServer::HandleHealth(mg_connection* conn, HealthCheck check) const {
  const mg_request_info* ri = mg_get_request_info(conn);
  auto request = ParseHealthRequest(ri->query_string ? ri->query_string : "",
                                    check != HealthCheck::kPrimary);
  if (!request.ok()) {
    return Reply(conn, 400, kText,
                 "bad request: " + request.status().message() + "\n");
  }
  const auto entries = store_->Entries();
  InstanceChoice choice =
      ChooseInstance(entries, request.value(), options_.sidecar);
  if (choice.http_status != 200) {
    return Reply(conn, choice.http_status, kText, choice.reason + "\n");
  }
  const SnapshotStore::Entry& entry = entries[choice.index];
  const LagLimit& limit =
      request.value().max_lag.value_or(options_.health.default_limit);
  HealthVerdict v =
      DecideHealth(check, *entry.snapshot, entry.recent_lag, limit,
                   options_.health, InstanceSnapshot::WallClock::now());
  return Reply(conn, v.ok ? 200 : 503, kText, v.reason + "\n");
}

int HttpServer::HandleStatusPage(mg_connection* conn) const {
  StatusReport report =
      BuildStatusReport(MergeSameServer(store_->Entries()), options_.health,
                        InstanceSnapshot::WallClock::now());
  return Reply(conn, 200, "text/html; charset=utf-8",
               RenderStatusPage(report, options_.telemetry_path),
               "Content-Security-Policy: default-src 'none'; style-src "
               "'unsafe-inline'; img-src data:\r\n");
}

int HttpServer::HandleStatusJson(mg_connection* conn) const {
  StatusReport report =
      BuildStatusReport(MergeSameServer(store_->Entries()), options_.health,
                        InstanceSnapshot::WallClock::now());
  return Reply(conn, 200, "application/json", RenderStatusJson(report));
}

}  // namespace pgrepl
