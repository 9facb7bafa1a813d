// Build identity: version and revision, stamped by CMake.
#ifndef PGREPL_EXPORTER_BASE_VERSION_H_
#define PGREPL_EXPORTER_BASE_VERSION_H_

#include <string>

namespace pgrepl {

const char* Version();
const char* Revision();
// "pgrepl_exporter <version> (revision <rev>, libpq <n>)".
std::string VersionString();

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_BASE_VERSION_H_
