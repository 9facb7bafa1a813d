// Tests for exporter/http/basic_auth: header parsing and the check of
// credentials against bcrypt hashes.
#include "exporter/http/basic_auth.h"

#include <gtest/gtest.h>

#include <chrono>
#include <vector>

#include "exporter/base/bcrypt.h"
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

// A BasicAuth whose clock the test moves and whose bcrypt calls it counts
// (still verified by the real VerifyBcrypt).
struct Instrumented {
  std::chrono::steady_clock::time_point now{std::chrono::hours(1)};
  std::vector<std::string> hashes;  // hash of each bcrypt call, in order

  BasicAuthOptions Options(size_t cache_size = 1024) {
    BasicAuthOptions o;
    o.cache_size = cache_size;
    o.now = [this] { return now; };
    o.verify = [this](std::string_view password, const std::string& hash) {
      hashes.push_back(hash);
      return VerifyBcrypt(password, hash);
    };
    return o;
  }
};

TEST(BasicAuth, CachesASuccessForItsLifetimeOnly) {
  Instrumented t;
  BasicAuth auth({{"alice", BcryptHash("secret")}}, t.Options());
  EXPECT_TRUE(auth.Check(kAliceSecret));
  EXPECT_EQ(t.hashes.size(), 1u);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(auth.Check(kAliceSecret));
  EXPECT_EQ(t.hashes.size(), 1u) << "a cached success costs no bcrypt";
  t.now += std::chrono::seconds(59);
  EXPECT_TRUE(auth.Check(kAliceSecret));
  EXPECT_EQ(t.hashes.size(), 1u);
  // Hits do not extend it: 60 s after the verification it is gone.
  t.now += std::chrono::seconds(1);
  EXPECT_TRUE(auth.Check(kAliceSecret));
  EXPECT_EQ(t.hashes.size(), 2u) << "an expired success is verified again";
  EXPECT_TRUE(auth.Check(kAliceSecret));
  EXPECT_EQ(t.hashes.size(), 2u);
}

TEST(BasicAuth, NeverCachesAFailure) {
  Instrumented t;
  BasicAuth auth({{"alice", BcryptHash("secret")}}, t.Options());
  const char kWrong[] = "Basic YWxpY2U6d3Jvbmc=";  // alice:wrong
  EXPECT_FALSE(auth.Check(kWrong));
  EXPECT_FALSE(auth.Check(kWrong));
  EXPECT_EQ(t.hashes.size(), 2u);
  // A cached success for the right password does not let a wrong one in.
  EXPECT_TRUE(auth.Check(kAliceSecret));
  EXPECT_FALSE(auth.Check(kWrong));
  EXPECT_FALSE(auth.Check("Basic YWxpY2U6"));          // alice: (empty)
  EXPECT_FALSE(auth.Check("Basic Ym9iOnNlY3JldA=="));  // bob:secret
  EXPECT_FALSE(auth.Check("Basic Ym9iOnNlY3JldA=="));
  EXPECT_EQ(t.hashes.size(), 7u);
}

TEST(BasicAuth, CacheIsBounded) {
  Instrumented t;
  // "a:pa", "b:pb", "c:pc" in base64.
  const char kA[] = "Basic YTpwYQ==", kB[] = "Basic YjpwYg==",
             kC[] = "Basic YzpwYw==";
  BasicAuth auth({{"a", BcryptHash("pa")},
                  {"b", BcryptHash("pb")},
                  {"c", BcryptHash("pc")}},
                 t.Options(/*cache_size=*/2));
  EXPECT_TRUE(auth.Check(kA));
  t.now += std::chrono::seconds(1);
  EXPECT_TRUE(auth.Check(kB));
  t.now += std::chrono::seconds(1);
  EXPECT_TRUE(auth.Check(kC));  // full: a, nearest to expiry, makes room
  EXPECT_EQ(t.hashes.size(), 3u);
  EXPECT_TRUE(auth.Check(kB));
  EXPECT_TRUE(auth.Check(kC));
  EXPECT_EQ(t.hashes.size(), 3u);
  EXPECT_TRUE(auth.Check(kA));
  EXPECT_EQ(t.hashes.size(), 4u) << "a was evicted";
}

TEST(BasicAuth, UnknownUserCostsOneBcryptAtTheHighestConfiguredCost) {
  Instrumented t;
  // std::map order puts the cheaper hash first.
  const std::string cheap = BcryptHash("pa", "$2b$", 4);
  const std::string dear = BcryptHash("pb", "$2y$", 6);
  BasicAuth auth({{"a", cheap}, {"b", dear}}, t.Options());
  EXPECT_FALSE(auth.Check("Basic Ym9iOnNlY3JldA=="));  // bob:secret
  ASSERT_EQ(t.hashes.size(), 1u);
  EXPECT_EQ(BcryptCost(t.hashes[0]), 6);
  EXPECT_NE(t.hashes[0], cheap);
  EXPECT_NE(t.hashes[0], dear);
  // Every unknown name, every time: never cached.
  EXPECT_FALSE(auth.Check("Basic Ym9iOnNlY3JldA=="));
  EXPECT_FALSE(auth.Check("Basic bWFsbG9yeTpwYQ=="));  // mallory:pa
  ASSERT_EQ(t.hashes.size(), 3u);
  EXPECT_EQ(t.hashes[1], t.hashes[0]);
  EXPECT_EQ(t.hashes[2], t.hashes[0]);
}

}  // namespace
}  // namespace pgrepl
