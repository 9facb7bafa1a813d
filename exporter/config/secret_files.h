// The files that hold secrets, and the warning when others can read them.
#ifndef PGREPL_EXPORTER_CONFIG_SECRET_FILES_H_
#define PGREPL_EXPORTER_CONFIG_SECRET_FILES_H_

#include <string>
#include <utility>
#include <vector>

#include "exporter/config/config.h"

namespace pgrepl {

// The files holding secrets (what, path): the web config file, the TLS key
// file and PGREPL_PASSWORD_FILE, each when set.
std::vector<std::pair<std::string, std::string>> SecretFiles(
    const Config& config);

// Logs a warning for each of SecretFiles() that group or others can read.
// At startup and after each web config reload.
void WarnAboutReadableSecretFiles(const Config& config);

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_CONFIG_SECRET_FILES_H_
