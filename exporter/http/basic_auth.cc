// BasicAuth: HTTP basic authentication against bcrypt password hashes,
// verified by VerifyBcrypt (exporter/base/bcrypt.h), as exporter-toolkit's
// basic_auth_users, with a short-lived cache of successful verifications.
#include "exporter/http/basic_auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <strings.h>

#include <algorithm>

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

BasicAuth::BasicAuth(std::map<std::string, std::string> users,
                     BasicAuthOptions options)
    : users_(std::move(users)), options_(std::move(options)) {
  int cost = 4;
  for (const auto& [user, hash] : users_)
    cost = std::max(cost, BcryptCost(hash));
  dummy_hash_ = BcryptDummyHash(cost);
  // Without a dummy hash an unknown user is checked against a real one: the
  // same cost, and a match still returns false.
  if (dummy_hash_.empty() && !users_.empty()) {
    dummy_hash_ = users_.begin()->second;
  }
  if (RAND_bytes(key_, sizeof key_) != 1) {
    // No randomness: the cache is keyed by a fixed key, which only makes
    // its digests checkable offline by someone who can read our memory.
    std::fill(std::begin(key_), std::end(key_), 0);
  }
}

std::string BasicAuth::Digest(const std::string& user,
                              const std::string& password) const {
  std::string message = user + ":" + password;
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (HMAC(EVP_sha256(), key_, sizeof key_,
           reinterpret_cast<const unsigned char*>(message.data()),
           message.size(), out, &n) == nullptr) {
    return "";
  }
  OPENSSL_cleanse(message.data(), message.size());
  return std::string(reinterpret_cast<const char*>(out), n);
}

bool BasicAuth::CachedSuccess(const std::string& digest, TimePoint now) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = cache_.find(digest);
  if (it == cache_.end()) return false;
  if (now < it->second) return true;
  cache_.erase(it);
  return false;
}

void BasicAuth::RememberSuccess(const std::string& digest,
                                TimePoint now) const {
  if (options_.cache_size == 0 || options_.cache_ttl.count() <= 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (cache_.size() >= options_.cache_size && !cache_.count(digest)) {
    std::erase_if(cache_, [now](const auto& kv) { return kv.second <= now; });
    if (cache_.size() >= options_.cache_size) {
      cache_.erase(std::min_element(
          cache_.begin(), cache_.end(),
          [](const auto& a, const auto& b) { return a.second < b.second; }));
    }
  }
  cache_[digest] = now + options_.cache_ttl;
}

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
  const TimePoint now =
      options_.now ? options_.now() : std::chrono::steady_clock::now();
  const std::string digest = Digest(creds->first, creds->second);
  if (!digest.empty() && CachedSuccess(digest, now)) return true;
  auto verify = [this](std::string_view password, const std::string& hash) {
    return options_.verify ? options_.verify(password, hash)
                           : VerifyBcrypt(password, hash);
  };
  auto it = users_.find(creds->first);
  if (it == users_.end()) {
    // Same cost as a known user, so timing does not reveal user names.
    (void)verify(creds->second, dummy_hash_);
    return false;
  }
  if (!verify(creds->second, it->second)) return false;
  if (!digest.empty()) RememberSuccess(digest, now);
  return true;
}

}  // namespace pgrepl
