// Parsing of URL query strings ("instance=replica1&max_lag=1s").
#include "exporter/http/query_string.h"

namespace pgrepl {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes one key or value; false on a bad or NUL escape.
bool Decode(std::string_view in, std::string* out) {
  out->clear();
  out->reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '+') {
      *out += ' ';
    } else if (c == '%') {
      int hi = i + 1 < in.size() ? HexValue(in[i + 1]) : -1;
      int lo = i + 2 < in.size() ? HexValue(in[i + 2]) : -1;
      if (hi < 0 || lo < 0) return false;
      char decoded = static_cast<char>(hi * 16 + lo);
      if (decoded == '\0') return false;
      *out += decoded;
      i += 2;
    } else {
      *out += c;
    }
  }
  return true;
}

}  // namespace

Result<std::vector<QueryParam>> ParseQueryString(std::string_view query) {
  std::vector<QueryParam> out;
  size_t start = 0;
  while (start <= query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    std::string_view piece = query.substr(start, end - start);
    start = end + 1;
    if (piece.empty()) continue;
    if (out.size() == kMaxQueryParams) {
      return Status::Invalid("too many query parameters (at most " +
                             std::to_string(kMaxQueryParams) + ")");
    }
    size_t eq = piece.find('=');
    std::string_view key = piece.substr(0, eq);
    std::string_view value = eq == std::string_view::npos
                                 ? std::string_view()
                                 : piece.substr(eq + 1);
    if (key.size() > kMaxQueryValueLength ||
        value.size() > kMaxQueryValueLength) {
      return Status::Invalid("query parameter too long (at most " +
                             std::to_string(kMaxQueryValueLength) + " bytes)");
    }
    QueryParam p;
    if (!Decode(key, &p.key) || !Decode(value, &p.value)) {
      return Status::Invalid("malformed percent-escape in the query string");
    }
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace pgrepl
