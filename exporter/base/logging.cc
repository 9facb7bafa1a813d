// Logging: spdlog set up for logfmt or JSON lines on stderr.
#include "exporter/base/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "exporter/base/text.h"

namespace pgrepl {
namespace {

class LineFormatter : public spdlog::formatter {
 public:
  explicit LineFormatter(bool json) : json_(json) {}
  void format(const spdlog::details::log_msg& m,
              spdlog::memory_buf_t& dest) override {
    std::string level(spdlog::level::to_string_view(m.level).data(),
                      spdlog::level::to_string_view(m.level).size());
    if (level == "warning") level = "warn";
    std::string msg(m.payload.data(), m.payload.size());
    std::string line = json_
                           ? FormatJson(FormatTimestamp(m.time), level, msg)
                           : FormatLogfmt(FormatTimestamp(m.time), level, msg);
    line += '\n';
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<LineFormatter>(json_);
  }

 private:
  bool json_;
};

constexpr char kSep = '\x1f';

// Splits a Log() payload into the message and its fields.
void SplitFields(const std::string& payload, std::string* text,
                 std::vector<std::pair<std::string, std::string>>* fields) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t sep = payload.find(kSep, start);
    parts.push_back(payload.substr(start, sep - start));
    if (sep == std::string::npos) break;
    start = sep + 1;
  }
  *text = parts[0];
  for (size_t i = 1; i + 1 < parts.size(); i += 2) {
    fields->emplace_back(parts[i], parts[i + 1]);
  }
}

// A logfmt value: as it is where logfmt needs no quotes, else in double
// quotes, with '"' and backslash escaped by a backslash and a newline
// written as \n. This is escaping, so a logfmt reader gets the value back,
// and is kept apart from ScrubControlChars (exporter/base/text.h), which
// only replaces bytes and cannot escape: the other C0 controls become ' '
// here, and DEL is left as it is.
std::string LogfmtValue(const std::string& v) {
  bool needs = v.empty();
  for (char c : v) {
    if (c == ' ' || c == '"' || c == '=' || c == '\\' ||
        static_cast<unsigned char>(c) < 0x20) {
      needs = true;
    }
  }
  if (!needs) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace

std::string FormatLogfmt(const std::string& time, const std::string& level,
                         const std::string& msg) {
  std::string text;
  std::vector<std::pair<std::string, std::string>> fields;
  SplitFields(msg, &text, &fields);
  std::string out =
      "ts=" + time + " level=" + level + " msg=" + LogfmtValue(text);
  for (const auto& [k, v] : fields) out += " " + k + "=" + LogfmtValue(v);
  return out;
}

std::string FormatJson(const std::string& time, const std::string& level,
                       const std::string& msg) {
  std::string text;
  std::vector<std::pair<std::string, std::string>> fields;
  SplitFields(msg, &text, &fields);
  nlohmann::ordered_json j;
  j["ts"] = time;
  j["level"] = level;
  j["msg"] = text;
  for (const auto& [k, v] : fields) j[k] = v;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void Log(spdlog::level::level_enum level, std::string_view msg,
         LogFields fields) {
  if (!spdlog::should_log(level)) return;
  std::string payload(msg);
  for (const auto& [k, v] : fields) {
    payload += kSep;
    payload += k;
    payload += kSep;
    for (char c : v) payload += (c == kSep ? ' ' : c);
  }
  spdlog::log(level, "{}", payload);
}

void SetupLogging(const std::string& level, const std::string& format) {
  auto logger = std::make_shared<spdlog::logger>(
      "pgrepl", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  logger->set_formatter(std::make_unique<LineFormatter>(format == "json"));
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

}  // namespace pgrepl
