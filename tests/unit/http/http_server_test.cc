// Tests for exporter/http_server: routing, methods, HEAD, basic auth and
// the health endpoints over a real loopback socket (plain HTTP; TLS is
// covered by tests/integration/test_tls.py).
#include "exporter/http/http_server.h"

#include <arpa/inet.h>
#include <crypt.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "exporter/collector/collector.h"
#include "exporter/metrics/exporter_metrics.h"
#include "exporter/model/snapshot_store.h"
#include "tests/unit/testing/bcrypt_hash.h"

namespace pgrepl {
namespace {

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

struct Response {
  int status = 0;
  std::string headers;
  std::string body;
};

// Sends one raw request and reads until the server closes.
Response Send(int port, const std::string& request) {
  Response r;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return r;
  }
  (void)!write(fd, request.data(), request.size());
  std::string all;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) all.append(buf, n);
  close(fd);
  size_t end = all.find("\r\n\r\n");
  if (all.size() < 12 || end == std::string::npos) return r;
  r.status = std::stoi(all.substr(9, 3));
  r.headers = all.substr(0, end);
  r.body = all.substr(end + 4);
  return r;
}

Response Get(int port, const std::string& path,
             const std::string& method = "GET", const std::string& extra = "") {
  return Send(port, method + " " + path + " HTTP/1.1\r\nHost: x\r\n" + extra +
                        "Connection: close\r\n\r\n");
}

std::shared_ptr<InstanceSnapshot> Snap(const char* name, bool primary,
                                       double lag) {
  auto s = std::make_shared<InstanceSnapshot>();
  s->cluster = "it";
  s->instance = name;
  s->configured_primary = primary;
  s->polled = true;
  s->up = true;
  s->polled_at = InstanceSnapshot::WallClock::now();
  s->recovery = RecoveryInfo{};
  s->recovery->in_recovery = !primary;
  if (!primary) {
    s->wal_receiver_read = true;
    s->wal_receiver = WalReceiverInfo{};
    s->wal_receiver->status = "streaming";
    s->replica_lag_seconds = lag;
    s->replica_lag_bytes = lag * 1000;
  }
  return s;
}

class HttpServerTest : public ::testing::Test {
 protected:
  void Start(HttpOptions options) {
    port_ = FreePort();
    options.listen_address = "127.0.0.1:" + std::to_string(port_);
    server_ =
        std::make_unique<HttpServer>(std::move(options), &metrics_, &store_);
    Status s = server_->Start();
    ASSERT_TRUE(s.ok()) << s.message();
  }

  SnapshotStore store_;
  std::vector<std::unique_ptr<Collector>> collectors_ = DefaultCollectors();
  ExporterMetrics metrics_{&store_, &collectors_};
  std::unique_ptr<HttpServer> server_;
  int port_ = 0;
};

TEST_F(HttpServerTest, RoutesAndMethods) {
  store_.Publish(Snap("primary", true, 0));
  Start(HttpOptions{});
  EXPECT_EQ(Get(port_, "/healthz").status, 200);
  EXPECT_EQ(Get(port_, "/ready").status, 200);
  Response m = Get(port_, "/metrics");
  EXPECT_EQ(m.status, 200);
  EXPECT_NE(m.body.find("pgrepl_up"), std::string::npos);
  EXPECT_EQ(Get(port_, "/nope").status, 404);
  Response post = Get(port_, "/metrics", "POST");
  EXPECT_EQ(post.status, 405);
  EXPECT_NE(post.headers.find("Allow: GET, HEAD"), std::string::npos);
  EXPECT_EQ(Get(port_, "/primary?instance=primary", "DELETE").status, 405);
}

TEST_F(HttpServerTest, HeadHasHeadersAndNoBody) {
  store_.Publish(Snap("primary", true, 0));
  Start(HttpOptions{});
  Response get = Get(port_, "/primary?instance=primary");
  Response head = Get(port_, "/primary?instance=primary", "HEAD");
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(head.status, 200);
  EXPECT_FALSE(get.body.empty());
  EXPECT_TRUE(head.body.empty());
  EXPECT_NE(
      head.headers.find("Content-Length: " + std::to_string(get.body.size())),
      std::string::npos);
  EXPECT_EQ(Get(port_, "/replica?instance=primary", "HEAD").status, 503);
}

