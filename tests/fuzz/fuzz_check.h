// FUZZ_CHECK: a property every fuzz input must keep. A violation prints
// what broke and aborts, which libFuzzer reports as a crash and saves the
// input as an artifact.
#ifndef PGREPL_TESTS_FUZZ_FUZZ_CHECK_H_
#define PGREPL_TESTS_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#define FUZZ_CHECK(cond, what)                                                 \
  do {                                                                         \
    if (!(cond)) {                                                             \
      std::fprintf(stderr, "FUZZ_CHECK failed at %s:%d: %s\n  %s\n", __FILE__, \
                   __LINE__, #cond, std::string(what).c_str());                \
      std::abort();                                                            \
    }                                                                          \
  } while (0)

namespace pgrepl::fuzz {

// True when `text` is one line: no '\n' or '\r' (error messages end up on
// one stderr line or in a one-line HTTP reply).
inline bool OneLine(std::string_view text) {
  return text.find_first_of("\r\n") == std::string_view::npos;
}

// True when every byte is printable ASCII.
inline bool Printable(std::string_view text) {
  for (char c : text) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

}  // namespace pgrepl::fuzz

#endif  // PGREPL_TESTS_FUZZ_FUZZ_CHECK_H_
