// Tests for exporter/poll/discovery: names of the discovered replicas, and
// lookups (forward and reverse) bounded by the deadline.
#include "exporter/poll/discovery.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "tests/unit/testing/fake_name_service.h"

namespace pgrepl {
namespace {

using Clock = std::chrono::steady_clock;
using fixtures::FakeNameService;
using fixtures::ReleaseOnExit;
using std::chrono::milliseconds;

constexpr char kHost[] = "replicas.test";

TEST(ResolveReplicas, EveryAddressNamedByTheFirstLabelOfItsPtr) {
  auto fake = std::make_shared<FakeNameService>();
  fake->addresses[kHost] = {"10.0.0.2", "10.0.0.1", "10.0.0.2"};
  fake->names["10.0.0.1"] = "pg-1.pg-headless.ns.svc.cluster.local";
  fake->names["10.0.0.2"] = "pg-2.pg-headless.ns.svc.cluster.local";
  BoundedResolver dns(fake);
  auto r = ResolveReplicas(&dns, kHost, Clock::now() + milliseconds(5000));
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r.value().size(), 2u);  // deduplicated, sorted by address
  EXPECT_EQ(r.value()[0].address, "10.0.0.1");
  EXPECT_EQ(r.value()[0].name, "pg-1");
  EXPECT_EQ(r.value()[1].address, "10.0.0.2");
  EXPECT_EQ(r.value()[1].name, "pg-2");
}

TEST(ResolveReplicas, WithoutAUniquePtrNameTheAddressIsTheName) {
  auto fake = std::make_shared<FakeNameService>();
  fake->addresses[kHost] = {"10.0.0.1", "10.0.0.2", "10.0.0.3"};
  fake->names["10.0.0.2"] = "same.example";
  fake->names["10.0.0.3"] = "same.example";
  BoundedResolver dns(fake);
  auto r = ResolveReplicas(&dns, kHost, Clock::now() + milliseconds(5000));
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r.value().size(), 3u);
  for (const auto& d : r.value()) EXPECT_EQ(d.name, d.address);
}

TEST(ResolveReplicas, NameThatDoesNotExistIsAnEmptyAnswer) {
  auto fake = std::make_shared<FakeNameService>();
  BoundedResolver dns(fake);
  auto r = ResolveReplicas(&dns, kHost, Clock::now() + milliseconds(5000));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r.value().empty());
}

TEST(ResolveReplicas, TemporaryFailuresAreErrors) {
  auto fake = std::make_shared<FakeNameService>();
  fake->addresses["other.test"] = {"10.0.0.1"};
  fake->failing = {kHost, "10.0.0.1"};
  BoundedResolver dns(fake);
  auto forward =
      ResolveReplicas(&dns, kHost, Clock::now() + milliseconds(5000));
  EXPECT_EQ(forward.status().kind(), Status::Kind::kIo);
  // A reverse lookup that says "try again" must not rename the replica
  // after its address: the whole answer fails, the caller keeps its set.
  auto reverse =
      ResolveReplicas(&dns, "other.test", Clock::now() + milliseconds(5000));
  EXPECT_EQ(reverse.status().kind(), Status::Kind::kIo);
}

TEST(ResolveReplicas, HungForwardLookupTimesOutAtTheDeadline) {
  auto fake = std::make_shared<FakeNameService>();
  fake->hung = {kHost};
  ReleaseOnExit release(fake.get());
  BoundedResolver dns(fake);
  const auto start = Clock::now();
  auto r = ResolveReplicas(&dns, kHost, start + milliseconds(300));
  EXPECT_EQ(r.status().kind(), Status::Kind::kTimeout);
  EXPECT_GE(Clock::now() - start, milliseconds(250));
  EXPECT_LT(Clock::now() - start, milliseconds(5000));
}

TEST(ResolveReplicas, HungReverseLookupsShareOneDeadline) {
  auto fake = std::make_shared<FakeNameService>();
  fake->addresses[kHost] = {"10.0.0.1", "10.0.0.2", "10.0.0.3"};
  fake->hung = {"10.0.0.1", "10.0.0.2", "10.0.0.3"};
  ReleaseOnExit release(fake.get());
  BoundedResolver dns(fake);
  const auto start = Clock::now();
  auto r = ResolveReplicas(&dns, kHost, start + milliseconds(300));
  EXPECT_EQ(r.status().kind(), Status::Kind::kTimeout);
  // Not 3 x 300 ms: the first hung reverse lookup uses up the deadline.
  EXPECT_LT(Clock::now() - start, milliseconds(5000));
  EXPECT_EQ(fake->calls("10.0.0.1"), 1);
  EXPECT_EQ(fake->calls("10.0.0.2"), 0);
}

// The production path of ServerNameOf: ResolveReplicas on a fake system
// resolver, which records every lookup.
Resolver FakeDns(std::shared_ptr<FakeNameService> fake) {
  auto dns = std::make_shared<BoundedResolver>(std::move(fake));
  return [dns](const std::string& host, Clock::time_point deadline) {
    return ResolveReplicas(dns.get(), host, deadline);
  };
}

TEST(ServerNameOf, PodAddressIsNamedLikeADiscoveredReplica) {
  auto fake = std::make_shared<FakeNameService>();
  fake->names["10.244.1.17"] =
      "postgres-primary-0.postgres-headless.db.svc.cluster.local";
  auto name = ServerNameOf(FakeDns(fake), "10.244.1.17",
                           Clock::now() + milliseconds(5000));
  ASSERT_TRUE(name.ok()) << name.status().message();
  EXPECT_EQ(name.value(), "postgres-primary-0");
}

TEST(ServerNameOf, NoUsableNameIsEmpty) {
  auto fake = std::make_shared<FakeNameService>();
  fake->names["127.0.0.1"] = "localhost";
  fake->names["127.0.0.2"] = "replica1.test";
  fake->names["::1"] = "localhost";
  const auto deadline = Clock::now() + milliseconds(5000);
  const Resolver dns = FakeDns(fake);
  // No PTR name; a Unix socket (no address); loopback, whatever its name:
  // every server on the host shares it.
  for (const char* address :
       {"10.0.0.9", "", "127.0.0.1", "127.0.0.2", "::1", "::ffff:127.0.0.1"}) {
    auto name = ServerNameOf(dns, address, deadline);
    ASSERT_TRUE(name.ok()) << address;
    EXPECT_EQ(name.value(), "") << address;
  }
}

TEST(ServerNameOf, TemporaryFailureIsAnError) {
  auto fake = std::make_shared<FakeNameService>();
  fake->failing = {"10.0.0.9"};
  auto name = ServerNameOf(FakeDns(fake), "10.0.0.9",
                           Clock::now() + milliseconds(5000));
  EXPECT_EQ(name.status().kind(), Status::Kind::kIo);
}

TEST(IsLoopbackAddress, LoopbackOnly) {
  EXPECT_TRUE(IsLoopbackAddress("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackAddress("127.3.2.1"));
  EXPECT_TRUE(IsLoopbackAddress("::1"));
  EXPECT_TRUE(IsLoopbackAddress("::ffff:127.0.0.1"));
  EXPECT_FALSE(IsLoopbackAddress("10.127.0.1"));
  EXPECT_FALSE(IsLoopbackAddress("1.2.3.4"));
  EXPECT_FALSE(IsLoopbackAddress("::2"));
  EXPECT_FALSE(IsLoopbackAddress(""));
}

}  // namespace
}  // namespace pgrepl
