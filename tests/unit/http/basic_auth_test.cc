// Tests for exporter/basic_auth: header parsing and bcrypt verification.
#include "exporter/http/basic_auth.h"

#include <crypt.h>
#include <gtest/gtest.h>

namespace pgrepl {
namespace {

std::string Bcrypt(const char* password, const char* prefix = "$2b$") {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  EXPECT_NE(crypt_gensalt_rn(prefix, 4, nullptr, 0, salt, sizeof salt), nullptr);
  crypt_data data{};
  const char* out = crypt_rn(password, salt, &data, sizeof data);
  EXPECT_NE(out, nullptr);
  return out;
}

// "Basic " + base64("user:password"), computed by hand for the test.
const char kAliceSecret[] = "Basic YWxpY2U6c2VjcmV0";  // alice:secret

TEST(BasicAuth, ParseAuthorization) {
  auto c = BasicAuth::ParseAuthorization(kAliceSecret);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->first, "alice");
  EXPECT_EQ(c->second, "secret");
  // Scheme is case-insensitive; the password may hold ':'.
  auto d = BasicAuth::ParseAuthorization("basic YTpiOmM=");  // a:b:c
  ASSERT_TRUE(d);
  EXPECT_EQ(d->first, "a");
  EXPECT_EQ(d->second, "b:c");
  auto e = BasicAuth::ParseAuthorization("Basic Og==");  // ":"
  ASSERT_TRUE(e);
  EXPECT_EQ(e->first, "");
}

TEST(BasicAuth, ParseAuthorizationRejects) {
  for (const char* bad : {"", "Basic", "Basic ", "Bearer YWxpY2U6c2VjcmV0",
                          "Basic YWxpY2U", "Basic YWxp!2U6", "Basic YWxpY2U=c2Vj",
                          "Basic =YWx", "Basic YWxpY2U"  /* no colon */}) {
    EXPECT_FALSE(BasicAuth::ParseAuthorization(bad)) << bad;
  }
  EXPECT_FALSE(BasicAuth::ParseAuthorization("Basic " + std::string(5000, 'A')));
}

TEST(BasicAuth, VerifyPasswordWithEveryBcryptPrefix) {
  for (const char* prefix : {"$2b$", "$2y$", "$2a$"}) {
    std::string hash = Bcrypt("secret", prefix);
    EXPECT_TRUE(BasicAuth::IsSupportedHash(hash)) << hash;
    EXPECT_TRUE(BasicAuth::VerifyPassword("secret", hash)) << prefix;
    EXPECT_FALSE(BasicAuth::VerifyPassword("Secret", hash)) << prefix;
    EXPECT_FALSE(BasicAuth::VerifyPassword("", hash)) << prefix;
    EXPECT_FALSE(BasicAuth::VerifyPassword(std::string("secret\0x", 8), hash));
  }
}

TEST(BasicAuth, UnsupportedHashes) {
  EXPECT_FALSE(BasicAuth::IsSupportedHash("secret"));
  EXPECT_FALSE(BasicAuth::IsSupportedHash(""));
  EXPECT_FALSE(BasicAuth::IsSupportedHash("$6$salt$abc"));  // sha512crypt: not bcrypt
  EXPECT_FALSE(BasicAuth::IsSupportedHash("$2b$04$tooshort"));
  EXPECT_FALSE(BasicAuth::VerifyPassword("x", "garbage"));
}

TEST(BasicAuth, Check) {
  BasicAuth off({});
  EXPECT_FALSE(off.enabled());
  EXPECT_TRUE(off.Check(nullptr));
  BasicAuth auth({{"alice", Bcrypt("secret")}});
  EXPECT_TRUE(auth.enabled());
  EXPECT_TRUE(auth.Check(kAliceSecret));
  EXPECT_FALSE(auth.Check(nullptr));
  EXPECT_FALSE(auth.Check(""));
  EXPECT_FALSE(auth.Check("Basic YWxpY2U6d3Jvbmc="));  // alice:wrong
  EXPECT_FALSE(auth.Check("Basic Ym9iOnNlY3JldA=="));  // bob:secret (unknown)
  EXPECT_FALSE(auth.Check("Basic YWxpY2U6"));          // alice: (empty)
}

}  // namespace
}  // namespace pgrepl
