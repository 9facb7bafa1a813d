// The /status API: a StatusReport as JSON (schema in docs/http.md).
#ifndef PGREPL_EXPORTER_HTTP_STATUS_JSON_H_
#define PGREPL_EXPORTER_HTTP_STATUS_JSON_H_

#include <string>

#include "exporter/http/status_report.h"

namespace pgrepl {

// Renders schema version StatusReport::kVersion. Unknown values are null,
// never 0. Invalid UTF-8 in names or errors is replaced, so this never
// throws.
std::string RenderStatusJson(const StatusReport& report);

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_HTTP_STATUS_JSON_H_
