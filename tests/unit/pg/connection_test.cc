// Tests for exporter/pg/connection: deadlines and errors of the libpq
// session against loopback peers that refuse, or accept and never speak.
#include "exporter/pg/connection.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

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

// A TCP listener on 127.0.0.1 that accepts into its backlog and never
// answers: a server that hangs after the TCP handshake.
class SilentListener {
 public:
  SilentListener() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(listen(fd_, 8), 0);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~SilentListener() { close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// A loopback port with nothing listening on it.
int ClosedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);  // bound, never listened: connections are refused
  return ntohs(a.sin_port);
}

std::string Conninfo(int port) {
  return "host=127.0.0.1 port=" + std::to_string(port) +
         " user=mon dbname=postgres sslmode=disable";
}

TEST(Connection, RefusedIsAConnectError) {
  Connection c(Conninfo(ClosedPort()), "s3cret-pw");
  Status st = c.Connect(Clock::now() + milliseconds(2000), milliseconds(500));
  EXPECT_EQ(st.kind(), Status::Kind::kConnect) << st.message();
  EXPECT_FALSE(c.connected());
  EXPECT_EQ(c.server_version(), 0);
  EXPECT_EQ(c.backend_pid(), 0);
  EXPECT_EQ(st.message().find("s3cret-pw"), std::string::npos);
  EXPECT_EQ(st.message().find('\n'), std::string::npos);
}

TEST(Connection, SilentServerTimesOutAtTheDeadline) {
  SilentListener server;
  Connection c(Conninfo(server.port()), "");
  const auto start = Clock::now();
  Status st = c.Connect(start + milliseconds(300), milliseconds(500));
  const auto took = Clock::now() - start;
  EXPECT_EQ(st.kind(), Status::Kind::kTimeout) << st.message();
  EXPECT_FALSE(c.connected());
  // Bounded by the deadline, with the slack of a loaded machine.
  EXPECT_GE(took, milliseconds(250));
  EXPECT_LT(took, milliseconds(5000));
}

TEST(Connection, PastDeadlineDoesNotWait) {
  SilentListener server;
  Connection c(Conninfo(server.port()), "");
  const auto start = Clock::now();
  Status st = c.Connect(start, milliseconds(500));
  EXPECT_FALSE(st.ok());
  EXPECT_LT(Clock::now() - start, milliseconds(5000));
}

TEST(Connection, QueryWithoutASessionFails) {
  Connection c(Conninfo(ClosedPort()), "");
  auto rows = c.Query("SELECT 1", Clock::now() + milliseconds(200));
  EXPECT_FALSE(rows.ok());
  EXPECT_FALSE(c.connected());
}

TEST(Connection, BatchWithoutASessionFailsEachStatement) {
  Connection c(Conninfo(ClosedPort()), "");
  auto results =
      c.Batch({"SELECT 1", "SELECT 2"}, Clock::now() + milliseconds(200));
  ASSERT_EQ(results.size(), 2u);
  for (const auto& r : results) {
    EXPECT_EQ(r.status().kind(), Status::Kind::kQuery);
  }
  EXPECT_TRUE(c.Batch({}, Clock::now()).empty());
}

TEST(Connection, MalformedConninfoIsAConnectErrorWithoutTheSecret) {
  Connection c("host=127.0.0.1 password=hunter2-secret port=", "");
  Status st = c.Connect(Clock::now() + milliseconds(500), milliseconds(500));
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.message().find("hunter2-secret"), std::string::npos);
}

TEST(Connection, FactoryMakesAClosedLibpqSession) {
  auto s = MakeConnection(Conninfo(ClosedPort()), "");
  ASSERT_NE(s, nullptr);
  EXPECT_FALSE(s->connected());
  s->Close();  // closing a closed session is harmless
  EXPECT_FALSE(s->connected());
}

// Host names: resolved by Connect itself within its deadline (a fake name
// service here), and handed to libpq as hostaddr beside the name.

std::string NamedConninfo(const std::string& host, int port) {
  return "host=" + host + " port=" + std::to_string(port) +
         " user=mon dbname=postgres sslmode=disable password=s3cret-pw";
}

