// Tests for exporter/pg/host_list: which host entries get addresses, and
// host, hostaddr and port lists that stay aligned.
#include "exporter/pg/host_list.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace pgrepl {
namespace {

// Canned lookups that count their calls; "slow.test" times out and
// "flaky.test" fails temporarily.
class Lookups {
 public:
  std::map<std::string, std::vector<std::string>> answers;
  int calls = 0;

  HostLookup fn() {
    return [this](const std::string& host) -> Result<std::vector<std::string>> {
      ++calls;
      if (host == "slow.test") return Status::Timeout("resolving slow.test");
      if (host == "flaky.test") {
        return Status::Io("resolving flaky.test: temporary failure");
      }
      auto it = answers.find(host);
      return it == answers.end() ? std::vector<std::string>{} : it->second;
    };
  }
};

HostList Hosts(std::string host, std::string port = "",
               std::string hostaddr = "", std::string service = "") {
  return {std::move(host), std::move(hostaddr), std::move(port),
          std::move(service)};
}

TEST(PinHostAddresses, OneNameGetsItsAddress) {
  Lookups l;
  l.answers["db.test"] = {"10.0.0.5"};
  auto r = PinHostAddresses(Hosts("db.test", "5433"), l.fn());
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r.value().host, "db.test");  // kept for TLS and messages
  EXPECT_EQ(r.value().hostaddr, "10.0.0.5");
  EXPECT_EQ(r.value().port, "5433");
}

TEST(PinHostAddresses, EveryAddressOfANameIsTried) {
  Lookups l;
  l.answers["db.test"] = {"10.0.0.5", "fd00::5"};
  auto r = PinHostAddresses(Hosts("db.test", "5433"), l.fn());
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r.value().host, "db.test,db.test");
  EXPECT_EQ(r.value().hostaddr, "10.0.0.5,fd00::5");
  EXPECT_EQ(r.value().port, "5433");  // one port serves every entry
}

TEST(PinHostAddresses, MultiHostListsStayAligned) {
  Lookups l;
  l.answers["a.test"] = {"10.0.0.1", "10.0.0.2"};
  l.answers["b.test"] = {"10.0.0.3"};
  auto r = PinHostAddresses(
      Hosts("a.test,/var/run/postgresql,10.9.9.9,b.test", "1,2,3,4"), l.fn());
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r.value().host,
            "a.test,a.test,/var/run/postgresql,10.9.9.9,b.test");
  // A socket directory and an IP literal are left to libpq (no DNS).
  EXPECT_EQ(r.value().hostaddr, "10.0.0.1,10.0.0.2,,,10.0.0.3");
  EXPECT_EQ(r.value().port, "1,1,2,3,4");
  EXPECT_EQ(l.calls, 2);
}

TEST(PinHostAddresses, NothingToResolveIsLeftAlone) {
  for (const HostList& h : {
           Hosts(""),                               // libpq's default socket
           Hosts("/var/run/postgresql,@abstract"),  // sockets
           Hosts("127.0.0.1,::1", "5432"),          // literals
           Hosts("db.test", "", "10.0.0.5"),        // hostaddr given
           Hosts("db.test", "", "", "mysvc"),       // a service file's hosts
           Hosts("a.test,b.test", "1,2,3"),         // libpq rejects the ports
       }) {
    Lookups l;
    auto r = PinHostAddresses(h, l.fn());
    ASSERT_TRUE(r.ok()) << h.host;
    EXPECT_EQ(r.value().host, h.host);
    EXPECT_EQ(r.value().hostaddr, h.hostaddr);
    EXPECT_EQ(r.value().port, h.port);
    EXPECT_EQ(l.calls, 0) << h.host;
  }
}

TEST(PinHostAddresses, UnknownNameIsAConnectError) {
  Lookups l;
  auto r = PinHostAddresses(Hosts("nosuch.test"), l.fn());
  EXPECT_EQ(r.status().kind(), Status::Kind::kConnect);
  EXPECT_NE(r.status().message().find("nosuch.test"), std::string::npos);
  EXPECT_EQ(r.status().message().find('\n'), std::string::npos);
}

TEST(PinHostAddresses, TemporaryFailureIsAConnectError) {
  Lookups l;
  auto r = PinHostAddresses(Hosts("flaky.test"), l.fn());
  EXPECT_EQ(r.status().kind(), Status::Kind::kConnect);
  EXPECT_NE(r.status().message().find("flaky.test"), std::string::npos);
}

TEST(PinHostAddresses, LookupTimeoutStaysATimeout) {
  Lookups l;
  auto r = PinHostAddresses(Hosts("slow.test"), l.fn());
  EXPECT_EQ(r.status().kind(), Status::Kind::kTimeout);
}

TEST(PinHostAddresses, UnresolvableHostsAreSkippedLikeLibpqDoes) {
  Lookups l;
  l.answers["b.test"] = {"10.0.0.3"};
  auto r =
      PinHostAddresses(Hosts("slow.test,nosuch.test,b.test", "1,2,3"), l.fn());
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r.value().host, "b.test");
  EXPECT_EQ(r.value().hostaddr, "10.0.0.3");
  EXPECT_EQ(r.value().port, "3");
}

TEST(PinHostAddresses, ASocketLeftAloneWhenTheNameFails) {
  Lookups l;
  auto r = PinHostAddresses(Hosts("/tmp,nosuch.test"), l.fn());
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r.value().host, "/tmp");
  EXPECT_EQ(r.value().hostaddr, "");
}

TEST(HostListOf, TheConninfoWinsOverDefaults) {
  ConninfoOptions defaults = {
      {"host", "env.test"}, {"port", "5432"}, {"hostaddr", "10.0.0.1"}};
  HostList h = HostListOf({{"host", "db.test"}, {"port", "6543"}}, defaults);
  EXPECT_EQ(h.host, "db.test");
  EXPECT_EQ(h.port, "6543");
  EXPECT_EQ(h.hostaddr, "10.0.0.1");  // from PGHOSTADDR: nothing to resolve
  EXPECT_EQ(HostListOf({}, {{"port", "5432"}}).host, "");
  EXPECT_EQ(HostListOf({{"host", ""}}, defaults).host, "");
}

}  // namespace
}  // namespace pgrepl
