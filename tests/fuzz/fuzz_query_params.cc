// Fuzz target for query-parameter parsing: ParseQueryString
// (exporter/http/query_string.cc), ParseHealthRequest (health_request.cc) and
// the value parsers behind max_lag: ParseLagLimit, ParseDuration and
// ParseSize. The input is a raw query string such as
// "instance=replica1&max_lag=1s". Properties:
//  - ParseQueryString keeps its limits: at most kMaxQueryParams
//    parameters, no key or value longer than kMaxQueryValueLength, no NUL;
//  - every error message that can reach an HTTP 400 reply is printable
//    ASCII, so one line;
//  - a parsed LagLimit is positive and finite, and its canonical text
//    parses back to the same kind and value; the same for durations and
//    sizes through their Format functions.
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

#include "exporter/base/duration.h"
#include "exporter/base/size.h"
#include "exporter/config/lag_limit.h"
#include "exporter/http/health_request.h"
#include "exporter/http/query_string.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using pgrepl::fuzz::Printable;

void CheckLagLimit(std::string_view text) {
  auto limit = pgrepl::ParseLagLimit(text);
  if (!limit.ok()) {
    FUZZ_CHECK(Printable(limit.status().message()), limit.status().message());
    return;
  }
  const pgrepl::LagLimit& l = limit.value();
  FUZZ_CHECK(l.value > 0 && std::isfinite(l.value), "limit " + l.text);
  auto again = pgrepl::ParseLagLimit(l.text);
  FUZZ_CHECK(again.ok() && again.value().kind == l.kind &&
                 again.value().value == l.value && again.value().text == l.text,
             "canonical text does not round-trip: " + l.text);
}

void CheckDuration(std::string_view text) {
  auto d = pgrepl::ParseDuration(text);
  if (!d.ok())
    return;  // its message reaches people through ParseLagLimit
             // or ParseCommandLine, which make it one line
  FUZZ_CHECK(
      d.value().count() >= 0 && d.value().count() <= 7LL * 24 * 3600 * 1000,
      "duration out of range");
  std::string text_again = pgrepl::FormatDuration(d.value());
  auto again = pgrepl::ParseDuration(text_again);
  FUZZ_CHECK(again.ok() && again.value() == d.value(),
             "round trip of " + text_again);
}

void CheckSize(std::string_view text) {
  auto s = pgrepl::ParseSize(text);
  if (!s.ok()) {
    FUZZ_CHECK(Printable(s.status().message()), s.status().message());
    return;
  }
  FUZZ_CHECK(s.value() <= (uint64_t{1} << 50), "size above 1 PiB");
  std::string text_again = pgrepl::FormatSize(s.value());
  auto again = pgrepl::ParseSize(text_again);
  FUZZ_CHECK(again.ok() && again.value() == s.value(),
             "round trip of " + text_again);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  // civetweb hands the query over as a C string: it ends at a NUL.
  std::string_view query = input.substr(0, input.find('\0'));

  auto params = pgrepl::ParseQueryString(query);
  if (params.ok()) {
    FUZZ_CHECK(params.value().size() <= pgrepl::kMaxQueryParams,
               "too many params");
    for (const auto& p : params.value()) {
      FUZZ_CHECK(p.key.size() <= pgrepl::kMaxQueryValueLength &&
                     p.value.size() <= pgrepl::kMaxQueryValueLength,
                 "param too long");
      FUZZ_CHECK(p.key.find('\0') == std::string::npos &&
                     p.value.find('\0') == std::string::npos,
                 "NUL decoded");
      CheckLagLimit(p.value);
      CheckDuration(p.value);
      CheckSize(p.value);
    }
  } else {
    FUZZ_CHECK(Printable(params.status().message()), params.status().message());
  }

  for (bool allow_max_lag : {false, true}) {
    auto request = pgrepl::ParseHealthRequest(query, allow_max_lag);
    if (!request.ok()) {
      FUZZ_CHECK(Printable(request.status().message()),
                 request.status().message());
      continue;
    }
    FUZZ_CHECK(params.ok(), "a request from an invalid query string");
    FUZZ_CHECK(allow_max_lag || !request.value().max_lag,
               "max_lag where not allowed");
    if (request.value().max_lag) {
      FUZZ_CHECK(request.value().max_lag->value > 0, "max_lag <= 0");
    }
  }

  // The whole input as one value, as --health.replica-max-lag or a
  // duration flag would see it.
  CheckLagLimit(input);
  CheckDuration(input);
  CheckSize(input);
  return 0;
}
