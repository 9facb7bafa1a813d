// bcrypt password hashes through libcrypt (libxcrypt): checking a hash and
// verifying a password against it.
#include "exporter/base/bcrypt.h"

#include <crypt.h>
#include <openssl/crypto.h>

#include <cstring>
#include <memory>

namespace pgrepl {
namespace {

// crypt(phrase, setting) into `data`; nullptr on failure. The one call of
// crypt_rn: the fuzz build wraps it to cap the cost (bcrypt_cost_cap.cc).
const char* Crypt(const std::string& phrase, const std::string& setting,
                  crypt_data* data) {
  std::memset(data, 0, sizeof *data);
  return crypt_rn(phrase.c_str(), setting.c_str(), data, sizeof *data);
}

}  // namespace

bool IsSupportedBcryptHash(const std::string& hash) {
  if (hash.rfind("$2a$", 0) != 0 && hash.rfind("$2b$", 0) != 0 &&
      hash.rfind("$2y$", 0) != 0) {
    return false;
  }
  auto data = std::make_unique<crypt_data>();
  const char* out = Crypt("probe", hash, data.get());
  return out != nullptr && out[0] != '*' && std::strlen(out) == hash.size();
}

bool VerifyBcrypt(std::string_view password, const std::string& hash) {
  if (password.find('\0') != std::string_view::npos) return false;
  auto data = std::make_unique<crypt_data>();
  const char* out = Crypt(std::string(password), hash, data.get());
  if (out == nullptr || out[0] == '*') return false;
  size_t n = std::strlen(out);
  return n == hash.size() && CRYPTO_memcmp(out, hash.data(), n) == 0;
}

}  // namespace pgrepl