TEST(Connection, HostNameIsResolvedAheadOfLibpq) {
  auto names = std::make_shared<FakeNameService>();
  names->addresses["db.test"] = {"127.0.0.1"};
  const int port = ClosedPort();
  Connection c(NamedConninfo("db.test", port), "", names);
  Status st = c.Connect(Clock::now() + milliseconds(2000), milliseconds(500));
  // Refused by 127.0.0.1: libpq connected to our address; the system
  // resolver knows no "db.test".
  EXPECT_EQ(st.kind(), Status::Kind::kConnect) << st.message();
  EXPECT_NE(st.message().find("db.test"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("127.0.0.1"), std::string::npos) << st.message();
  EXPECT_EQ(names->calls("db.test"), 1);
  EXPECT_EQ(st.message().find("s3cret-pw"), std::string::npos);
}

TEST(Connection, EveryAddressOfTheNameIsTried) {
  auto names = std::make_shared<FakeNameService>();
  SilentListener server;
  // 127.0.0.2 is loopback too, but nothing listens on it: refused first,
  // then the silent server on 127.0.0.1 holds the attempt to the deadline.
  names->addresses["db.test"] = {"127.0.0.2", "127.0.0.1"};
  Connection c(NamedConninfo("db.test", server.port()), "", names);
  Status st = c.Connect(Clock::now() + milliseconds(500), milliseconds(500));
  EXPECT_EQ(st.kind(), Status::Kind::kTimeout) << st.message();
}

TEST(Connection, HungNameLookupTimesOutAtTheDeadline) {
  auto names = std::make_shared<FakeNameService>();
  names->hung = {"hung.test"};
  ReleaseOnExit release(names.get());
  Connection c(NamedConninfo("hung.test", ClosedPort()), "", names);
  auto start = Clock::now();
  Status st = c.Connect(start + milliseconds(300), milliseconds(500));
  EXPECT_EQ(st.kind(), Status::Kind::kTimeout) << st.message();
  EXPECT_GE(Clock::now() - start, milliseconds(250));
  EXPECT_LT(Clock::now() - start, milliseconds(5000));
  EXPECT_FALSE(c.connected());
  // The next attempt, while the lookup still hangs, fails at once and
  // starts no second lookup.
  start = Clock::now();
  st = c.Connect(start + milliseconds(10000), milliseconds(500));
  EXPECT_EQ(st.kind(), Status::Kind::kTimeout) << st.message();
  EXPECT_LT(Clock::now() - start, milliseconds(2000));
  EXPECT_EQ(names->calls("hung.test"), 1);
}

TEST(Connection, UnknownNameIsAOneLineConnectError) {
  auto names = std::make_shared<FakeNameService>();
  Connection c(NamedConninfo("nosuch.test", ClosedPort()), "s3cret-pw", names);
  Status st = c.Connect(Clock::now() + milliseconds(2000), milliseconds(500));
  EXPECT_EQ(st.kind(), Status::Kind::kConnect) << st.message();
  EXPECT_NE(st.message().find("nosuch.test"), std::string::npos);
  EXPECT_EQ(st.message().find('\n'), std::string::npos);
  EXPECT_EQ(st.message().find("s3cret-pw"), std::string::npos);
}

TEST(Connection, AddressesAndSocketsNeedNoLookup) {
  auto names = std::make_shared<FakeNameService>();
  const int port = ClosedPort();
  for (const std::string& conninfo :
       {Conninfo(port),
        "host=db.test hostaddr=127.0.0.1 port=" + std::to_string(port) +
            " user=mon dbname=postgres sslmode=disable"}) {
    Connection c(conninfo, "", names);
    Status st = c.Connect(Clock::now() + milliseconds(2000), milliseconds(500));
    EXPECT_EQ(st.kind(), Status::Kind::kConnect) << st.message();
  }
  EXPECT_EQ(names->calls("db.test"), 0);
  EXPECT_EQ(names->calls("127.0.0.1"), 0);
}

}  // namespace
}  // namespace pgrepl
