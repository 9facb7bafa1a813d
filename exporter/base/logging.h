// Logging: spdlog set up for logfmt or JSON lines on stderr.
#ifndef PGREPL_EXPORTER_BASE_LOGGING_H_
#define PGREPL_EXPORTER_BASE_LOGGING_H_

#include <spdlog/common.h>

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace pgrepl {

using LogFields =
    std::initializer_list<std::pair<std::string_view, std::string_view>>;

// Logs `msg` with structured fields through the default spdlog logger,
// e.g. Log(spdlog::level::warn, "poll failed", {{"instance", name}}).
// Field values may hold any text; the formatter quotes them.
void Log(spdlog::level::level_enum level, std::string_view msg,
         LogFields fields = {});

// Installs the default spdlog logger. `format` is "logfmt" or "json";
// `level` one of trace, debug, info, warn, error (validated by Config).
void SetupLogging(const std::string& level, const std::string& format);

// Formats one record as logfmt or JSON; exposed for tests. `payload` is
// what Log() hands to spdlog: the message, then each key and value,
// separated by the unit separator '\x1f'. Plain messages work too.
std::string FormatLogfmt(const std::string& time, const std::string& level,
                         const std::string& payload);
std::string FormatJson(const std::string& time, const std::string& level,
                       const std::string& payload);

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_BASE_LOGGING_H_
