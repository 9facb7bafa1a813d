// Parsing of URL query strings ("instance=replica1&max_lag=1s").
#ifndef PGREPL_EXPORTER_HTTP_QUERY_STRING_H_
#define PGREPL_EXPORTER_HTTP_QUERY_STRING_H_

#include <string>
#include <string_view>
#include <vector>

#include "exporter/base/status.h"

namespace pgrepl {

struct QueryParam {
  std::string key;
  std::string value;  // "" for a bare "key"
};

// Limits that keep a hostile query cheap to reject.
constexpr size_t kMaxQueryParams = 16;
constexpr size_t kMaxQueryValueLength = 256;

// Splits on '&', then on the first '='; percent-decodes keys and values
// and turns '+' into a space. Empty pieces ("a=1&&b=2") are skipped.
// Invalid: a malformed or NUL escape, more than kMaxQueryParams
// parameters, or a key or value longer than kMaxQueryValueLength.
Result<std::vector<QueryParam>> ParseQueryString(std::string_view query);

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_HTTP_QUERY_STRING_H_
