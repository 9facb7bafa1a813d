// libpq connection strings: validation, redaction and the target address.
#ifndef PGREPL_EXPORTER_PG_CONNINFO_H_
#define PGREPL_EXPORTER_PG_CONNINFO_H_

#include <map>
#include <string>

#include "exporter/base/status.h"

namespace pgrepl {

// The keywords a conninfo sets explicitly (libpq's own parser, so both
// "host=a port=5" and "postgresql://u@a:5/db" are accepted).
using ConninfoOptions = std::map<std::string, std::string>;

// Parses with libpq. On failure the message never echoes the input, since
// a malformed string may still hold a password.
Result<ConninfoOptions> ParseConninfo(const std::string& conninfo);

// Returns the conninfo as "k=v" pairs with any password replaced by "*****".
// Safe to log. Unparseable input yields "<malformed conninfo>".
std::string RedactConninfo(const std::string& conninfo);

// "host:port" as a human name for the target, defaulting like libpq does
// (PGHOST/PGPORT are not consulted: the name must be stable).
std::string TargetName(const ConninfoOptions& options);

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_PG_CONNINFO_H_
