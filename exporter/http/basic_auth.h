// BasicAuth: HTTP basic authentication against bcrypt password hashes,
// verified by VerifyBcrypt (exporter/base/bcrypt.h), as exporter-toolkit's
// basic_auth_users, with a short-lived cache of successful verifications.
#ifndef PGREPL_EXPORTER_HTTP_BASIC_AUTH_H_
#define PGREPL_EXPORTER_HTTP_BASIC_AUTH_H_

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace pgrepl {

struct BasicAuthOptions {
  // How long a successful verification is remembered; it is not extended
  // by later hits, so a changed password stops working within this time.
  std::chrono::steady_clock::duration cache_ttl = std::chrono::seconds(60);
  // The most credentials remembered at once; the entry nearest to expiry
  // makes room for a new one.
  size_t cache_size = 1024;
  // Test seams. Empty: std::chrono::steady_clock::now and VerifyBcrypt.
  std::function<std::chrono::steady_clock::time_point()> now;
  std::function<bool(std::string_view password, const std::string& hash)>
      verify;
};

class BasicAuth {
 public:
  // `users`: user name -> bcrypt hash, already validated (WebConfig).
  explicit BasicAuth(std::map<std::string, std::string> users,
                     BasicAuthOptions options = {});

  BasicAuth(const BasicAuth&) = delete;
  BasicAuth& operator=(const BasicAuth&) = delete;

  // False when no users are configured: every request is let through.
  bool enabled() const { return !users_.empty(); }

  // Checks the value of an Authorization header (nullptr when absent).
  // A user name and password verified within cache_ttl pass without a
  // bcrypt computation; a failure is never cached. Otherwise it costs one
  // bcrypt, also for an unknown user (against a dummy hash of the highest
  // cost among the configured hashes), so response time does not reveal
  // which names exist. Safe to call from any thread.
  bool Check(const char* authorization) const;

  // Decodes "Basic base64(user:password)"; nullopt when malformed.
  static std::optional<std::pair<std::string, std::string>> ParseAuthorization(
      std::string_view header);

 private:
  using TimePoint = std::chrono::steady_clock::time_point;

  // HMAC-SHA256 of "user:password" under key_: the cache never holds a
  // password, nor a digest that could be checked offline without key_.
  std::string Digest(const std::string& user,
                     const std::string& password) const;
  bool CachedSuccess(const std::string& digest, TimePoint now) const;
  void RememberSuccess(const std::string& digest, TimePoint now) const;

  const std::map<std::string, std::string> users_;
  const BasicAuthOptions options_;
  std::string dummy_hash_;  // for unknown users; set once in the constructor
  unsigned char key_[32];   // random per process; set once
  mutable std::mutex mu_;
  // digest -> expiry.
  mutable std::unordered_map<std::string, TimePoint> cache_;  // GUARDED_BY(mu_)
};

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_HTTP_BASIC_AUTH_H_
