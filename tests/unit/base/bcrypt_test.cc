// Tests for exporter/base/bcrypt: hash checking and password verification.
#include "exporter/base/bcrypt.h"

#include <gtest/gtest.h>

#include "tests/unit/testing/bcrypt_hash.h"

namespace pgrepl {
namespace {

TEST(Bcrypt, VerifyWithEveryBcryptPrefix) {
  for (const char* prefix : {"$2b$", "$2y$", "$2a$"}) {
    std::string hash = BcryptHash("secret", prefix);
    EXPECT_TRUE(IsSupportedBcryptHash(hash)) << hash;
    EXPECT_TRUE(VerifyBcrypt("secret", hash)) << prefix;
    EXPECT_FALSE(VerifyBcrypt("Secret", hash)) << prefix;
    EXPECT_FALSE(VerifyBcrypt("", hash)) << prefix;
    EXPECT_FALSE(VerifyBcrypt(std::string("secret\0x", 8), hash));
  }
}

TEST(Bcrypt, UnsupportedHashes) {
  EXPECT_FALSE(IsSupportedBcryptHash("secret"));
  EXPECT_FALSE(IsSupportedBcryptHash(""));
  EXPECT_FALSE(
      IsSupportedBcryptHash("$6$salt$abc"));  // sha512crypt: not bcrypt
  EXPECT_FALSE(IsSupportedBcryptHash("$2b$04$tooshort"));
  EXPECT_FALSE(VerifyBcrypt("x", "garbage"));
}

}  // namespace
}  // namespace pgrepl
