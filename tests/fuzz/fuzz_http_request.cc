// Fuzz target for the HTTP request path of /primary, /replica and
// /read-only. HttpServer::Dispatch reads the request through civetweb's
// mg_connection, so this target drives the pure functions it calls, in
// its order: BasicAuth::Check on the Authorization header, then for a
// health path ParseHealthRequest on the raw query string, ChooseInstance
// among a fixed set of snapshots and DecideHealth.
//
// Input: the request line, then optionally the Authorization header value:
//   GET /replica?instance=replica1&max_lag=1s
//   Basic cHJvbWV0aGV1czpzM2NyZXQ=
//
// Properties:
//  - Check lets a request in exactly when the header decodes to the one
//    configured user and password; a decoded header re-encodes to itself;
//  - every reply body (400 reason, instance choice, verdict) is one line
//    of printable ASCII of bounded length, and the status is 200, 400 or
//    503;
//  - a chosen instance is the one named, in the cluster named (without a
//    name, the --sidecar instance); max_lag is only taken where the
//    endpoint allows it.
#include <crypt.h>
#include <strings.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "exporter/http/basic_auth.h"
#include "exporter/http/health.h"
#include "exporter/http/health_request.h"
#include "exporter/model/snapshot_store.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using pgrepl::InstanceSnapshot;
using Clock = InstanceSnapshot::WallClock;

constexpr char kUser[] = "prometheus";
constexpr char kPassword[] = "s3cret";

