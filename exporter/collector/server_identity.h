// The server's identity, read once per session: pg_control_system()'s
// system identifier, the postmaster start time and the server's address.
#ifndef PGREPL_EXPORTER_COLLECTOR_SERVER_IDENTITY_H_
#define PGREPL_EXPORTER_COLLECTOR_SERVER_IDENTITY_H_

#include <string>

#include "exporter/base/status.h"
#include "exporter/model/view_rows.h"
#include "exporter/pg/rows.h"

namespace pgrepl {

// The same on every supported version (pg_control_system() is 9.6+).
std::string ServerIdentitySql();

// Parses its one row; a missing or non-numeric system identifier is an
// error. A NULL start time or address is "".
Status ParseServerIdentity(const Rows& rows, ServerIdentity* out);

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_COLLECTOR_SERVER_IDENTITY_H_
