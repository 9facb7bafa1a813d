// Fuzz target for conninfo handling (exporter/pg/conninfo.cc): ParseConninfo,
// RedactConninfo and TargetName on arbitrary text. Properties:
//  - RedactConninfo is "<malformed conninfo>" exactly when ParseConninfo
//    fails;
//  - when the input parses with a password, the redacted text holds
//    "password=*****" and never the password itself (see CheckNeverShown);
//  - a parse error message is one printable line and quotes nothing from
//    the input but keyword-like words ([a-z_], at most 32), since the rest
//    may be a secret;
//  - TargetName is host (else hostaddr, else localhost) ":" port (else
//    5432).
#include <cstdint>
#include <string>
#include <string_view>

#include "exporter/pg/conninfo.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

// Redaction renders "k=v" pairs joined by ' '. A password with neither ' '
// nor '=' can then only show up inside a single key or value, so it must
// not show up at all unless another key or value (or the mask itself)
// contains it. Passwords with ' ' or '=' could straddle two pairs; for
// them only the mask is checked.
void CheckNeverShown(const pgrepl::ConninfoOptions& options,
                     const std::string& redacted) {
  auto it = options.find("password");
  if (it == options.end()) return;
  const std::string& password = it->second;
  FUZZ_CHECK(redacted.find("password=*****") != std::string::npos,
             "no password mask in: " + redacted);
  if (password.empty() || password.find_first_of(" =") != std::string::npos)
    return;
  if (std::string("password*****").find(password) != std::string::npos) return;
  for (const auto& [key, value] : options) {
    if (key == "password") continue;
    if (key.find(password) != std::string::npos ||
        value.find(password) != std::string::npos) {
      return;
    }
  }
  FUZZ_CHECK(redacted.find(password) == std::string::npos,
             "password shown in: " + redacted);
}

// The message is one printable line, and every "..." fragment in it is
// "..." itself, one of libpq's literals ("=", "]", ":", "/") or a
// keyword-like word.
void CheckScrubbed(const std::string& message) {
  FUZZ_CHECK(pgrepl::fuzz::Printable(message), "unprintable error: " + message);
  size_t i = 0;
  while ((i = message.find('"', i)) != std::string::npos) {
    size_t end = message.find('"', i + 1);
    FUZZ_CHECK(end != std::string::npos, "unbalanced quote in: " + message);
    std::string_view inner(message.data() + i + 1, end - i - 1);
    bool keyword = !inner.empty() && inner.size() <= 32;
    for (char c : inner)
      keyword = keyword && ((c >= 'a' && c <= 'z') || c == '_');
    FUZZ_CHECK(keyword || inner == "..." || inner == "=" || inner == "]" ||
                   inner == ":" || inner == "/",
               "input echoed in error: " + message);
    i = end + 1;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // libpq reads a C string: an embedded NUL ends it, as it would for a flag.
  std::string conninfo(reinterpret_cast<const char*>(data), size);
  auto parsed = pgrepl::ParseConninfo(conninfo);
  std::string redacted = pgrepl::RedactConninfo(conninfo);
  if (!parsed.ok()) {
    FUZZ_CHECK(redacted == "<malformed conninfo>",
               "redacted a malformed conninfo");
    CheckScrubbed(parsed.status().message());
    return 0;
  }
  FUZZ_CHECK(redacted != "<malformed conninfo>",
             "a parsed conninfo was called malformed");
  CheckNeverShown(parsed.value(), redacted);
  auto get = [&](const char* key) {
    auto it = parsed.value().find(key);
    return it == parsed.value().end() ? std::string() : it->second;
  };
  std::string host = get("host").empty() ? get("hostaddr") : get("host");
  std::string port = get("port");
  // The name is host:port with any secret a host or port can smuggle in
  // (a URI with a password, "password=..." as a host) scrubbed out.
  std::string expected =
      pgrepl::ScrubSecrets((host.empty() ? "localhost" : host) + ":" +
                           (port.empty() ? "5432" : port));
  const std::string name = pgrepl::TargetName(parsed.value());
  FUZZ_CHECK(name == expected, "target name, not " + expected);
  return 0;
}
