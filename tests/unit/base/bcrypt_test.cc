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

TEST(Bcrypt, Cost) {
  EXPECT_EQ(BcryptCost(BcryptHash("x", "$2b$", 4)), 4);
  EXPECT_EQ(BcryptCost(BcryptHash("x", "$2y$", 6)), 6);
  EXPECT_EQ(BcryptCost("$2a$10$"), 10);
  EXPECT_EQ(BcryptCost("$2y$31$abcdefghijklmnopqrstuv"), 31);
  for (const char* bad :
       {"", "$2b$", "$2x$10$", "$6$10$", "$2b$1x$", "$2b$10x", "secret"}) {
    EXPECT_EQ(BcryptCost(bad), -1) << bad;
  }
}

TEST(Bcrypt, DummyHashHasTheCostAndMatchesNothing) {
  for (int cost : {4, 5}) {
    std::string dummy = BcryptDummyHash(cost);
    EXPECT_EQ(dummy.size(), 60u) << dummy;
    EXPECT_EQ(BcryptCost(dummy), cost) << dummy;
    EXPECT_TRUE(IsSupportedBcryptHash(dummy)) << dummy;
    EXPECT_FALSE(VerifyBcrypt("", dummy));
    EXPECT_FALSE(VerifyBcrypt("secret", dummy));
  }
  // A random salt each time.
  EXPECT_NE(BcryptDummyHash(4), BcryptDummyHash(4));
}

}  // namespace
}  // namespace pgrepl
