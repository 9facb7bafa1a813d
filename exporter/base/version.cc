// Build identity: version and revision, stamped by CMake.
#include "exporter/base/version.h"

#include <libpq-fe.h>

#ifndef PGREPL_VERSION
#define PGREPL_VERSION "0.0.0"
#endif
#ifndef PGREPL_REVISION
#define PGREPL_REVISION "unknown"
#endif

namespace pgrepl {

const char* Version() { return PGREPL_VERSION; }
const char* Revision() { return PGREPL_REVISION; }

std::string VersionString() {
  return std::string("pgrepl_exporter ") + Version() + " (revision " +
         Revision() + ", libpq " + std::to_string(PQlibVersion()) + ")";
}

}  // namespace pgrepl
