// BasicAuth: HTTP basic authentication against bcrypt password hashes,
// verified by VerifyBcrypt (exporter/base/bcrypt.h), as exporter-toolkit's
// basic_auth_users.
#ifndef PGREPL_EXPORTER_HTTP_BASIC_AUTH_H_
#define PGREPL_EXPORTER_HTTP_BASIC_AUTH_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace pgrepl {

class BasicAuth {
 public:
  // `users`: user name -> bcrypt hash, already validated (WebConfig).
  explicit BasicAuth(std::map<std::string, std::string> users);

  // False when no users are configured: every request is let through.
  bool enabled() const { return !users_.empty(); }

  // Checks the value of an Authorization header (nullptr when absent).
  // Unknown users cost one bcrypt computation too, so response time does
  // not reveal which names exist. Safe to call from any thread.
  bool Check(const char* authorization) const;

  // Decodes "Basic base64(user:password)"; nullopt when malformed.
  static std::optional<std::pair<std::string, std::string>> ParseAuthorization(
      std::string_view header);

 private:
  const std::map<std::string, std::string> users_;
};

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_HTTP_BASIC_AUTH_H_
