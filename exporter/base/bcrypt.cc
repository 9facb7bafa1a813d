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

int BcryptCost(const std::string& hash) {
  if (hash.size() < 7 || hash.compare(0, 2, "$2") != 0 || hash[3] != '$' ||
      hash[6] != '$' || (hash[2] != 'a' && hash[2] != 'b' && hash[2] != 'y')) {
    return -1;
  }
  if (hash[4] < '0' || hash[4] > '9' || hash[5] < '0' || hash[5] > '9') {
    return -1;
  }
  return (hash[4] - '0') * 10 + (hash[5] - '0');
}

std::string BcryptDummyHash(int cost) {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  // nullptr random bytes: libcrypt takes them from the operating system.
  if (crypt_gensalt_rn("$2b$", cost, nullptr, 0, salt, sizeof salt) ==
      nullptr) {
    return "";
  }
  // A salt setting is 29 characters; a hash adds 31 of bcrypt's base64.
  return std::string(salt) + std::string(31, '.');
}

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