TEST_F(HttpServerTest, HealthEndpoints) {
  store_.Publish(Snap("primary", true, 0));
  store_.Publish(Snap("replica1", false, 3.0));
  Start(HttpOptions{});
  Response ok = Get(port_, "/primary?instance=primary");
  EXPECT_EQ(ok.status, 200);
  EXPECT_NE(ok.body.find("it/primary"), std::string::npos);
  EXPECT_EQ(ok.body.back(), '\n');
  EXPECT_EQ(ok.body.find('\n'), ok.body.size() - 1);  // one line
  EXPECT_EQ(Get(port_, "/primary?instance=replica1").status, 503);
  EXPECT_EQ(Get(port_, "/replica?instance=replica1").status,
            200);  // default 5s
  EXPECT_EQ(Get(port_, "/replica?instance=replica1&max_lag=1s").status, 503);
  EXPECT_EQ(Get(port_, "/replica?instance=replica1&max_lag=1MB").status, 200);
  EXPECT_EQ(Get(port_, "/replica?instance=replica1&max_lag=2kB").status, 503);
  EXPECT_EQ(Get(port_, "/read-only?instance=primary&max_lag=1s").status, 200);
  EXPECT_EQ(Get(port_, "/read-only?instance=replica1&max_lag=1s").status, 503);
  Response bad = Get(port_, "/replica?instance=replica1&max_lag=soon");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("max_lag"), std::string::npos);
  EXPECT_EQ(Get(port_, "/primary?instance=primary&max_lag=1s").status, 400);
  EXPECT_EQ(Get(port_, "/replica").status, 400);
  Response unknown = Get(port_, "/replica?instance=ghost");
  EXPECT_EQ(unknown.status, 503);
  EXPECT_NE(unknown.body.find("unknown instance"), std::string::npos);
}

TEST_F(HttpServerTest, SidecarDefaultsToItsInstance) {
  store_.Publish(Snap("local", false, 0.1));
  HttpOptions o;
  o.sidecar = true;
  Start(o);
  EXPECT_EQ(Get(port_, "/replica?max_lag=1s").status, 200);
  EXPECT_EQ(Get(port_, "/read-only").status, 200);
  EXPECT_EQ(Get(port_, "/primary").status, 503);
}

TEST_F(HttpServerTest, StatusPageAndJson) {
  store_.Publish(Snap("primary", true, 0));
  store_.Publish(Snap("<replica>", false, 0.2));
  Start(HttpOptions{});
  Response page = Get(port_, "/");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.headers.find("text/html"), std::string::npos);
  EXPECT_NE(page.headers.find("Content-Security-Policy"), std::string::npos);
  EXPECT_NE(page.body.find("&lt;replica&gt;"), std::string::npos);
  EXPECT_EQ(page.body.find("<replica>"), std::string::npos);
  Response status = Get(port_, "/status");
  EXPECT_EQ(status.status, 200);
  EXPECT_NE(status.headers.find("application/json"), std::string::npos);
  auto j = nlohmann::json::parse(status.body, nullptr, false);
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j["version"], 1);
  EXPECT_EQ(j["clusters"][0]["instances"].size(), 2u);
}

TEST_F(HttpServerTest, BasicAuthGuardsEveryEndpoint) {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  ASSERT_NE(crypt_gensalt_rn("$2y$", 4, nullptr, 0, salt, sizeof salt),
            nullptr);
  crypt_data data{};
  HttpOptions o;
  o.web.basic_auth_users["alice"] =
      crypt_rn("secret", salt, &data, sizeof data);
  store_.Publish(Snap("primary", true, 0));
  Start(o);
  for (const char* path : {"/", "/metrics", "/status", "/healthz", "/ready",
                           "/primary?instance=primary", "/nope"}) {
    Response r = Get(port_, path);
    EXPECT_EQ(r.status, 401) << path;
    EXPECT_NE(
        r.headers.find("WWW-Authenticate: Basic realm=\"pgrepl_exporter\""),
        std::string::npos)
        << path;
    Response wrong =
        Get(port_, path, "GET", "Authorization: Basic YWxpY2U6d3Jvbmc=\r\n");
    EXPECT_EQ(wrong.status, 401) << path;
  }
  const std::string good =
      "Authorization: Basic YWxpY2U6c2VjcmV0\r\n";  // alice:secret
  EXPECT_EQ(Get(port_, "/metrics", "GET", good).status, 200);
  EXPECT_EQ(Get(port_, "/primary?instance=primary", "HEAD", good).status, 200);
  EXPECT_EQ(Get(port_, "/nope", "GET", good).status, 404);
}

