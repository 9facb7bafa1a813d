// The command line: flags (CLI11) and environment variables, plus the JSON
// config file they may name, parsed into a validated Config.
#ifndef PGREPL_EXPORTER_CONFIG_FLAGS_H_
#define PGREPL_EXPORTER_CONFIG_FLAGS_H_

#include <functional>
#include <string>

#include "exporter/base/status.h"
#include "exporter/config/config.h"

namespace pgrepl {

// What the command line asks for.
struct CommandLine {
  enum class Action { kRun, kHelp, kVersion };
  Action action = Action::kRun;
  std::string text;  // help or version text for kHelp / kVersion
  Config config;     // valid when action == kRun
};

// Looks up an environment variable; returns nullptr when unset.
using EnvLookup = std::function<const char*(const char*)>;

// Parses flags and the environment, reads the config file if one is given,
// and validates the result. Targets come from --primary/--replica (one
// cluster), then --config.file, and only when neither gives any, from
// DB_HOST/DB_REPLICA_HOST. Every error is one line naming the problem
// (control characters become '?'), and never holds a password.
Result<CommandLine> ParseCommandLine(int argc, const char* const* argv,
                                     const EnvLookup& env);

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_CONFIG_FLAGS_H_
