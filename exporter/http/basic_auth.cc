// BasicAuth: HTTP basic authentication against bcrypt password hashes,
// verified by VerifyBcrypt (exporter/base/bcrypt.h), as exporter-toolkit's
// basic_auth_users.
#include "exporter/http/basic_auth.h"

#include <strings.h>

#include "exporter/base/bcrypt.h"

namespace pgrepl {
namespace {

constexpr size_t kMaxHeader = 1024;

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Standard base64 with '=' padding; false on anything else.
bool DecodeBase64(std::string_view in, std::string* out) {
  if (in.empty() || in.size() % 4 != 0) return false;
  out->clear();
  for (size_t i = 0; i < in.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      char c = in[i + k];
      if (c == '=' && i + 4 == in.size() && k >= 2) {
        v[k] = 0;
        ++pad;
      } else if (pad > 0 || (v[k] = Base64Value(c)) < 0) {
        return false;
      }
    }
    unsigned n = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    *out += static_cast<char>((n >> 16) & 0xff);
    if (pad < 2) *out += static_cast<char>((n >> 8) & 0xff);
    if (pad < 1) *out += static_cast<char>(n & 0xff);
  }
  return true;
}

}  // namespace

BasicAuth::BasicAuth(std::map<std::string, std::string> users)
    : users_(std::move(users)) {}

std::optional<std::pair<std::string, std::string>>
BasicAuth::ParseAuthorization(std::string_view header) {
  if (header.size() > kMaxHeader) return std::nullopt;
  constexpr std::string_view kScheme = "Basic ";
  if (header.size() <= kScheme.size() ||
      strncasecmp(header.data(), kScheme.data(), kScheme.size()) != 0) {
    return std::nullopt;
  }
  std::string_view encoded = header.substr(kScheme.size());
  while (!encoded.empty() && encoded.front() == ' ') encoded.remove_prefix(1);
  while (!encoded.empty() && encoded.back() == ' ') encoded.remove_suffix(1);
  std::string decoded;
  if (!DecodeBase64(encoded, &decoded)) return std::nullopt;
  size_t colon = decoded.find(':');
  if (colon == std::string::npos) return std::nullopt;
  return std::make_pair(decoded.substr(0, colon), decoded.substr(colon + 1));
}

bool BasicAuth::Check(const char* authorization) const {
  if (!enabled()) return true;
  if (authorization == nullptr) return false;
  auto creds = ParseAuthorization(authorization);
  if (!creds) return false;
  auto it = users_.find(creds->first);
  if (it == users_.end()) {
    // Same cost as a known user, so timing does not reveal user names.
    (void)VerifyBcrypt(creds->second, users_.begin()->second);
    return false;
  }
  return VerifyBcrypt(creds->second, it->second);
}

}  // namespace pgrepl
