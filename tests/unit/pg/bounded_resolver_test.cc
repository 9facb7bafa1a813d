// Tests for exporter/pg/bounded_resolver: answers, deadlines, and one
// outstanding lookup per name however long the resolver hangs.
#include "exporter/pg/bounded_resolver.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "tests/unit/testing/fake_name_service.h"

namespace pgrepl {
namespace {

using Clock = std::chrono::steady_clock;
using fixtures::FakeNameService;
using fixtures::ReleaseOnExit;
using std::chrono::milliseconds;

bool Contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

TEST(IsIpLiteral, NumericAddressesOnly) {
  EXPECT_TRUE(IsIpLiteral("127.0.0.1"));
  EXPECT_TRUE(IsIpLiteral("::1"));
  EXPECT_TRUE(IsIpLiteral("fd00::12:3"));
  EXPECT_FALSE(IsIpLiteral("localhost"));
  EXPECT_FALSE(IsIpLiteral("db.example"));
  EXPECT_FALSE(IsIpLiteral("/var/run/postgresql"));
  EXPECT_FALSE(IsIpLiteral(""));
}

TEST(BoundedResolver, IpLiteralIsItsOwnAnswerWithoutALookup) {
  auto fake = std::make_shared<FakeNameService>();
  BoundedResolver r(fake);
  for (std::string ip : {"127.0.0.1", "::1"}) {
    auto a = r.Addresses(ip, Clock::now() + milliseconds(100));
    ASSERT_TRUE(a.ok()) << a.status().message();
    EXPECT_EQ(a.value(), std::vector<std::string>{ip});
    EXPECT_EQ(fake->calls(ip), 0);
  }
}

TEST(BoundedResolver, LocalhostThroughTheSystemResolver) {
  BoundedResolver r;  // getaddrinfo; "localhost" comes from /etc/hosts
  auto a = r.Addresses("localhost", Clock::now() + milliseconds(5000));
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_TRUE(Contains(a.value(), "127.0.0.1") || Contains(a.value(), "::1"));
}

TEST(BoundedResolver, KnownNameAndAddress) {
  auto fake = std::make_shared<FakeNameService>();
  fake->addresses["db.test"] = {"10.1.2.3", "fd00::3"};
  fake->names["10.1.2.3"] = "db-0.db.test";
  BoundedResolver r(fake);
  auto a = r.Addresses("db.test", Clock::now() + milliseconds(5000));
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_EQ(a.value(), (std::vector<std::string>{"10.1.2.3", "fd00::3"}));
  auto n = r.Name("10.1.2.3", Clock::now() + milliseconds(5000));
  ASSERT_TRUE(n.ok()) << n.status().message();
  EXPECT_EQ(n.value(), "db-0.db.test");
  // The same name again is a fresh lookup, not a "still running" one.
  EXPECT_TRUE(r.Addresses("db.test", Clock::now() + milliseconds(5000)).ok());
  EXPECT_EQ(fake->calls("db.test"), 2);
}

TEST(BoundedResolver, NameThatDoesNotExistHasNoAddresses) {
  auto fake = std::make_shared<FakeNameService>();
  BoundedResolver r(fake);
  auto a = r.Addresses("nosuch.test", Clock::now() + milliseconds(5000));
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_TRUE(a.value().empty());
  auto n = r.Name("10.9.9.9", Clock::now() + milliseconds(5000));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n.value(), "");
}

TEST(BoundedResolver, TemporaryFailureIsAnIoError) {
  auto fake = std::make_shared<FakeNameService>();
  fake->failing = {"flaky.test"};
  BoundedResolver r(fake);
  auto a = r.Addresses("flaky.test", Clock::now() + milliseconds(5000));
  EXPECT_EQ(a.status().kind(), Status::Kind::kIo);
  EXPECT_NE(a.status().message().find("flaky.test"), std::string::npos);
}

TEST(BoundedResolver, HungLookupTimesOutAtTheDeadline) {
  auto fake = std::make_shared<FakeNameService>();
  fake->hung = {"hung.test"};
  ReleaseOnExit release(fake.get());
  BoundedResolver r(fake);
  const auto start = Clock::now();
  auto a = r.Addresses("hung.test", start + milliseconds(300));
  const auto took = Clock::now() - start;
  EXPECT_EQ(a.status().kind(), Status::Kind::kTimeout);
  EXPECT_NE(a.status().message().find("hung.test"), std::string::npos);
  EXPECT_GE(took, milliseconds(250));
  EXPECT_LT(took, milliseconds(5000));  // the slack of a loaded machine
}

TEST(BoundedResolver, OneOutstandingLookupPerName) {
  auto fake = std::make_shared<FakeNameService>();
  fake->hung = {"hung.test"};
  fake->addresses["hung.test"] = {"10.0.0.7"};
  fake->addresses["other.test"] = {"10.0.0.8"};
  ReleaseOnExit release(fake.get());
  BoundedResolver r(fake);
  EXPECT_EQ(r.Addresses("hung.test", Clock::now() + milliseconds(100))
                .status()
                .kind(),
            Status::Kind::kTimeout);
  // While it still hangs, more lookups of the name start no thread and
  // fail at once, long before their own deadline.
  for (int i = 0; i < 5; ++i) {
    const auto start = Clock::now();
    auto a = r.Addresses("hung.test", start + milliseconds(10000));
    EXPECT_EQ(a.status().kind(), Status::Kind::kTimeout);
    EXPECT_LT(Clock::now() - start, milliseconds(2000));
  }
  EXPECT_EQ(fake->calls("hung.test"), 1);
  // Other names are not held up.
  auto other = r.Addresses("other.test", Clock::now() + milliseconds(5000));
  ASSERT_TRUE(other.ok()) << other.status().message();
  EXPECT_EQ(other.value(), std::vector<std::string>{"10.0.0.8"});

  // Once the hung lookup ends (its late answer dropped), the name is
  // looked up afresh.
  fake->Release();
  ASSERT_TRUE(fake->WaitIdle(milliseconds(5000)));
  Result<std::vector<std::string>> again = Status::Timeout("not yet");
  for (int i = 0; i < 100 && !again.ok(); ++i) {  // the thread's last steps
    if (i > 0) std::this_thread::sleep_for(milliseconds(20));
    again = r.Addresses("hung.test", Clock::now() + milliseconds(5000));
  }
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(again.value(), std::vector<std::string>{"10.0.0.7"});
  EXPECT_EQ(fake->calls("hung.test"), 2);
}

TEST(BoundedResolver, HungReverseLookupTimesOut) {
  auto fake = std::make_shared<FakeNameService>();
  fake->hung = {"10.0.0.9"};
  ReleaseOnExit release(fake.get());
  BoundedResolver r(fake);
  const auto start = Clock::now();
  auto n = r.Name("10.0.0.9", start + milliseconds(200));
  EXPECT_EQ(n.status().kind(), Status::Kind::kTimeout);
  EXPECT_LT(Clock::now() - start, milliseconds(5000));
}

TEST(BoundedResolver, PastDeadlineStartsNoLookup) {
  auto fake = std::make_shared<FakeNameService>();
  BoundedResolver r(fake);
  auto a = r.Addresses("db.test", Clock::now() - milliseconds(1));
  EXPECT_EQ(a.status().kind(), Status::Kind::kTimeout);
  EXPECT_EQ(fake->calls("db.test"), 0);
}

TEST(BoundedResolver, DestroyingItDoesNotWaitForAHungLookup) {
  auto fake = std::make_shared<FakeNameService>();
  fake->hung = {"hung.test"};
  ReleaseOnExit release(fake.get());
  const auto start = Clock::now();
  {
    BoundedResolver r(fake);
    r.Addresses("hung.test", Clock::now() + milliseconds(50));
  }
  EXPECT_LT(Clock::now() - start, milliseconds(3000));
  EXPECT_EQ(fake->calls("hung.test"), 1);
}

}  // namespace
}  // namespace pgrepl
