// Fuzz target for ParseLsn (exporter/pg/lsn.cc). Properties:
//  - it accepts exactly "X/Y" with X and Y of 1 to 8 hex digits, checked
//    against a separate reference reading of the text;
//  - the value is X * 2^32 + Y, and printing it back as "%X/%X" parses to
//    the same value (the form pg_lsn prints);
//  - the first 8 input bytes, read as a 64-bit position, survive
//    print-then-parse, so the full range round-trips.
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "exporter/pg/lsn.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

std::string Print(uint64_t lsn) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%" PRIX32 "/%" PRIX32,
                static_cast<uint32_t>(lsn >> 32), static_cast<uint32_t>(lsn));
  return buf;
}

// The reference: the value of 1..8 hex digits, or -1.
int64_t RefHex(std::string_view s) {
  if (s.empty() || s.size() > 8) return -1;
  int64_t v = 0;
  for (char c : s) {
    const char* digits = "0123456789abcdef";
    const char* p =
        std::strchr(digits, c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c);
    if (c == '\0' || p == nullptr) return -1;
    v = v * 16 + (p - digits);
  }
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto lsn = pgrepl::ParseLsn(text);

  size_t slash = text.find('/');
  int64_t hi =
      slash == std::string_view::npos ? -1 : RefHex(text.substr(0, slash));
  int64_t lo =
      slash == std::string_view::npos ? -1 : RefHex(text.substr(slash + 1));
  bool valid = hi >= 0 && lo >= 0;
  FUZZ_CHECK(lsn.has_value() == valid,
             "accepted/rejected unlike the reference");
  if (lsn) {
    uint64_t expected =
        (static_cast<uint64_t>(hi) << 32) | static_cast<uint64_t>(lo);
    FUZZ_CHECK(*lsn == expected, "wrong value for " + std::string(text));
    auto again = pgrepl::ParseLsn(Print(*lsn));
    FUZZ_CHECK(again && *again == *lsn,
               "print/parse round trip of " + Print(*lsn));
  }

  uint64_t raw = 0;
  std::memcpy(&raw, data, size < sizeof raw ? size : sizeof raw);
  auto back = pgrepl::ParseLsn(Print(raw));
  FUZZ_CHECK(back && *back == raw, "print/parse round trip of " + Print(raw));
  return 0;
}
