// Test support: a bcrypt hash of a password, by default at the lowest cost,
// made with libcrypt directly (not through the code under test).
#ifndef PGREPL_TESTS_UNIT_TESTING_BCRYPT_HASH_H_
#define PGREPL_TESTS_UNIT_TESTING_BCRYPT_HASH_H_

#include <crypt.h>
#include <gtest/gtest.h>

#include <string>

namespace pgrepl {

// `prefix` is "$2b$", "$2y$" or "$2a$"; `cost` 4..31.
inline std::string BcryptHash(const char* password, const char* prefix = "$2b$",
                              int cost = 4) {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  EXPECT_NE(crypt_gensalt_rn(prefix, cost, nullptr, 0, salt, sizeof salt),
            nullptr);
  crypt_data data{};
  const char* out = crypt_rn(password, salt, &data, sizeof data);
  EXPECT_NE(out, nullptr);
  return out ? out : "";
}

}  // namespace pgrepl

#endif  // PGREPL_TESTS_UNIT_TESTING_BCRYPT_HASH_H_
