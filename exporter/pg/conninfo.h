// libpq connection strings: validation, redaction and the target address.
#ifndef PGREPL_EXPORTER_PG_CONNINFO_H_
#define PGREPL_EXPORTER_PG_CONNINFO_H_

#include <map>
#include <string>
#include <string_view>

#include "exporter/base/status.h"

namespace pgrepl {

// The keywords a conninfo sets explicitly (libpq's own parser, so both
// "host=a port=5" and "postgresql://u@a:5/db" are accepted).
using ConninfoOptions = std::map<std::string, std::string>;

// Parses with libpq. On failure the message never echoes the input, since
// a malformed string may still hold a password.
Result<ConninfoOptions> ParseConninfo(const std::string& conninfo);

// True for a keyword whose value is a secret: "password", "sslpassword"
// and every option that libpq's PQconndefaults() marks with dispchar '*'.
bool IsSecretKeyword(std::string_view keyword);

// Returns the conninfo as "k=v" pairs with the value of every secret keyword
// replaced by "*****" and ScrubSecrets applied to the other values (a dbname
// may itself be a conninfo). Safe to log. Unparseable input yields
// "<malformed conninfo>".
std::string RedactConninfo(const std::string& conninfo);

// Free text (an error message, a name) with every secret a conninfo or URI
// inside it may carry replaced by "*****", whether or not it parses:
//   "postgresql://mon:s3cret@db/x?sslpassword=y" -> the password and the
//   secret query parameters (percent-encoded names too);
//   "host=db password = 'a b'" -> the value after each secret keyword.
// A URI runs to the next white space.
std::string ScrubSecrets(std::string_view text);

// ScrubSecrets for one command-line argument: a URI in it runs to the end
// of the argument, so a password with spaces is hidden too.
std::string ScrubArgument(std::string_view arg);

// Checks the values that PQconninfoParse accepts but libpq rejects only
// when connecting: port (integers 1-65535, a comma list whose length is 1
// or the number of hosts), connect_timeout (an integer), sslmode,
// target_session_attrs, gssencmode and channel_binding (their libpq words).
// The message names the keyword and quotes its (never secret) value.
Status CheckConninfoValues(const ConninfoOptions& options);

// "host:port" as a human name for the target, defaulting like libpq does
// (PGHOST/PGPORT are not consulted: the name must be stable). Passed
// through ScrubSecrets, since a hostile host may hold a URI.
std::string TargetName(const ConninfoOptions& options);

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_PG_CONNINFO_H_
