// Text helpers shared across layers: one-line error text, quoting and
// scrubbing of untrusted input, whole-file reads and UTC timestamps.
#include "exporter/base/text.h"

#include <sys/stat.h>

#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>

namespace pgrepl {
namespace {

bool IsLineSpace(char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

}  // namespace

std::string OneLine(std::string_view text, size_t max_bytes) {
  while (!text.empty() && IsLineSpace(text.back())) text.remove_suffix(1);
  std::string out;
  for (char c : text.substr(0, max_bytes)) out += IsLineSpace(c) ? ' ' : c;
  return out.empty() ? "unknown error" : out;
}

std::string QuoteInput(std::string_view text, size_t limit, bool mark_cut) {
  std::string out;
  for (char c : text.substr(0, limit)) {
    out += (c >= 0x20 && c < 0x7f) ? c : '?';
  }
  if (mark_cut && text.size() > limit) out += "...";
  return out;
}

std::string ScrubControlChars(std::string_view text, char replacement) {
  std::string out(text);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = replacement;
  }
  return out;
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Io("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Status::Io("cannot read " + path);
  return ss.str();
}

unsigned ReadableByOthersMode(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return 0;
  unsigned mode = st.st_mode & 07777;
  return (mode & (S_IRGRP | S_IROTH)) != 0 ? mode : 0;
}

std::string FormatTimestamp(std::chrono::system_clock::time_point t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                t.time_since_epoch())
                .count();
  time_t secs = static_cast<time_t>(ms / 1000);
  struct tm tm_utc {};
  gmtime_r(&secs, &tm_utc);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                tm_utc.tm_year + 1900, tm_utc.tm_mon + 1, tm_utc.tm_mday,
                tm_utc.tm_hour, tm_utc.tm_min, tm_utc.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

}  // namespace pgrepl