constexpr char kAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string Base64(std::string_view in) {
  std::string out;
  for (size_t i = 0; i < in.size(); i += 3) {
    uint32_t n = static_cast<uint8_t>(in[i]) << 16;
    if (i + 1 < in.size()) n |= static_cast<uint8_t>(in[i + 1]) << 8;
    if (i + 2 < in.size()) n |= static_cast<uint8_t>(in[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += i + 2 < in.size() ? kAlphabet[n & 63] : '=';
  }
  return out;
}

// This test's own lenient reading of a Basic header (any case of the
// scheme, spaces around the token, padding optional, stray low bits
// ignored): the user:password it carries, or nullopt. Independent of
// BasicAuth, so an authentication decision can be checked against it.
std::optional<std::string> OwnDecode(std::string_view header) {
  if (header.size() < 6 || strncasecmp(header.data(), "basic ", 6) != 0) {
    return std::nullopt;
  }
  std::string_view token = header.substr(6);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  while (!token.empty() && token.back() == '=') token.remove_suffix(1);
  std::string out;
  uint32_t bits = 0;
  int nbits = 0;
  for (char c : token) {
    const char* pos = std::strchr(kAlphabet, c);
    if (c == '\0' || pos == nullptr) return std::nullopt;
    bits = (bits << 6) | static_cast<uint32_t>(pos - kAlphabet);
    nbits += 6;
    if (nbits >= 8) {
      nbits -= 8;
      out += static_cast<char>((bits >> nbits) & 0xff);
    }
  }
  return out;
}

// A bcrypt hash of kPassword at the lowest cost, made once.
std::string PasswordHash() {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  if (!crypt_gensalt_rn("$2b$", 4, nullptr, 0, salt, sizeof salt)) std::abort();
  auto data = std::make_unique<crypt_data>();
  const char* hash = crypt_rn(kPassword, salt, data.get(), sizeof *data);
  if (!hash || hash[0] == '*') std::abort();
  return hash;
}

struct Fixture {
  Clock::time_point now = Clock::now();
  pgrepl::SnapshotStore fleet;    // several clusters and every state
  pgrepl::SnapshotStore sidecar;  // exactly one instance
  pgrepl::BasicAuth auth{{{kUser, PasswordHash()}}};
  pgrepl::HealthPolicy policy;

  // A polled, up snapshot; `lags` are published oldest first, the last
  // one being the current lag (seconds; bytes are 1 MB per second).
  void Add(pgrepl::SnapshotStore* store, const std::string& cluster,
           const std::string& instance, bool in_recovery,
           std::vector<double> lags,
           void (*edit)(InstanceSnapshot*) = nullptr) {
    if (lags.empty()) lags.push_back(0);
    for (double lag : lags) {
      auto s = std::make_shared<InstanceSnapshot>();
      s->cluster = cluster;
      s->instance = instance;
      s->polled = true;
      s->up = true;
      s->polled_at = now;
      s->recovery = pgrepl::RecoveryInfo{};
      s->recovery->in_recovery = in_recovery;
      if (in_recovery) {
        s->wal_receiver = pgrepl::WalReceiverInfo{};
        s->wal_receiver->status = "streaming";
        s->replica_lag_seconds = lag;
        s->replica_lag_bytes = lag * 1024 * 1024;
      }
      if (edit) edit(s.get());
      store->Publish(std::move(s));
    }
  }

  Fixture() {
    Add(&fleet, "it", "primary", false, {});
    Add(&fleet, "it", "replica1", true, {0.1, 0.2, 0.3});
    Add(&fleet, "it", "replica2", true, {12, 12, 12});
    Add(&fleet, "it", "flappy", true, {30, 0.1, 0.1});
    Add(&fleet, "it", "nan", true, {0}, [](InstanceSnapshot* s) {
      s->replica_lag_seconds = std::numeric_limits<double>::quiet_NaN();
      s->replica_lag_bytes.reset();
    });
    Add(&fleet, "it", "broken", true, {0},
        [](InstanceSnapshot* s) { s->wal_receiver.reset(); });
    Add(&fleet, "it", "catchup", true, {0}, [](InstanceSnapshot* s) {
      s->wal_receiver->status = "waiting\nfor upstream";
    });
    Add(&fleet, "it", "down", true, {0}, [](InstanceSnapshot* s) {
      s->up = false;
      s->recovery.reset();
      s->last_error = "connection refused\n\tIs the server running?";
    });
    Add(&fleet, "it", "stale", false, {},
        [](InstanceSnapshot* s) { s->polled_at -= std::chrono::hours(1); });
    Add(&fleet, "it", "unpolled", false, {},
        [](InstanceSnapshot* s) { s->polled = false; });
    Add(&fleet, "other", "replica1", true, {1, 1, 1});
    Add(&sidecar, "local", "self", true, {0.5, 0.5, 0.5});
  }
};

void CheckBody(const std::string& body, const char* what) {
  FUZZ_CHECK(body.size() < 512 && pgrepl::fuzz::Printable(body),
             std::string(what) + ": " + body);
}

void CheckHealth(const Fixture& f, pgrepl::HealthCheck check,
                 std::string_view query) {
  bool allow_max_lag = check != pgrepl::HealthCheck::kPrimary;
  auto request = pgrepl::ParseHealthRequest(query, allow_max_lag);
  if (!request.ok()) {
    CheckBody(request.status().message(), "400 reason");
    return;
  }
  const pgrepl::HealthRequest& r = request.value();
  FUZZ_CHECK(allow_max_lag || !r.max_lag, "max_lag on /primary");
  for (bool sidecar : {false, true}) {
    const auto entries = (sidecar ? f.sidecar : f.fleet).Entries();
    pgrepl::InstanceChoice choice = pgrepl::ChooseInstance(entries, r, sidecar);
    if (choice.http_status != 200) {
      FUZZ_CHECK(choice.http_status == 400 || choice.http_status == 503,
                 "status " + std::to_string(choice.http_status));
      CheckBody(choice.reason, "instance choice");
      continue;
    }
    FUZZ_CHECK(choice.index < entries.size(), "index out of range");
    const pgrepl::SnapshotStore::Entry& e = entries[choice.index];
    FUZZ_CHECK(
        r.instance.empty() ? sidecar : e.snapshot->instance == r.instance,
        "chose " + e.snapshot->instance);
    // (The sidecar instance answers without ?instance=, whatever ?cluster=.)
    FUZZ_CHECK(r.instance.empty() || r.cluster.empty() ||
                   e.snapshot->cluster == r.cluster,
               "chose cluster " + e.snapshot->cluster);
    const pgrepl::LagLimit& limit = r.max_lag.value_or(f.policy.default_limit);
    pgrepl::HealthVerdict v = pgrepl::DecideHealth(
        check, *e.snapshot, e.recent_lag, limit, f.policy, f.now);
    CheckBody(v.reason, "verdict");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Fixture* fixture = new Fixture();  // lives for the process
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t eol = input.find('\n');
  std::string_view line = input.substr(0, eol);
  std::string authorization;
  bool has_authorization = eol != std::string_view::npos;
  if (has_authorization) authorization = input.substr(eol + 1);

  // Authentication comes first, for every path.
  const char* header = has_authorization ? authorization.c_str() : nullptr;
  auto creds = header ? pgrepl::BasicAuth::ParseAuthorization(header)
                      : std::optional<std::pair<std::string, std::string>>();
  bool expected = creds && creds->first == kUser && creds->second == kPassword;
  const bool accepted = fixture->auth.Check(header);
  FUZZ_CHECK(accepted == expected, "authentication decision");
  // Checked against this test's own decoding too, not only BasicAuth's.
  if (accepted) {
    FUZZ_CHECK(OwnDecode(header) == std::string(kUser) + ":" + kPassword,
               "accepted a header that does not carry the credentials");
  }
  if (creds) {
    FUZZ_CHECK(creds->first.find(':') == std::string::npos, "user with ':'");
    auto again = pgrepl::BasicAuth::ParseAuthorization(
        "Basic " + Base64(creds->first + ":" + creds->second));
    FUZZ_CHECK(again == creds, "credentials do not re-encode");
  }

  // "METHOD TARGET[ VERSION]"; civetweb hands the path and the raw query
  // separately.
  size_t sp = line.find(' ');
  if (sp == std::string_view::npos) return 0;
  std::string_view method = line.substr(0, sp);
  std::string_view target = line.substr(sp + 1);
  target = target.substr(0, target.find(' '));
  if (method != "GET" && method != "HEAD") return 0;  // 405
  size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  std::string_view query =
      q == std::string_view::npos ? "" : target.substr(q + 1);
  if (path == "/primary")
    CheckHealth(*fixture, pgrepl::HealthCheck::kPrimary, query);
  if (path == "/replica")
    CheckHealth(*fixture, pgrepl::HealthCheck::kReplica, query);
  if (path == "/read-only")
    CheckHealth(*fixture, pgrepl::HealthCheck::kReadOnly, query);
  return 0;
}
