// WebConfig: TLS and basic authentication for every HTTP endpoint, read
// from a Prometheus exporter-toolkit web configuration file (YAML).
#ifndef PGREPL_EXPORTER_CONFIG_WEB_CONFIG_H_
#define PGREPL_EXPORTER_CONFIG_WEB_CONFIG_H_

#include <map>
#include <optional>
#include <string>

#include "exporter/base/status.h"

namespace pgrepl {

// exporter-toolkit's client_auth_type values, same names and meaning.
enum class ClientAuth {
  kNoClientCert,                // no certificate asked for
  kRequestClientCert,           // asked for, not required, not verified
  kRequireAnyClientCert,        // required, not verified
  kVerifyClientCertIfGiven,     // optional, verified against client_ca_file
  kRequireAndVerifyClientCert,  // required and verified
};

enum class TlsVersion { kTls10, kTls11, kTls12, kTls13 };

struct TlsServerConfig {
  std::string cert_file;       // PEM, may hold the chain; required
  std::string key_file;        // PEM private key; required
  std::string client_ca_file;  // PEM CAs for client certificates
  ClientAuth client_auth = ClientAuth::kNoClientCert;
  TlsVersion min_version = TlsVersion::kTls12;
  std::optional<TlsVersion> max_version;
};

struct WebConfig {
  std::optional<TlsServerConfig> tls;  // nullopt: plain HTTP
  // user name -> bcrypt hash ($2a$, $2b$ or $2y$). Empty: no auth.
  std::map<std::string, std::string> basic_auth_users;
};

// Parses the YAML text. Recognised keys: tls_server_config (cert_file,
// key_file, client_ca_file, client_auth_type, min_version, max_version)
// and basic_auth_users; any other key is an error rather than silently
// ignored. Relative file paths are taken relative to `base_dir` (the
// config file's directory), as exporter-toolkit does. An empty document is
// an empty config. Validates the combinations exporter-toolkit rejects
// (e.g. a Verify* client_auth_type without client_ca_file) and that every
// password hash is a bcrypt hash libcrypt accepts, of a cost no higher than
// kMaxBcryptCost (14, exporter/base/bcrypt.h). Errors are one line.
Result<WebConfig> ParseWebConfig(const std::string& yaml_text,
                                 const std::string& base_dir);

// Reads and parses the file; errors name the file.
Result<WebConfig> LoadWebConfig(const std::string& path);

// The exporter-toolkit spelling: "RequireAndVerifyClientCert", "TLS12".
const char* ClientAuthName(ClientAuth auth);
const char* TlsVersionName(TlsVersion version);

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_CONFIG_WEB_CONFIG_H_
