// Caps bcrypt's cost factor at 4 for the fuzz targets. Cost is part of a
// configured hash ("$2y$10$..."), so a fuzzer that writes "$2y$31$" would
// otherwise spend hours in one input: a cost the operator chooses, not a
// defect. Linked with -Wl,--wrap=crypt_rn, so every crypt_rn call from our
// sources lands here and goes on to libcrypt's real one.
#include <crypt.h>

#include <cctype>
#include <string>

extern "C" char* __real_crypt_rn(const char* phrase, const char* setting,
                                 void* data, int size);

extern "C" char* __wrap_crypt_rn(const char* phrase, const char* setting,
                                 void* data, int size) {
  std::string capped = setting ? setting : "";
  // "$2a$NN$", "$2b$NN$", "$2y$NN$": NN is the base-2 logarithm of rounds.
  if (capped.size() >= 7 && capped.compare(0, 2, "$2") == 0 &&
      capped[3] == '$' && capped[6] == '$' &&
      std::isdigit(static_cast<unsigned char>(capped[4])) &&
      std::isdigit(static_cast<unsigned char>(capped[5])) &&
      capped.compare(4, 2, "04") > 0) {
    capped.replace(4, 2, "04");
  }
  return __real_crypt_rn(phrase, setting ? capped.c_str() : nullptr, data,
                         size);
}
