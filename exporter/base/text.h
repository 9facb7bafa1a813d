// Text helpers shared across layers: one-line error text, quoting and
// scrubbing of untrusted input, whole-file reads and UTC timestamps.
#ifndef PGREPL_EXPORTER_BASE_TEXT_H_
#define PGREPL_EXPORTER_BASE_TEXT_H_

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "exporter/base/status.h"

namespace pgrepl {

// `text` on one line, for a log field or a reply: trailing white space
// (' ', '\n', '\r', '\t') dropped, every other '\n', '\r' and '\t' turned
// into ' ', then at most the first `max_bytes` bytes kept. Other bytes are
// kept as they are. An empty result becomes "unknown error", as `text` is
// meant to be an error message (libpq's end in "\n").
//   "connection refused\n\tIs the server running?\n"
//     -> "connection refused  Is the server running?"
std::string OneLine(std::string_view text,
                    size_t max_bytes = std::string_view::npos);

// At most the first `limit` characters of text, each one outside printable
// ASCII replaced by '?', and "..." when text was longer than that and
// `mark_cut` is set: safe to echo in an error message or a reply.
std::string QuoteInput(std::string_view text, size_t limit = 40,
                       bool mark_cut = false);

// `text` with each ASCII control character (below 0x20, and DEL) replaced
// by `replacement`; other bytes, UTF-8 included, kept. Keeps an error
// message that quotes names from a file ("a\nb" in JSON) on one line.
std::string ScrubControlChars(std::string_view text, char replacement = '?');

// The whole content of the file at `path`, as bytes. On failure a Status
// of kind kIo: "cannot read PATH" (never any of the content).
Result<std::string> ReadFile(const std::string& path);

// The permission bits (e.g. 0644) of the file at `path` when its group or
// others may read it; 0 when neither may, or when it cannot be stat()ed.
unsigned ReadableByOthersMode(const std::string& path);

// UTC with milliseconds, RFC 3339: "2024-05-01T12:00:00.123Z".
std::string FormatTimestamp(std::chrono::system_clock::time_point t);

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_BASE_TEXT_H_
