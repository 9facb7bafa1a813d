// Fuzz target for the web config parser, ParseWebConfig
// (exporter/config/web_config.cc): exporter-toolkit YAML through yaml-cpp.
// Properties:
//  - no crash, leak or undefined behaviour on any text, including YAML
//    that yaml-cpp rejects;
//  - errors are one line (they are startup errors);
//  - what is accepted is consistent: TLS has a certificate and a key,
//    every path comes out absolute (relative ones resolved against the
//    base directory), a verifying
//    client_auth_type has client_ca_file and a CA file implies asking for
//    client certificates, max_version is not below min_version, and every
//    basic-auth user has a non-empty name without ':' and a bcrypt hash
//    libcrypt accepts.
// bcrypt costs are capped for speed in this build (bcrypt_cost_cap.cc).
#include <cstdint>
#include <string>

#include "exporter/base/bcrypt.h"
#include "exporter/config/web_config.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

constexpr char kBaseDir[] = "/etc/pgrepl";

void CheckPath(const std::string& path, const char* what) {
  FUZZ_CHECK(path.empty() || path[0] == '/',
             std::string(what) + " is relative: " + path);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto config = pgrepl::ParseWebConfig(text, kBaseDir);
  if (!config.ok()) {
    FUZZ_CHECK(pgrepl::fuzz::OneLine(config.status().message()),
               config.status().message());
    return 0;
  }
  const pgrepl::WebConfig& web = config.value();
  if (web.tls) {
    const pgrepl::TlsServerConfig& tls = *web.tls;
    FUZZ_CHECK(!tls.cert_file.empty() && !tls.key_file.empty(),
               "TLS without cert or key");
    CheckPath(tls.cert_file, "cert_file");
    CheckPath(tls.key_file, "key_file");
    CheckPath(tls.client_ca_file, "client_ca_file");
    bool verifies =
        tls.client_auth == pgrepl::ClientAuth::kVerifyClientCertIfGiven ||
        tls.client_auth == pgrepl::ClientAuth::kRequireAndVerifyClientCert;
    FUZZ_CHECK(!verifies || !tls.client_ca_file.empty(),
               "verifying without a CA");
    FUZZ_CHECK(tls.client_ca_file.empty() ||
                   tls.client_auth != pgrepl::ClientAuth::kNoClientCert,
               "CA file with NoClientCert");
    FUZZ_CHECK(!tls.max_version || *tls.max_version >= tls.min_version,
               "max_version below min_version");
    FUZZ_CHECK(
        std::string(pgrepl::ClientAuthName(tls.client_auth)) != "unknown" &&
            std::string(pgrepl::TlsVersionName(tls.min_version)) != "unknown",
        "unnamed enum value");
  }
  for (const auto& [user, hash] : web.basic_auth_users) {
    FUZZ_CHECK(!user.empty() && user.find(':') == std::string::npos,
               "bad user " + user);
    FUZZ_CHECK(pgrepl::IsSupportedBcryptHash(hash), "unsupported hash kept");
  }
  return 0;
}
