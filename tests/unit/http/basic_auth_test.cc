// Tests for exporter/http/basic_auth: header parsing and the check of
// credentials against bcrypt hashes.
#include "exporter/http/basic_auth.h"

#include <gtest/gtest.h>

#include "tests/unit/testing/bcrypt_hash.h"

namespace pgrepl {
namespace {

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
  for (const char* bad :
       {"", "Basic", "Basic ", "Bearer YWxpY2U6c2VjcmV0", "Basic YWxpY2U",
        "Basic YWxp!2U6", "Basic YWxpY2U=c2Vj", "Basic =YWx",
        "Basic YWxpY2U" /* no colon */}) {
    EXPECT_FALSE(BasicAuth::ParseAuthorization(bad)) << bad;
  }
  EXPECT_FALSE(
      BasicAuth::ParseAuthorization("Basic " + std::string(5000, 'A')));
}

TEST(BasicAuth, Check) {
  BasicAuth off({});
  EXPECT_FALSE(off.enabled());
  EXPECT_TRUE(off.Check(nullptr));
  BasicAuth auth({{"alice", BcryptHash("secret")}});
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
