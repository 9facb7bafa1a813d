// Tests for tests/unit/testing/fake_session: the fake keeps the Session
// contract the pollers rely on.
#include "tests/unit/testing/fake_session.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "tests/unit/testing/canned_rows.h"
#include "tests/unit/testing/wait_until.h"

namespace pgrepl {
namespace {

using namespace std::chrono_literals;
using Clock = Session::Clock;

TEST(FakeDatabase, AnswersOnlyTheExactSql) {
  FakeDatabase db;
  db.Answer("SELECT 1", canned::SlotRows({canned::SlotCells{}}));
  auto rows = db.rows().Query("SELECT 1");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows.value().Get(0, "slot_name"), "replica1");
  auto other = db.rows().Query("SELECT  1");
  EXPECT_EQ(other.status().kind(), Status::Kind::kQuery);
  db.Forget("SELECT 1");
  EXPECT_EQ(db.rows().Query("SELECT 1").status().kind(), Status::Kind::kQuery);
  EXPECT_EQ(db.queries(), 3);
  EXPECT_EQ(db.queries("SELECT 1"), 2);
  EXPECT_EQ(db.asked().size(), 3u);
}

TEST(FakeDatabase, ScriptedConnectsThenTheDefault) {
  FakeDatabase db(130005);
  auto make = FakeSessionFactory(&db);
  auto session = make("host=a", "");
  EXPECT_EQ(db.sessions_made(), std::vector<std::string>{"host=a"});
  db.QueueConnectResult(Status::Connect("refused"));
  db.QueueConnectResult(Status::Timeout("slow"));
  const auto deadline = Clock::now() + 1s;
  EXPECT_EQ(session->Connect(deadline, 1s).kind(), Status::Kind::kConnect);
  EXPECT_EQ(session->Connect(deadline, 1s).kind(), Status::Kind::kTimeout);
  EXPECT_FALSE(session->connected());
  EXPECT_EQ(session->server_version(), 0);
  ASSERT_TRUE(session->Connect(deadline, 1s).ok());
  EXPECT_TRUE(session->connected());
  EXPECT_EQ(session->server_version(), 130005);
  EXPECT_GT(session->backend_pid(), 0);
  EXPECT_EQ(db.connects(), 3);
  EXPECT_EQ(db.open_sessions(), 1);
  EXPECT_EQ(db.connect_conninfos().size(), 3u);
  session.reset();
  EXPECT_EQ(db.open_sessions(), 0);
}

TEST(FakeDatabase, QueryTimeoutClosesTheSession) {
  FakeDatabase db;
  db.Answer("SELECT 1", Status::Query("permission denied"));
  db.TimeOut("SELECT 2");
  FakeSession session(&db, "host=a");
  ASSERT_TRUE(session.Connect(Clock::now() + 1s, 1s).ok());
  const auto deadline = Clock::now() + 1s;
  EXPECT_EQ(session.Query("SELECT 1", deadline).status().kind(),
            Status::Kind::kQuery);
  EXPECT_TRUE(session.connected());  // a failed query keeps the session
  EXPECT_EQ(session.Query("SELECT 2", deadline).status().kind(),
            Status::Kind::kTimeout);
  EXPECT_FALSE(session.connected());
  EXPECT_EQ(db.open_sessions(), 0);
  EXPECT_EQ(session.Query("SELECT 1", deadline).status().kind(),
            Status::Kind::kQuery);
  EXPECT_EQ(db.queries(), 2);  // a closed session reaches no server
}

TEST(FakeDatabase, HungQueryTimesOutAtItsDeadline) {
  FakeDatabase db;
  db.Hang("SELECT pg_sleep(3600)");
  FakeSession session(&db, "host=a");
  ASSERT_TRUE(session.Connect(Clock::now() + 1s, 1s).ok());
  const auto deadline = Clock::now() + 30ms;
  EXPECT_EQ(session.Query("SELECT pg_sleep(3600)", deadline).status().kind(),
            Status::Kind::kTimeout);
  EXPECT_GE(Clock::now(), deadline);
  EXPECT_FALSE(session.connected());
  EXPECT_EQ(db.blocked(), 0);
  // The RowSource view has no deadline: it times out at once.
  EXPECT_EQ(db.rows().Query("SELECT pg_sleep(3600)").status().kind(),
            Status::Kind::kTimeout);
}

TEST(FakeDatabase, HeldConnectWaitsForReleaseOrItsDeadline) {
  FakeDatabase db;
  db.HoldConnects();
  FakeSession late(&db, "host=a");
  EXPECT_EQ(late.Connect(Clock::now() + 20ms, 1s).kind(),
            Status::Kind::kTimeout);
  FakeSession released(&db, "host=a");
  Status st = Status::Io("not run");
  std::thread t([&] { st = released.Connect(Clock::now() + 5s, 1s); });
  ASSERT_TRUE(WaitUntil([&] { return db.blocked() == 1; }));
  db.ReleaseConnects();
  t.join();
  EXPECT_TRUE(st.ok());
  EXPECT_TRUE(released.connected());
}

}  // namespace
}  // namespace pgrepl
