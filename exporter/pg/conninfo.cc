// libpq connection strings: validation, redaction and the target address.
#include "exporter/pg/conninfo.h"

#include <libpq-fe.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <climits>
#include <functional>
#include <optional>
#include <set>
#include <vector>

namespace pgrepl {
namespace {

constexpr char kMask[] = "*****";

// The secret keywords: libpq's own table (dispchar '*') plus the two that
// every libpq since 13 has, in case PQconndefaults() fails for lack of
// memory. Built once and never destroyed.
const std::set<std::string, std::less<>>& SecretKeywords() {
  static const auto* const kSecrets = [] {
    auto* secrets =
        new std::set<std::string, std::less<>>{"password", "sslpassword"};
    if (PQconninfoOption* defaults = PQconndefaults()) {
      for (PQconninfoOption* o = defaults; o->keyword != nullptr; ++o) {
        if (o->dispchar != nullptr && o->dispchar[0] == '*') {
          secrets->insert(o->keyword);
        }
      }
      PQconninfoFree(defaults);
    }
    return secrets;
  }();
  return *kSecrets;
}

bool IsWordChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

bool IsSpace(char c) { return std::isspace(static_cast<unsigned char>(c)); }

char Lower(char c) {
  return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

// True when `text` at `pos` starts with `word`, ignoring case.
bool StartsWithAt(std::string_view text, size_t pos, std::string_view word) {
  if (text.size() - pos < word.size()) return false;
  for (size_t i = 0; i < word.size(); ++i) {
    if (Lower(text[pos + i]) != word[i]) return false;
  }
  return true;
}

// The length of a URI scheme libpq knows at `pos`, else 0.
size_t UriSchemeAt(std::string_view text, size_t pos) {
  for (std::string_view scheme : {"postgresql://", "postgres://"}) {
    if (StartsWithAt(text, pos, scheme)) return scheme.size();
  }
  return 0;
}

// A URI query parameter name, percent-decoded and lower-cased as far as
// that is possible ("pass%77ord" is libpq's "password").
std::string DecodeParamName(std::string_view name) {
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    if (name[i] == '%' && i + 2 < name.size() &&
        std::isxdigit(static_cast<unsigned char>(name[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(name[i + 2]))) {
      out += static_cast<char>(
          std::stoi(std::string(name.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += name[i];
    }
  }
  for (char& c : out) c = Lower(c);
  return out;
}

// One URI with its password and secret query parameters masked. The user
// information ends at the last '@' (libpq's stops at the first '/', but a
// broken URI may have a '/' in its password).
//   postgresql://mon:s3cret@db:5432/postgres?sslpassword=x&sslmode=require
std::string RedactUri(std::string_view uri, size_t scheme_len) {
  std::string out(uri.substr(0, scheme_len));
  std::string_view rest = uri.substr(scheme_len);
  if (size_t at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = rest.substr(0, at);
    if (size_t colon = userinfo.find(':'); colon != std::string_view::npos) {
      out += userinfo.substr(0, colon + 1);
      out += kMask;
    } else {
      out += userinfo;
    }
    out += '@';
    rest = rest.substr(at + 1);
  }
  size_t query = rest.find('?');
  out += rest.substr(0, query);
  if (query == std::string_view::npos) return out;
  rest = rest.substr(query + 1);
  out += '?';
  while (true) {
    size_t amp = rest.find('&');
    std::string_view param = rest.substr(0, amp);
    size_t eq = param.find('=');
    if (eq != std::string_view::npos &&
        IsSecretKeyword(DecodeParamName(param.substr(0, eq)))) {
      out += param.substr(0, eq + 1);
      out += kMask;
    } else {
      out += param;
    }
    if (amp == std::string_view::npos) break;
    out += '&';
    rest = rest.substr(amp + 1);
  }
  return out;
}

// The length of the secret keyword, with its '=' and the white space
// around it, at `pos` (at a word start); 0 when there is none.
size_t SecretAssignmentAt(std::string_view text, size_t pos) {
  size_t end = pos;
  while (end < text.size() && IsWordChar(text[end])) ++end;
  std::string word(text.substr(pos, end - pos));
  for (char& c : word) c = Lower(c);
  if (!IsSecretKeyword(word)) return 0;
  while (end < text.size() && IsSpace(text[end])) ++end;
  if (end == text.size() || text[end] != '=') return 0;
  ++end;
  while (end < text.size() && IsSpace(text[end])) ++end;
  return end - pos;
}

// The length of a conninfo value at `pos`: quoted ('...' with backslash
// escapes, or "..."), to its closing quote or the end of the text;
// otherwise to the next white space.
size_t ValueLength(std::string_view text, size_t pos) {
  size_t end = pos;
  if (end < text.size() && (text[end] == '\'' || text[end] == '"')) {
    char quote = text[end++];
    while (end < text.size() && text[end] != quote) {
      if (quote == '\'' && text[end] == '\\') ++end;
      ++end;
    }
    return std::min(end + 1, text.size()) - pos;
  }
  while (end < text.size() && !IsSpace(text[end])) ++end;
  return end - pos;
}

// ScrubSecrets; a URI runs to the end of the text when `uri_to_end`.
std::string Scrub(std::string_view text, bool uri_to_end) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    bool word_start = i == 0 || !IsWordChar(text[i - 1]);
    if (!word_start || !IsWordChar(text[i])) {
      out += text[i++];
      continue;
    }
    if (size_t scheme = UriSchemeAt(text, i)) {
      size_t end = i + scheme;
      if (uri_to_end) {
        end = text.size();
      } else {
        while (end < text.size() && !IsSpace(text[end])) ++end;
        // "user:pass word@host": a password may hold spaces when quoted
        // in a message, so while no '/', '?' or '@' has ended the user
        // part, a '@' further on still ends it.
        std::string_view token = text.substr(i + scheme, end - i - scheme);
        size_t at = text.find('@', end);
        if (token.find_first_of("@/?") == std::string_view::npos &&
            token.find(':') != std::string_view::npos &&
            at != std::string_view::npos &&
            text.substr(end, at - end).find("://") == std::string_view::npos) {
          end = at;
          while (end < text.size() && !IsSpace(text[end])) ++end;
        }
      }
      out += RedactUri(text.substr(i, end - i), scheme);
      i = end;
    } else if (size_t assign = SecretAssignmentAt(text, i)) {
      out += text.substr(i, assign);
      i += assign;
      i += ValueLength(text, i);
      out += kMask;
    } else {
      while (i < text.size() && IsWordChar(text[i])) out += text[i++];
    }
  }
  return out;
}

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

// The comma-separated elements of a multi-host value ("a,b" -> a, b).
std::vector<std::string> SplitList(const std::string& value) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t comma = value.find(',', start);
    out.push_back(value.substr(start, comma - start));
    if (comma == std::string::npos) return out;
    start = comma + 1;
  }
}

// Parses an integer as libpq's parse_int_param does: white space around
// it, an optional sign, digits and nothing else.
std::optional<long> ParseLibpqInt(const std::string& text) {
  size_t begin = 0;
  size_t end = text.size();
  while (begin < end && IsSpace(text[begin])) ++begin;
  while (end > begin && IsSpace(text[end - 1])) --end;
  if (begin < end && text[begin] == '+') ++begin;
  long value = 0;
  auto [ptr, ec] =
      std::from_chars(text.data() + begin, text.data() + end, value);
  if (begin == end || ec != std::errc() || ptr != text.data() + end ||
      value < INT_MIN || value > INT_MAX) {
    return std::nullopt;
  }
  return value;
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

bool IsSecretKeyword(std::string_view keyword) {
  return SecretKeywords().count(keyword) > 0;
}

std::string RedactConninfo(const std::string& conninfo) {
  auto parsed = ParseConninfo(conninfo);
  if (!parsed.ok()) return "<malformed conninfo>";
  std::string out;
  for (const auto& [key, value] : parsed.value()) {
    if (!out.empty()) out += ' ';
    out += key + "=" + (IsSecretKeyword(key) ? kMask : ScrubSecrets(value));
  }
  return out;
}

std::string ScrubSecrets(std::string_view text) { return Scrub(text, false); }

std::string ScrubArgument(std::string_view arg) { return Scrub(arg, true); }

Status CheckConninfoValues(const ConninfoOptions& options) {
  auto bad = [](const std::string& key, const std::string& value,
                const std::string& expected) {
    return Status::Invalid("bad " + key + " \"" + ScrubSecrets(value) +
                           "\": expected " + expected);
  };
  auto get = [&](const char* key) -> const std::string* {
    auto it = options.find(key);
    return it == options.end() ? nullptr : &it->second;
  };
  if (const std::string* port = get("port")) {
    std::vector<std::string> ports = SplitList(*port);
    for (const std::string& p : ports) {
      if (p.empty()) continue;  // libpq's default port for that host
      auto n = ParseLibpqInt(p);
      if (!n || *n < 1 || *n > 65535) {
        return bad("port", *port, "integers 1 to 65535, comma-separated");
      }
    }
    size_t hosts = 1;
    if (const std::string* h = get("host"); h && !h->empty()) {
      hosts = SplitList(*h).size();
    } else if (const std::string* a = get("hostaddr"); a && !a->empty()) {
      hosts = SplitList(*a).size();
    }
    if (ports.size() != 1 && ports.size() != hosts) {
      return bad("port", *port,
                 "one port, or one per host (" + std::to_string(hosts) + ")");
    }
  }
  if (const std::string* t = get("connect_timeout"); t && !ParseLibpqInt(*t)) {
    return bad("connect_timeout", *t, "an integer number of seconds");
  }
  for (const auto& [key, words] :
       {std::pair<const char*, std::vector<std::string>>{
            "sslmode",
            {"disable", "allow", "prefer", "require", "verify-ca",
             "verify-full"}},
        {"target_session_attrs",
         {"any", "read-write", "read-only", "primary", "standby",
          "prefer-standby"}},
        {"gssencmode", {"disable", "prefer", "require"}},
        {"channel_binding", {"disable", "prefer", "require"}}}) {
    const std::string* value = get(key);
    if (value == nullptr) continue;
    if (std::find(words.begin(), words.end(), *value) != words.end()) continue;
    std::string list;
    for (const auto& w : words) list += (list.empty() ? "" : ", ") + w;
    return bad(key, *value, "one of " + list);
  }
  return Status::Ok();
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
  return ScrubSecrets(host + ":" + port);
}

}  // namespace pgrepl
