// The files that hold secrets, and the warning when others can read them.
#include "exporter/config/secret_files.h"

#include <cstdio>

#include "exporter/base/logging.h"
#include "exporter/base/text.h"

namespace pgrepl {

std::vector<std::pair<std::string, std::string>> SecretFiles(
    const Config& config) {
  std::vector<std::pair<std::string, std::string>> out;
  if (!config.web_config_file.empty()) {
    out.emplace_back("--web.config.file", config.web_config_file);
  }
  if (config.web.tls && !config.web.tls->key_file.empty()) {
    out.emplace_back("tls_server_config.key_file", config.web.tls->key_file);
  }
  if (!config.password_file.empty()) {
    out.emplace_back("PGREPL_PASSWORD_FILE", config.password_file);
  }
  return out;
}

void WarnAboutReadableSecretFiles(const Config& config) {
  for (const auto& [what, path] : SecretFiles(config)) {
    if (unsigned mode = ReadableByOthersMode(path); mode != 0) {
      char octal[12];
      std::snprintf(octal, sizeof octal, "%04o", mode);
      Log(spdlog::level::warn,
          "secret file is readable by group or others; chmod 600",
          {{"file", what}, {"path", path}, {"mode", octal}});
    }
  }
}

}  // namespace pgrepl
