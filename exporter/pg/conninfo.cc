// libpq connection strings: validation, redaction and the target address.
#include "exporter/pg/conninfo.h"

#include <libpq-fe.h>

#include <cctype>

namespace pgrepl {
namespace {

// True for a word that looks like a keyword someone mistyped ("passwrd").
bool KeywordLike(const std::string& text) {
  if (text.empty() || text.size() > 32) return false;
  for (char c : text) {
    if (!std::islower(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

// Rewrites a PQconninfoParse error so that it echoes nothing from the
// input but a keyword-like word. libpq quotes input verbatim, quotes
// included ("%s"), so the quoted part is found from libpq's fixed text
// around it, never by pairing quotes. The exporter never calls setlocale,
// so the messages are libpq's English ones.
//   missing "=" after "%s" in connection info string
//   invalid connection option "%s"
//   invalid URI query parameter: "%s"
//   <other URI problems, may quote "=" or "]">: "%s"
std::string ScrubParseError(const char* raw) {
  std::string in = raw ? raw : "unknown error";
  while (!in.empty() && (in.back() == '\n' || in.back() == ' ')) in.pop_back();
  for (const auto& [prefix, suffix] :
       {std::pair<std::string, std::string>{"missing \"=\" after \"",
                                            "\" in connection info string"},
        std::pair<std::string, std::string>{"invalid connection option \"",
                                            "\""},
        std::pair<std::string, std::string>{"invalid URI query parameter: \"",
                                            "\""}}) {
    if (in.size() >= prefix.size() + suffix.size() && in.starts_with(prefix) &&
        in.ends_with(suffix)) {
      std::string word =
          in.substr(prefix.size(), in.size() - prefix.size() - suffix.size());
      return prefix + (KeywordLike(word) ? word : "...") + suffix;
    }
  }
  // A URI error: libpq's text, then the (part of the) URI.
  if (size_t uri = in.find(": \""); uri != std::string::npos) {
    std::string text = in.substr(0, uri);
    // 'unexpected character "%c" at position %d ...': the character too.
    const std::string kChar = "unexpected character \"";
    if (text.starts_with(kChar) && text.size() > kChar.size() + 1) {
      text.replace(kChar.size(), 1, "...");
    }
    return text + ": \"...\"";
  }
  // Anything else: libpq's text up to the first quote.
  if (size_t quote = in.find('"'); quote != std::string::npos) {
    return in.substr(0, quote) + "\"...\"";
  }
  return in;
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