// A request line or header over max_request_size (16384 bytes) never
// reaches a handler: civetweb (1.15) answers 400 itself. The answer must
// arrive: status 0 (nothing read before the close) fails.
TEST_F(HttpServerTest, OversizedRequestsAreRejected) {
  Start(HttpOptions{});
  Response big = Get(port_, "/" + std::string(20000, 'a'));
  EXPECT_EQ(big.status, 400) << big.headers;
  Response header = Get(port_, "/healthz", "GET",
                        "X-Big: " + std::string(20000, 'b') + "\r\n");
  EXPECT_EQ(header.status, 400) << header.headers;
  EXPECT_EQ(Get(port_, "/healthz").status, 200);  // still serving
}

TEST(HttpServer, CivetListenSpec) {
  EXPECT_EQ(HttpServer::CivetListenSpec(":9752", false), "9752");
  EXPECT_EQ(HttpServer::CivetListenSpec("127.0.0.1:9752", false),
            "127.0.0.1:9752");
  EXPECT_EQ(HttpServer::CivetListenSpec("127.0.0.1:9752", true),
            "127.0.0.1:9752s");
  EXPECT_EQ(HttpServer::CivetListenSpec("[::1]:9752", true), "[::1]:9752s");
}

TEST(HttpServer, BadCertificateIsAStartupError) {
  SnapshotStore store;
  auto collectors = DefaultCollectors();
  ExporterMetrics metrics(&store, &collectors);
  HttpOptions o;
  o.listen_address = "127.0.0.1:" + std::to_string(FreePort());
  o.web.tls = TlsServerConfig{};
  o.web.tls->cert_file = "/nonexistent/cert.pem";
  o.web.tls->key_file = "/nonexistent/key.pem";
  HttpServer server(o, &metrics, &store);
  Status s = server.Start();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("/nonexistent/cert.pem"), std::string::npos)
      << s.message();
}

TEST_F(HttpServerTest, ReloadSwapsBasicAuthUsersForNewRequests) {
  HttpOptions o;
  o.web.basic_auth_users["alice"] = BcryptHash("secret");
  Start(o);
  const std::string alice = "Authorization: Basic YWxpY2U6c2VjcmV0\r\n";
  const std::string bob = "Authorization: Basic Ym9iOmh1bnRlcjI=\r\n";
  EXPECT_EQ(Get(port_, "/healthz", "GET", alice).status, 200);
  EXPECT_EQ(Get(port_, "/healthz", "GET", bob).status, 401);

  WebConfig next;
  next.basic_auth_users["bob"] = BcryptHash("hunter2");
  Status s = server_->Reload(next);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(Get(port_, "/healthz", "GET", bob).status, 200);
  // alice's earlier success was cached by the old users' BasicAuth; the
  // new one starts empty, so she is refused at once.
  EXPECT_EQ(Get(port_, "/healthz", "GET", alice).status, 401);

  ASSERT_TRUE(server_->Reload(WebConfig{}).ok());
  EXPECT_EQ(Get(port_, "/healthz").status, 200) << "no users: no auth";
}

TEST_F(HttpServerTest, ReloadCannotSwitchTlsOnAndChangesNothing) {
  HttpOptions o;
  o.web.basic_auth_users["alice"] = BcryptHash("secret");
  Start(o);
  WebConfig next;
  next.tls = TlsServerConfig{};
  next.tls->cert_file = "/nonexistent/cert.pem";
  next.tls->key_file = "/nonexistent/key.pem";
  Status s = server_->Reload(next);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("needs a restart"), std::string::npos)
      << s.message();
  EXPECT_EQ(Get(port_, "/healthz").status, 401) << "alice's config stays";
}

}  // namespace
}  // namespace pgrepl
