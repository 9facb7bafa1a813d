// WebConfig: TLS and basic authentication for every HTTP endpoint, read
// from a Prometheus exporter-toolkit web configuration file (YAML).
#include "exporter/config/web_config.h"

#include <yaml-cpp/yaml.h>

#include <set>

#include "exporter/base/bcrypt.h"
#include "exporter/base/text.h"

namespace pgrepl {
namespace {

constexpr std::pair<const char*, ClientAuth> kClientAuths[] = {
    {"NoClientCert", ClientAuth::kNoClientCert},
    {"RequestClientCert", ClientAuth::kRequestClientCert},
    {"RequireAnyClientCert", ClientAuth::kRequireAnyClientCert},
    {"VerifyClientCertIfGiven", ClientAuth::kVerifyClientCertIfGiven},
    {"RequireAndVerifyClientCert", ClientAuth::kRequireAndVerifyClientCert},
};
constexpr std::pair<const char*, TlsVersion> kVersions[] = {
    {"TLS10", TlsVersion::kTls10},
    {"TLS11", TlsVersion::kTls11},
    {"TLS12", TlsVersion::kTls12},
    {"TLS13", TlsVersion::kTls13},
};

std::string JoinPath(const std::string& base_dir, const std::string& path) {
  if (path.empty() || path[0] == '/' || base_dir.empty()) return path;
  return base_dir + "/" + path;
}

// Checks that `node` is a mapping whose keys are all in `allowed`.
Status CheckKeys(const YAML::Node& node, const std::string& where,
                 const std::set<std::string>& allowed) {
  if (!node.IsMap()) {
    return Status::Invalid((where.empty() ? "top level" : where) +
                           ": expected a mapping");
  }
  for (const auto& kv : node) {
    if (!kv.first.IsScalar())
      return Status::Invalid(where + ": keys must be strings");
    std::string key = kv.first.Scalar();
    if (!allowed.count(key)) {
      return Status::Invalid(
          (where.empty() ? "" : where + ": ") + "unknown key \"" + key + "\"" +
          (key == "http_server_config" ? " (not supported by pgrepl_exporter)"
                                       : ""));
    }
  }
  return Status::Ok();
}

Result<std::string> Scalar(const YAML::Node& node, const std::string& where) {
  if (!node.IsScalar()) return Status::Invalid(where + ": expected a string");
  return node.Scalar();
}

Result<TlsVersion> VersionFrom(const YAML::Node& node,
                               const std::string& where) {
  auto text = Scalar(node, where);
  if (!text.ok()) return text.status();
  for (const auto& [name, v] : kVersions) {
    if (text.value() == name) return v;
  }
  return Status::Invalid(where + ": expected TLS10, TLS11, TLS12 or TLS13");
}

Result<TlsServerConfig> TlsFrom(const YAML::Node& node,
                                const std::string& base_dir) {
  const std::string where = "tls_server_config";
  Status st = CheckKeys(node, where,
                        {"cert_file", "key_file", "client_ca_file",
                         "client_auth_type", "min_version", "max_version"});
  if (!st.ok()) return st;
  TlsServerConfig tls;
  for (auto [key, out] : {std::pair{"cert_file", &tls.cert_file},
                          std::pair{"key_file", &tls.key_file},
                          std::pair{"client_ca_file", &tls.client_ca_file}}) {
    if (!node[key]) continue;
    auto v = Scalar(node[key], where + "." + key);
    if (!v.ok()) return v.status();
    *out = JoinPath(base_dir, v.value());
  }
  if (tls.cert_file.empty())
    return Status::Invalid(where + ".cert_file is required");
  if (tls.key_file.empty())
    return Status::Invalid(where + ".key_file is required");
  if (node["client_auth_type"]) {
    auto v = Scalar(node["client_auth_type"], where + ".client_auth_type");
    if (!v.ok()) return v.status();
    bool found = false;
    for (const auto& [name, auth] : kClientAuths) {
      if (v.value() == name) {
        tls.client_auth = auth;
        found = true;
      }
    }
    if (!found) {
      return Status::Invalid(
          where +
          ".client_auth_type: expected NoClientCert, "
          "RequestClientCert, RequireAnyClientCert, "
          "VerifyClientCertIfGiven or RequireAndVerifyClientCert");
    }
  }
  if (node["min_version"]) {
    auto v = VersionFrom(node["min_version"], where + ".min_version");
    if (!v.ok()) return v.status();
    tls.min_version = v.value();
  }
  if (node["max_version"]) {
    auto v = VersionFrom(node["max_version"], where + ".max_version");
    if (!v.ok()) return v.status();
    tls.max_version = v.value();
    if (*tls.max_version < tls.min_version) {
      return Status::Invalid(where + ": max_version is below min_version");
    }
  }
  bool verifies = tls.client_auth == ClientAuth::kVerifyClientCertIfGiven ||
                  tls.client_auth == ClientAuth::kRequireAndVerifyClientCert;
  if (verifies && tls.client_ca_file.empty()) {
    return Status::Invalid(where + ": client_auth_type " +
                           ClientAuthName(tls.client_auth) +
                           " needs client_ca_file");
  }
  if (!tls.client_ca_file.empty() &&
      tls.client_auth == ClientAuth::kNoClientCert) {
    return Status::Invalid(where +
                           ": client_ca_file is set but client_auth_type "
                           "is NoClientCert");
  }
  return tls;
}

}  // namespace

const char* ClientAuthName(ClientAuth auth) {
  for (const auto& [name, a] : kClientAuths) {
    if (a == auth) return name;
  }
  return "unknown";
}

const char* TlsVersionName(TlsVersion version) {
  for (const auto& [name, v] : kVersions) {
    if (v == version) return name;
  }
  return "unknown";
}

namespace {

// ParseWebConfig without its one-line guarantee.
Result<WebConfig> ParseWebConfigUnchecked(const std::string& yaml_text,
                                          const std::string& base_dir) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    return Status::Invalid("not valid YAML (line " +
                           std::to_string(e.mark.line + 1) + ")");
  } catch (...) {
    return Status::Invalid("not valid YAML");
  }
  WebConfig config;
  if (root.IsNull()) return config;  // empty file: plain HTTP, no auth
  try {
    Status st = CheckKeys(root, "", {"tls_server_config", "basic_auth_users"});
    if (!st.ok()) return st;
    if (root["tls_server_config"] && !root["tls_server_config"].IsNull()) {
      auto tls = TlsFrom(root["tls_server_config"], base_dir);
      if (!tls.ok()) return tls.status();
      config.tls = tls.value();
    }
    const YAML::Node users = root["basic_auth_users"];
    if (users && !users.IsNull()) {
      if (!users.IsMap())
        return Status::Invalid("basic_auth_users: expected a mapping");
      for (const auto& kv : users) {
        if (!kv.first.IsScalar() || !kv.second.IsScalar()) {
          return Status::Invalid(
              "basic_auth_users: expected user: bcrypt-hash pairs");
        }
        std::string user = kv.first.Scalar();
        // The hash is not echoed: it is a credential too.
        if (user.empty() || user.find(':') != std::string::npos) {
          return Status::Invalid(
              "basic_auth_users: a user name is empty or has ':'");
        }
        // Checked before IsSupportedBcryptHash, which runs one bcrypt at
        // the hash's cost: "$2y$31$" would take days.
        if (int cost = BcryptCost(kv.second.Scalar()); cost > kMaxBcryptCost) {
          return Status::Invalid(
              "basic_auth_users." + user + ": bcrypt cost " +
              std::to_string(cost) + " is above the maximum of " +
              std::to_string(kMaxBcryptCost) +
              " (each login would take too long; re-hash with a lower cost, "
              "e.g. htpasswd -nB -C 10)");
        }
        if (!IsSupportedBcryptHash(kv.second.Scalar())) {
          return Status::Invalid("basic_auth_users." + user +
                                 ": not a bcrypt hash ($2a$, $2b$ or $2y$)");
        }
        if (!config.basic_auth_users.emplace(user, kv.second.Scalar()).second) {
          return Status::Invalid("basic_auth_users." + user +
                                 ": defined twice");
        }
      }
    }
  } catch (...) {
    return Status::Invalid("unexpected structure");
  }
  return config;
}

}  // namespace

Result<WebConfig> ParseWebConfig(const std::string& yaml_text,
                                 const std::string& base_dir) {
  auto config = ParseWebConfigUnchecked(yaml_text, base_dir);
  if (config.ok()) return config;
  // Messages quote keys and user names; a control character there
  // ("a\nb" in YAML) must not split the one line.
  return Status::Invalid(ScrubControlChars(config.status().message()));
}

Result<WebConfig> LoadWebConfig(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) {
    return Status::Invalid("--web.config.file: " + text.status().message());
  }
  std::string dir;
  if (auto slash = path.rfind('/'); slash != std::string::npos) {
    dir = path.substr(0, slash == 0 ? 1 : slash);
  }
  auto config = ParseWebConfig(text.value(), dir);
  if (!config.ok()) {
    return Status::Invalid("--web.config.file " + path + ": " +
                           config.status().message());
  }
  return config;
}

}  // namespace pgrepl
