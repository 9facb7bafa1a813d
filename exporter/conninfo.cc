// libpq connection strings: validation, redaction and the target address.
#include "exporter/conninfo.h"

#include <libpq-fe.h>

#include <cctype>

namespace pgrepl {
namespace {

// Keeps a fragment libpq quoted in its error only when it looks like a
// keyword ("passwrd"); anything else might be a secret.
std::string ScrubParseError(const char* raw) {
  std::string in = raw ? raw : "unknown error";
  while (!in.empty() && (in.back() == '\n' || in.back() == ' ')) in.pop_back();
  std::string out;
  size_t i = 0;
  while (i < in.size()) {
    if (in[i] != '"') {
      out += in[i++];
      continue;
    }
    size_t end = in.find('"', i + 1);
    if (end == std::string::npos) {
      out += "\"...\"";
      break;
    }
    std::string inner = in.substr(i + 1, end - i - 1);
    bool keyword = !inner.empty() && inner.size() <= 32;
    for (char c : inner) {
      if (!std::islower(static_cast<unsigned char>(c)) && c != '_') {
        keyword = false;
      }
    }
    out += keyword ? "\"" + inner + "\"" : std::string("\"...\"");
    i = end + 1;
  }
  return out;
}

}  // namespace

Result<ConninfoOptions> ParseConninfo(const std::string& conninfo) {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(conninfo.c_str(), &err);
  if (opts == nullptr) {
    std::string msg = "malformed conninfo: " + ScrubParseError(err);
    if (err) PQfreemem(err);
    return Status::Invalid(msg);
  }
  ConninfoOptions out;
  for (PQconninfoOption* o = opts; o->keyword != nullptr; ++o) {
    if (o->val != nullptr) out[o->keyword] = o->val;
  }
  PQconninfoFree(opts);
  return out;
}

std::string RedactConninfo(const std::string& conninfo) {
  auto parsed = ParseConninfo(conninfo);
  if (!parsed.ok()) return "<malformed conninfo>";
  std::string out;
  for (const auto& [key, value] : parsed.value()) {
    if (!out.empty()) out += ' ';
    out += key + "=" + (key == "password" ? std::string("*****") : value);
  }
  return out;
}

std::string TargetName(const ConninfoOptions& options) {
  auto get = [&](const char* key) -> std::string {
    auto it = options.find(key);
    return it == options.end() ? std::string() : it->second;
  };
  std::string host = get("host");
  if (host.empty()) host = get("hostaddr");
  if (host.empty()) host = "localhost";
  std::string port = get("port");
  if (port.empty()) port = "5432";
  return host + ":" + port;
}

}  // namespace pgrepl
