// Tests for exporter/health_request: query parsing and instance lookup.
#include "exporter/http/health_request.h"

#include <gtest/gtest.h>

#include <memory>

namespace pgrepl {
namespace {

TEST(ParseHealthRequest, AllKeys) {
  auto r =
      ParseHealthRequest("instance=replica1&cluster=it&max_lag=16MB", true);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r.value().instance, "replica1");
  EXPECT_EQ(r.value().cluster, "it");
  ASSERT_TRUE(r.value().max_lag);
  EXPECT_EQ(r.value().max_lag->kind, LagLimit::Kind::kBytes);
}

TEST(ParseHealthRequest, EmptyQuery) {
  auto r = ParseHealthRequest("", true);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value().instance, "");
  EXPECT_FALSE(r.value().max_lag);
}

TEST(ParseHealthRequest, Rejects) {
  for (const char* bad :
       {"max_lag=abc", "max_lag=", "max_lag=0", "max_lag=-1s",
        "max_lag=1s&max_lag=2s", "instance=a&instance=b",
        "instance=", "max-lag=1s", "lag=1s", "instance=%zz"}) {
    auto r = ParseHealthRequest(bad, true);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) EXPECT_EQ(r.status().message().find('\n'), std::string::npos);
  }
  // /primary takes no max_lag.
  EXPECT_FALSE(ParseHealthRequest("instance=a&max_lag=1s", false).ok());
}

TEST(ParseHealthRequest, UnknownKeyIsQuotedSafely) {
  auto r = ParseHealthRequest("%3Cscript%3E%0A=1", true);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().find('\n'), std::string::npos);
  EXPECT_NE(r.status().message().find("unknown query parameter"),
            std::string::npos);
}

std::vector<SnapshotStore::Entry> Entries(
    std::initializer_list<std::pair<const char*, const char*>> names) {
  std::vector<SnapshotStore::Entry> out;
  for (const auto& [cluster, instance] : names) {
    auto s = std::make_shared<InstanceSnapshot>();
    s->cluster = cluster;
    s->instance = instance;
    out.push_back({s, {}});
  }
  return out;
}

HealthRequest Named(const char* instance, const char* cluster = "") {
  HealthRequest r;
  r.instance = instance;
  r.cluster = cluster;
  return r;
}

TEST(ChooseInstance, ByName) {
  auto e = Entries({{"a", "pg0"}, {"a", "pg1"}, {"b", "pg2"}});
  InstanceChoice c = ChooseInstance(e, Named("pg1"), false);
  EXPECT_EQ(c.http_status, 200);
  EXPECT_EQ(c.index, 1u);
  EXPECT_EQ(ChooseInstance(e, Named("pg2", "b"), false).index, 2u);
}

TEST(ChooseInstance, UnknownIs503) {
  auto e = Entries({{"a", "pg0"}});
  InstanceChoice c = ChooseInstance(e, Named("nope"), false);
  EXPECT_EQ(c.http_status, 503);
  EXPECT_NE(c.reason.find("unknown instance \"nope\""), std::string::npos)
      << c.reason;
  EXPECT_EQ(ChooseInstance(e, Named("pg0", "other"), false).http_status, 503);
}

TEST(ChooseInstance, AmbiguousNeedsCluster) {
  auto e = Entries({{"a", "primary"}, {"b", "primary"}});
  InstanceChoice c = ChooseInstance(e, Named("primary"), false);
  EXPECT_EQ(c.http_status, 503);
  EXPECT_NE(c.reason.find("ambiguous"), std::string::npos) << c.reason;
  EXPECT_NE(c.reason.find("a, b"), std::string::npos) << c.reason;
  InstanceChoice b = ChooseInstance(e, Named("primary", "b"), false);
  EXPECT_EQ(b.http_status, 200);
  EXPECT_EQ(b.index, 1u);
}

TEST(ChooseInstance, NoNameNeedsSidecar) {
  auto one = Entries({{"a", "local"}});
  EXPECT_EQ(ChooseInstance(one, Named(""), false).http_status, 400);
  InstanceChoice c = ChooseInstance(one, Named(""), true);
  EXPECT_EQ(c.http_status, 200);
  EXPECT_EQ(c.index, 0u);
  EXPECT_EQ(ChooseInstance({}, Named(""), true).http_status, 503);
  // A name still works in sidecar mode.
  EXPECT_EQ(ChooseInstance(one, Named("local"), true).http_status, 200);
  EXPECT_EQ(ChooseInstance(one, Named("other"), true).http_status, 503);
}

TEST(ChooseInstance, HostileNameIsBoundedInTheReason) {
  auto e = Entries({{"a", "pg0"}});
  std::string name(5000, 'x');
  name[10] = '\n';
  HealthRequest r;
  r.instance = name;
  InstanceChoice c = ChooseInstance(e, r, false);
  EXPECT_EQ(c.http_status, 503);
  EXPECT_LT(c.reason.size(), 120u);
  EXPECT_EQ(c.reason.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace pgrepl
