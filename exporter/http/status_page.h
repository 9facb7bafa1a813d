// The status page (/): a StatusReport as one self-contained HTML document
// with inline CSS and SVG, no JavaScript and no external assets.
#ifndef PGREPL_EXPORTER_HTTP_STATUS_PAGE_H_
#define PGREPL_EXPORTER_HTTP_STATUS_PAGE_H_

#include <string>
#include <string_view>

#include "exporter/http/status_report.h"

namespace pgrepl {

// Renders every cluster's topology (primary above its replicas, coloured
// lag bars against the limit, WAL receiver and slot state), the time of
// the last poll, and links to `telemetry_path` and /status. Reloads itself
// every 5 s. Every string from a snapshot is escaped.
std::string RenderStatusPage(const StatusReport& report,
                             const std::string& telemetry_path);

// Escapes & < > " ' for HTML text and attribute values.
std::string HtmlEscape(std::string_view text);

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_HTTP_STATUS_PAGE_H_
