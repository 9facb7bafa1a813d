// Tests for exporter/poll/poller: poll cycles at explicit start times
// (PollOnce) on a fake server, read back from the SnapshotStore.
#include "exporter/poll/poller.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "exporter/base/metric_sink.h"
#include "exporter/collector/pg_is_in_recovery.h"
#include "exporter/collector/pg_replication_slots.h"
#include "exporter/collector/pg_stat_archiver.h"
#include "exporter/collector/pg_stat_database_conflicts.h"
#include "exporter/collector/pg_stat_replication.h"
#include "exporter/collector/pg_stat_wal_receiver.h"
#include "exporter/collector/replay_blockers.h"
#include "exporter/collector/server_identity.h"
#include "exporter/model/snapshot_store.h"
#include "exporter/pg/row_source.h"
#include "exporter/pg/values.h"
#include "tests/unit/testing/canned_rows.h"
#include "tests/unit/testing/fake_session.h"
#include "tests/unit/testing/metric_matchers.h"
#include "tests/unit/testing/wait_until.h"

namespace pgrepl {
namespace {

using namespace std::chrono_literals;
using Clock = Poller::Clock;

// Start times are explicit, so nothing waits for these.
constexpr std::chrono::milliseconds kInterval = 1000ms;
constexpr std::chrono::milliseconds kBackoffMax = 5000ms;

uint64_t Errors(const InstanceSnapshot& s, Status::Kind kind) {
  return s.errors[PollErrorIndex(kind)];
}

class PollerTest : public ::testing::Test {
 protected:
  PollerTest() : t0_(Clock::now()) {}

  // A poller of instance "db1" of cluster "main", not started.
  std::unique_ptr<Poller> MakePoller(
      std::chrono::milliseconds connect_timeout = 500ms) {
    Poller::Options options{kInterval, 500ms, connect_timeout, kBackoffMax, ""};
    InstanceTarget target{"db1", "host=db1", false};
    return std::make_unique<Poller>("main", target, false, options,
                                    &collectors_, &history_, &store_,
                                    FakeSessionFactory(&db_));
  }

  // The start of poll slot `n` of the fixed-rate schedule.
  Clock::time_point Slot(int n) const { return t0_ + n * kInterval; }

  // The snapshot db1 published last; null before any.
  SnapshotStore::Ptr Latest() const {
    for (const auto& s : store_.All()) {
      if (s->cluster == "main" && s->instance == "db1") return s;
    }
    return nullptr;
  }

  // Runs one cycle at `start` and returns what it published.
  SnapshotStore::Ptr Poll(Poller& p, Clock::time_point start) {
    p.PollOnce(start);
    return Latest();
  }

  FakeDatabase db_;
  const std::vector<std::unique_ptr<Collector>> collectors_ =
      DefaultCollectors();
  ClusterHistory history_;
  SnapshotStore store_;
  const Clock::time_point t0_;
};

TEST_F(PollerTest, ConnectFailuresBackOffDoublingFromTheIntervalToTheCap) {
  db_.SetConnectResult(Status::Connect("connection refused"));
  db_.QueueConnectResult(Status::Timeout("connect timed out"));
  auto poller = MakePoller();
  std::vector<int> attempted;
  for (int n = 0; n <= 17; ++n) {
    const int before = db_.connects();
    auto s = Poll(*poller, Slot(n));
    if (db_.connects() > before) attempted.push_back(n);
    ASSERT_TRUE(s);
    EXPECT_TRUE(s->polled);
    EXPECT_FALSE(s->up);
    EXPECT_TRUE(s->collectors.empty()) << n;
    EXPECT_EQ(s->connects, 0u);
  }
  // Waits of 1, 2, 4, then 5 (the cap), 5 intervals.
  EXPECT_EQ(attempted, (std::vector<int>{0, 1, 3, 7, 12, 17}));
  auto s = Latest();
  EXPECT_EQ(Errors(*s, Status::Kind::kTimeout), 1u);
  EXPECT_EQ(Errors(*s, Status::Kind::kConnect), 5u);
  EXPECT_EQ(Errors(*s, Status::Kind::kQuery), 0u);
  EXPECT_EQ(s->last_error.rfind("connect: ", 0), 0u) << s->last_error;

  // The server is back: the poller still waits for the due time.
  db_.SetConnectResult(Status::Ok());
  canned::AnswerAsPrimary(&db_);
  for (int n = 18; n <= 21; ++n) {
    EXPECT_FALSE(Poll(*poller, Slot(n))->up) << n;
  }
  EXPECT_EQ(db_.connects(), 6);
  s = Poll(*poller, Slot(22));
  EXPECT_EQ(db_.connects(), 7);
  EXPECT_TRUE(s->up);
  EXPECT_EQ(s->connects, 1u);
  EXPECT_EQ(s->last_error, "");
  EXPECT_EQ(Errors(*s, Status::Kind::kConnect), 5u);
}

TEST_F(PollerTest, BackoffStartsOverAfterASuccessfulConnect) {
  canned::AnswerAsPrimary(&db_);
  auto poller = MakePoller();
  db_.SetConnectResult(Status::Connect("refused"));
  Poll(*poller, Slot(0));
  Poll(*poller, Slot(1));
  Poll(*poller, Slot(3));  // the next wait would be 4 intervals
  EXPECT_EQ(db_.connects(), 3);
  db_.SetConnectResult(Status::Ok());
  EXPECT_TRUE(Poll(*poller, Slot(7))->up);
  // The session is lost, and the server refuses again.
  db_.TimeOut(RecoverySql(db_.server_version()));
  EXPECT_FALSE(Poll(*poller, Slot(8))->up);
  db_.SetConnectResult(Status::Connect("refused"));
  Poll(*poller, Slot(9));  // reconnects at once, refused
  EXPECT_EQ(db_.connects(), 5);
  Poll(*poller, Slot(10));  // one interval later, not 8
  EXPECT_EQ(db_.connects(), 6);
}

// Polls run on a fixed-rate schedule whose starts jitter by the wake-up
// latency. When a failed poll started later after its slot than the next
// due poll does, the attempt due then must not slip a whole interval
// (issue 13, defect 8: it did, about half the time).
TEST_F(PollerTest, LateStartOfAFailedPollDoesNotDelayTheNextAttempt) {
  db_.SetConnectResult(Status::Connect("connection refused"));
  auto poller = MakePoller();
  poller->PollOnce(Slot(0) + 50ms);  // woke 50 ms after its slot
  EXPECT_EQ(db_.connects(), 1);
  poller->PollOnce(Slot(1) + 10ms);  // woke 10 ms after its slot
  EXPECT_EQ(db_.connects(), 2) << "the retry due one interval later slipped";
}

TEST_F(PollerTest, QueryTimeoutClosesTheSessionAndTheNextCycleReconnects) {
  canned::AnswerAsReplica(&db_);
  const int v = db_.server_version();
  db_.TimeOut(WalReceiverSql(v));
  auto poller = MakePoller();
  auto s = Poll(*poller, Slot(0));
  EXPECT_TRUE(s->up);  // the role was read before the timeout
  EXPECT_EQ(s->role(), Role::kReplica);
  EXPECT_EQ(Errors(*s, Status::Kind::kTimeout), 1u);
  EXPECT_EQ(Errors(*s, Status::Kind::kQuery), 0u);  // one error per poll
  EXPECT_EQ(s->last_error.rfind("timeout: ", 0), 0u) << s->last_error;
  EXPECT_EQ(db_.open_sessions(), 0);
  EXPECT_FALSE(s->CollectorOk("pg_stat_wal_receiver"));
  EXPECT_EQ(s->replica_state(), ReplicaState::kUnknown);
  // The closed session reaches the server no more in this cycle.
  EXPECT_EQ(db_.queries(StatReplicationSql(v)), 0);
  EXPECT_FALSE(s->CollectorOk("pg_stat_replication"));
  EXPECT_FALSE(s->CollectorOk("pg_replication_slots"));

  canned::AnswerAsReplica(&db_);
  s = Poll(*poller, Slot(1));
  EXPECT_EQ(db_.connects(), 2);
  EXPECT_EQ(s->connects, 2u);
  EXPECT_TRUE(s->up);
  EXPECT_EQ(s->replica_state(), ReplicaState::kStreaming);
  EXPECT_EQ(Errors(*s, Status::Kind::kTimeout), 1u);
  EXPECT_EQ(s->last_error, "");
}

TEST_F(PollerTest, RoleQueryTimeoutIsDownAndTheNextCycleReconnects) {
  canned::AnswerAsPrimary(&db_);
  auto poller = MakePoller();
  EXPECT_TRUE(Poll(*poller, Slot(0))->up);
  db_.TimeOut(RecoverySql(db_.server_version()));
  auto s = Poll(*poller, Slot(1));
  EXPECT_FALSE(s->up);
  EXPECT_EQ(s->role(), Role::kUnknown);
  EXPECT_EQ(s->collectors.size(), 1u);
  EXPECT_EQ(Errors(*s, Status::Kind::kTimeout), 1u);
  EXPECT_EQ(db_.open_sessions(), 0);
  EXPECT_FALSE(s->standbys.has_value());

  canned::AnswerAsPrimary(&db_);
  s = Poll(*poller, Slot(2));
  EXPECT_EQ(db_.connects(), 2);
  EXPECT_EQ(s->connects, 2u);
  EXPECT_TRUE(s->up);
}

TEST_F(PollerTest, RoleChangeBetweenPollsIsCountedWithItsNewTimeline) {
  canned::AnswerAsReplica(&db_);  // receiving timeline 1
  auto poller = MakePoller();
  auto s = Poll(*poller, Slot(0));
  EXPECT_EQ(s->role(), Role::kReplica);
  EXPECT_EQ(s->timeline, 1u);
  EXPECT_EQ(s->role_changes, 0u);

  // Promoted: a primary writing timeline 2.
  canned::RoleCells promoted = canned::PrimaryRole();
  promoted.walfile = "000000020000000000000003";
  db_.Answer(RecoverySql(db_.server_version()), canned::RoleRows(promoted));
  s = Poll(*poller, Slot(1));
  EXPECT_EQ(s->role(), Role::kPrimary);
  EXPECT_EQ(s->role_changes, 1u);
  EXPECT_EQ(s->timeline, 2u);
  EXPECT_EQ(s->timeline_changes, 1u);
  EXPECT_FALSE(s->wal_receiver.has_value());
  EXPECT_EQ(s->replica_state(), ReplicaState::kNotReplica);
  EXPECT_FALSE(s->replica_lag_seconds.has_value());

  s = Poll(*poller, Slot(2));  // no change: nothing more counted
  EXPECT_EQ(s->role_changes, 1u);
  EXPECT_EQ(s->timeline_changes, 1u);
}

TEST_F(PollerTest, DemotedPrimaryFollowsTheTimelineItReceives) {
  canned::AnswerAsPrimary(&db_);  // timeline 1
  auto poller = MakePoller();
  EXPECT_EQ(Poll(*poller, Slot(0))->timeline, 1u);

  // Rewound and following a new primary on timeline 2, first without a
  // receiver: a replica has no WAL file of its own, so the timeline stays.
  canned::AnswerAsReplica(&db_);
  db_.Answer(WalReceiverSql(db_.server_version()), canned::ReceiverRows({}));
  auto s = Poll(*poller, Slot(1));
  EXPECT_EQ(s->role(), Role::kReplica);
  EXPECT_EQ(s->role_changes, 1u);
  EXPECT_EQ(s->timeline, 1u);
  EXPECT_EQ(s->timeline_changes, 0u);

  canned::ReceiverCells receiver;
  receiver.received_tli = "2";
  db_.Answer(WalReceiverSql(db_.server_version()),
             canned::ReceiverRows({receiver}));
  s = Poll(*poller, Slot(2));
  EXPECT_EQ(s->timeline, 2u);
  EXPECT_EQ(s->timeline_changes, 1u);
  EXPECT_EQ(s->role_changes, 1u);
}

TEST_F(PollerTest, FailedCollectorLeavesUpAndTheOthersReadings) {
  canned::AnswerAsPrimary(&db_);
  db_.Answer(ReplicationSlotsSql(db_.server_version()),
             Status::Query("permission denied for view pg_replication_slots"));
  auto poller = MakePoller();
  auto s = Poll(*poller, Slot(0));
  EXPECT_TRUE(s->up);
  EXPECT_EQ(s->role(), Role::kPrimary);
  ASSERT_EQ(s->collectors.size(), collectors_.size());
  EXPECT_TRUE(s->CollectorOk("pg_is_in_recovery"));
  EXPECT_TRUE(s->CollectorOk("pg_stat_wal_receiver"));
  EXPECT_TRUE(s->CollectorOk("pg_stat_replication"));
  EXPECT_FALSE(s->CollectorOk("pg_replication_slots"));
  ASSERT_TRUE(s->recovery.has_value());
  EXPECT_EQ(s->recovery->current_lsn, 0x3000148u);
  ASSERT_TRUE(s->standbys.has_value());
  ASSERT_EQ(s->standbys->size(), 1u);
  EXPECT_EQ((*s->standbys)[0].application_name, "replica1");
  EXPECT_FALSE(s->slots.has_value());
  EXPECT_EQ(s->last_error,
            "query: permission denied for view pg_replication_slots");
  EXPECT_EQ(Errors(*s, Status::Kind::kQuery), 1u);
  EXPECT_TRUE(s->last_success.has_value());

  canned::AnswerAsPrimary(&db_);
  s = Poll(*poller, Slot(1));
  EXPECT_TRUE(s->CollectorOk("pg_replication_slots"));
  EXPECT_EQ(s->last_error, "");
  EXPECT_EQ(Errors(*s, Status::Kind::kQuery), 1u);
}

TEST_F(PollerTest, SeveralFailedCollectorsCountOneErrorForThePoll) {
  canned::AnswerAsPrimary(&db_);
  const int v = db_.server_version();
  db_.Answer(StatReplicationSql(v), Status::Query("first"));
  db_.Answer(ReplicationSlotsSql(v), Status::Query("second"));
  auto poller = MakePoller();
  auto s = Poll(*poller, Slot(0));
  EXPECT_TRUE(s->up);
  EXPECT_FALSE(s->CollectorOk("pg_stat_replication"));
  EXPECT_FALSE(s->CollectorOk("pg_replication_slots"));
  EXPECT_EQ(Errors(*s, Status::Kind::kQuery), 1u);
  EXPECT_EQ(s->last_error, "query: first");
}

// The statements the due collectors declare for a poll with `plan`.
std::vector<std::string> Declared(
    const std::vector<std::unique_ptr<Collector>>& collectors,
    const StatementPlan& plan) {
  std::vector<std::string> out;
  for (const auto& c : collectors) {
    if (!c->Due(plan)) continue;
    for (auto& sql : c->Statements(plan)) {
      if (std::find(out.begin(), out.end(), sql) == out.end()) {
        out.push_back(std::move(sql));
      }
    }
  }
  return out;
}

// Those of a full poll (a new session's first).
std::vector<std::string> Declared(
    const std::vector<std::unique_ptr<Collector>>& collectors, int version,
    bool full) {
  StatementPlan plan;
  plan.server_version_num = version;
  plan.full = full;
  return Declared(collectors, plan);
}

// Those of a poll between full ones, after `last`.
std::vector<std::string> DeclaredAfter(
    const std::vector<std::unique_ptr<Collector>>& collectors,
    const InstanceSnapshot& last) {
  StatementPlan plan;
  plan.server_version_num = *last.server_version_num;
  plan.full = false;
  plan.role = last.role();
  plan.last = &last;
  return Declared(collectors, plan);
}

TEST_F(PollerTest, RoleQueryFailureIsDownAndRunsNoOtherCollector) {
  canned::AnswerAsPrimary(&db_);
  db_.Answer(RecoverySql(db_.server_version()),
             Status::Query("permission denied"));
  auto poller = MakePoller();
  auto s = Poll(*poller, Slot(0));
  EXPECT_TRUE(s->polled);
  EXPECT_FALSE(s->up);
  ASSERT_EQ(s->collectors.size(), 1u);
  EXPECT_EQ(s->collectors[0].name, "pg_is_in_recovery");
  EXPECT_FALSE(s->collectors[0].ok);
  EXPECT_EQ(db_.queries(RecoverySql(db_.server_version())), 1);
  // The identity at connect, then one batch: its other statements ran on
  // the server (they were sent with the role's), but no collector read them.
  EXPECT_EQ(db_.queries(),
            1 + static_cast<int>(
                    Declared(collectors_, db_.server_version(), true).size()));
  EXPECT_EQ(db_.batches(), 1);
  EXPECT_FALSE(s->recovery.has_value());
  EXPECT_FALSE(s->standbys.has_value());
  EXPECT_FALSE(s->slots.has_value());
  EXPECT_FALSE(s->wal_receiver.has_value());
  EXPECT_FALSE(s->server_version_num.has_value());
  EXPECT_EQ(s->role(), Role::kUnknown);
  EXPECT_FALSE(s->last_success.has_value());
  EXPECT_EQ(Errors(*s, Status::Kind::kQuery), 1u);
  EXPECT_EQ(db_.open_sessions(), 1);  // a failed query keeps the session
}

TEST_F(PollerTest, UnparseableRoleRowIsDown) {
  canned::RoleCells role = canned::PrimaryRole();
  role.in_recovery = std::nullopt;
  canned::AnswerAsPrimary(&db_);
  db_.Answer(RecoverySql(db_.server_version()), canned::RoleRows(role));
  auto poller = MakePoller();
  auto s = Poll(*poller, Slot(0));
  EXPECT_FALSE(s->up);
  EXPECT_EQ(s->collectors.size(), 1u);
  EXPECT_EQ(Errors(*s, Status::Kind::kQuery), 1u);
}

TEST_F(PollerTest, ConnectionRefusedIsDown) {
  db_.SetConnectResult(Status::Connect("connection refused"));
  auto poller = MakePoller();
  auto s = Poll(*poller, Slot(0));
  EXPECT_TRUE(s->polled);
  EXPECT_FALSE(s->up);
  EXPECT_TRUE(s->collectors.empty());
  EXPECT_EQ(db_.queries(), 0);
  EXPECT_EQ(s->connects, 0u);
  EXPECT_EQ(Errors(*s, Status::Kind::kConnect), 1u);
  EXPECT_EQ(s->last_error, "connect: connection refused");
}

TEST_F(PollerTest, StartPublishesAnUnpolledSnapshotFirst) {
  canned::AnswerAsPrimary(&db_);
  db_.HoldConnects();  // the first poll cannot finish before the check
  auto poller = MakePoller(/*connect_timeout=*/5000ms);
  EXPECT_EQ(Latest(), nullptr);
  poller->Start();
  auto s = Latest();
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->polled);
  EXPECT_FALSE(s->up);
  EXPECT_FALSE(store_.AnyPolled());
  EXPECT_EQ(s->cluster, "main");
  EXPECT_EQ(s->instance, "db1");
  db_.ReleaseConnects();
  EXPECT_TRUE(WaitUntil([&] { return Latest()->polled; }));
  EXPECT_TRUE(Latest()->up);
  poller.reset();  // stops and joins
  EXPECT_EQ(db_.open_sessions(), 0);
}

TEST_F(PollerTest, AStartedPollerPollsAtOnceThenAtItsPhase) {
  canned::AnswerAsPrimary(&db_);
  // A 10 s interval placed 50 ms in: the second poll comes at the phase,
  // long before an interval has passed, and the third an interval later.
  Poller::Options options{10000ms, 500ms, 500ms, kBackoffMax, ""};
  options.phase = 50ms;
  InstanceTarget target{"db1", "host=db1", false};
  auto poller =
      std::make_unique<Poller>("main", target, false, options, &collectors_,
                               &history_, &store_, FakeSessionFactory(&db_));
  const std::string role = RecoverySql(db_.server_version());
  poller->Start();
  EXPECT_TRUE(WaitUntil([&] { return db_.queries(role) >= 2; }, 5000ms));
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(db_.queries(role), 2) << "the next one is an interval away";
  poller.reset();
}

TEST_F(PollerTest, ReplicaWithoutReceiverIsNoReceiverWithUnknownLag) {
  canned::AnswerAsReplica(&db_);
  db_.Answer(WalReceiverSql(db_.server_version()), canned::ReceiverRows({}));
  auto poller = MakePoller();
  auto s = Poll(*poller, Slot(0));
  EXPECT_TRUE(s->up);
  EXPECT_EQ(s->replica_state(), ReplicaState::kNoReceiver);
  EXPECT_TRUE(s->CollectorOk("pg_stat_wal_receiver"));
  ASSERT_TRUE(s->identity.has_value());
  EXPECT_EQ(s->identity->standby_name, "replica1");
  // Never seen healthy and no primary polled: unknown, never 0.
  ASSERT_TRUE(s->replica_lag_seconds.has_value());
  EXPECT_TRUE(std::isnan(*s->replica_lag_seconds));
}

TEST_F(PollerTest, ReceiverGoneAfterStreamingKeepsALag) {
  canned::AnswerAsReplica(&db_);  // streaming, replayed all it received
  auto poller = MakePoller();
  auto s = Poll(*poller, Slot(0));
  EXPECT_EQ(s->replica_state(), ReplicaState::kStreaming);
  EXPECT_EQ(s->replica_lag_seconds, 0.0);
  db_.Answer(WalReceiverSql(db_.server_version()), canned::ReceiverRows({}));
  s = Poll(*poller, Slot(1));
  EXPECT_EQ(s->replica_state(), ReplicaState::kNoReceiver);
  // At least the time since it was last healthy: a number, not unknown.
  ASSERT_TRUE(s->replica_lag_seconds.has_value());
  EXPECT_FALSE(std::isnan(*s->replica_lag_seconds));
  EXPECT_GE(*s->replica_lag_seconds, 0.0);
}

TEST_F(PollerTest, ReceiverQueryFailureIsUnknownWithoutLag) {
  canned::AnswerAsReplica(&db_);
  db_.Answer(WalReceiverSql(db_.server_version()),
             Status::Query("permission denied"));
  auto poller = MakePoller();
  auto s = Poll(*poller, Slot(0));
  EXPECT_TRUE(s->up);
  EXPECT_EQ(s->role(), Role::kReplica);
  EXPECT_FALSE(s->CollectorOk("pg_stat_wal_receiver"));
  EXPECT_EQ(s->replica_state(), ReplicaState::kUnknown);
  EXPECT_FALSE(s->replica_lag_seconds.has_value());
  EXPECT_FALSE(s->replica_lag_bytes.has_value());
  EXPECT_EQ(s->replica_lag_histogram.count(), 0u);
  // The collectors after it still ran.
  EXPECT_TRUE(s->CollectorOk("pg_stat_replication"));
  EXPECT_TRUE(s->CollectorOk("pg_replication_slots"));
}

TEST_F(PollerTest, RetargetConnectsToTheNewConninfoAtOnce) {
  canned::AnswerAsPrimary(&db_);
  auto poller = MakePoller();
  auto s = Poll(*poller, Slot(0));
  EXPECT_EQ(s->connects, 1u);
  EXPECT_EQ(db_.sessions_made(), std::vector<std::string>{"host=db1"});

  poller->Retarget("host=db1-moved");
  s = Poll(*poller, Slot(1));
  EXPECT_EQ(db_.sessions_made(),
            (std::vector<std::string>{"host=db1", "host=db1-moved"}));
  EXPECT_EQ(db_.connect_conninfos().back(), "host=db1-moved");
  EXPECT_EQ(s->connects, 2u);
  EXPECT_TRUE(s->up);
  EXPECT_EQ(db_.open_sessions(), 1);  // the old session was closed
  EXPECT_EQ(s->instance, "db1");
  EXPECT_EQ(store_.All().size(), 1u);
}

TEST_F(PollerTest, RetargetToAnotherDatabaseClusterIsRefused) {
  canned::AnswerAsReplica(&db_);
  auto poller = MakePoller();
  auto s = Poll(*poller, Slot(0));
  ASSERT_TRUE(s->server.has_value());
  EXPECT_EQ(s->server->system_identifier, canned::kSystemIdentifier);

  // The name now resolves to an address where another cluster answers.
  db_.Answer(ServerIdentitySql(), canned::ServerIdentityRows("42"));
  poller->Retarget("host=db1-moved");
  s = Poll(*poller, Slot(1));
  EXPECT_FALSE(s->up);
  EXPECT_NE(s->last_error.find("a different database cluster"),
            std::string::npos)
      << s->last_error;
  EXPECT_NE(s->last_error.find("42"), std::string::npos) << s->last_error;
  EXPECT_EQ(s->server->system_identifier, canned::kSystemIdentifier)
      << "the expected identity is kept";
  EXPECT_EQ(db_.open_sessions(), 0) << "the session to it was closed";
  EXPECT_EQ(s->connects, 1u) << "not counted as this instance's session";
  EXPECT_EQ(db_.queries(RecoverySql(db_.server_version())), 1)
      << "nothing was read from the other cluster";

  // Back to a member of the same cluster (a re-cloned replica): accepted.
  db_.Answer(ServerIdentitySql(), canned::ServerIdentityRows());
  for (int n = 2; n < 8 && !s->up; ++n) s = Poll(*poller, Slot(n));
  EXPECT_TRUE(s->up);
  EXPECT_EQ(s->connects, 2u);
}

// A stand-in for the resolver behind Options::server_namer: the address
// it is asked to name resolves to `name` (the address itself: no PTR),
// or fails temporarily while `failing`.
struct FakeNamer {
  std::string name = "postgres-primary-0";
  bool failing = false;
  std::vector<std::string> asked;
  Resolver resolver() {
    return [this](const std::string& address, Clock::time_point) {
      asked.push_back(address);
      Result<std::vector<DiscoveredAddress>> r =
          failing ? Result<std::vector<DiscoveredAddress>>(
                        Status::Io("reverse: again"))
                  : std::vector<DiscoveredAddress>{{address, name}};
      return r;
    };
  }
};

TEST_F(PollerTest, NamedAfterTheServerItReaches) {
  canned::AnswerAsPrimary(&db_);
  FakeNamer namer;
  namer.failing = true;
  Poller::Options options{kInterval, 500ms, 500ms,           kBackoffMax,
                          "",        false, namer.resolver()};
  Poller poller("main", InstanceTarget{"db1", "host=db1", true}, false, options,
                &collectors_, &history_, &store_, FakeSessionFactory(&db_));
  auto s = Poll(poller, Slot(0));
  EXPECT_TRUE(s->up);
  EXPECT_EQ(namer.asked, std::vector<std::string>{canned::kServerAddress});
  EXPECT_EQ(s->server_name, "") << "a failed lookup leaves it unnamed";

  namer.failing = false;
  s = Poll(poller, Slot(1));
  EXPECT_EQ(s->server_name, "postgres-primary-0") << "retried next poll";
  EXPECT_EQ(s->instance, "db1") << "the target keeps its name";
  s = Poll(poller, Slot(2));
  EXPECT_EQ(namer.asked.size(), 2u) << "named once per server";

  // The write endpoint now reaches another server (after a failover).
  db_.Answer(ServerIdentitySql(),
             canned::ServerIdentityRows(canned::kSystemIdentifier, "10.244.2.9",
                                        "2026-12-03 04:00:00+00"));
  namer.name = "postgres-replica-0";
  poller.Retarget("host=db1");
  s = Poll(poller, Slot(3));
  EXPECT_EQ(namer.asked.back(), "10.244.2.9");
  EXPECT_EQ(s->server_name, "postgres-replica-0");

  // A loopback or Unix-socket address names nothing, without a lookup.
  db_.Answer(ServerIdentitySql(),
             canned::ServerIdentityRows(canned::kSystemIdentifier, "127.0.0.1",
                                        "2026-12-03 04:10:00+00"));
  poller.Retarget("host=db1");
  s = Poll(poller, Slot(4));
  EXPECT_EQ(s->server_name, "");
  EXPECT_EQ(namer.asked.size(), 3u);
}

TEST_F(PollerTest, NotNamedWithoutANamer) {
  canned::AnswerAsPrimary(&db_);
  auto s = Poll(*MakePoller(), Slot(0));
  EXPECT_TRUE(s->up);
  EXPECT_EQ(s->server_name, "");
}

TEST_F(PollerTest, UnreadableServerIdentityIsNotChecked) {
  canned::AnswerAsReplica(&db_);
  db_.Answer(ServerIdentitySql(), Status::Query("permission denied"));
  auto poller = MakePoller();
  auto s = Poll(*poller, Slot(0));
  EXPECT_TRUE(s->up) << s->last_error;
  EXPECT_FALSE(s->server.has_value());
}

TEST_F(PollerTest, RetargetDuringBackoffConnectsAtOnce) {
  canned::AnswerAsPrimary(&db_);
  db_.SetConnectResult(Status::Connect("connection refused"));
  auto poller = MakePoller();
  for (int n : {0, 1, 3, 4}) Poll(*poller, Slot(n));
  EXPECT_EQ(db_.connects(), 3);  // the next attempt is due at slot 7

  db_.SetConnectResult(Status::Ok());
  poller->Retarget("host=db1-moved");
  auto s = Poll(*poller, Slot(5));
  EXPECT_EQ(db_.connects(), 4);
  EXPECT_EQ(db_.connect_conninfos().back(), "host=db1-moved");
  EXPECT_TRUE(s->up);
  EXPECT_EQ(s->connects, 1u);
  EXPECT_EQ(Errors(*s, Status::Kind::kConnect), 3u);  // counters carry on
}

TEST_F(PollerTest, EveryCollectorsStatementsGoInOneRoundTripPerPoll) {
  canned::AnswerAsReplica(&db_);
  const int v = db_.server_version();
  auto poller = MakePoller();
  auto s = Poll(*poller, Slot(0));
  ASSERT_TRUE(s->up);
  // A new session: the identity check, then one batch of everything.
  EXPECT_EQ(s->poll_round_trips, 2u);
  EXPECT_EQ(db_.batches(), 1);
  const std::vector<std::string> first = Declared(collectors_, v, true);
  // Each collector's statements, the static settings among them.
  EXPECT_GE(first.size(), collectors_.size());
  std::vector<std::string> asked = db_.asked();
  ASSERT_EQ(asked.size(), 1 + first.size());
  EXPECT_EQ(std::vector<std::string>(asked.begin() + 1, asked.end()), first);

  // The next poll lists archive_status, which the first learned the role
  // may; that is all it adds.
  size_t before = db_.asked().size();
  s = Poll(*poller, Slot(1));
  EXPECT_EQ(s->poll_round_trips, 1u);
  asked = db_.asked();
  EXPECT_EQ(std::vector<std::string>(asked.begin() + before, asked.end()),
            (std::vector<std::string>{RecoverySql(v), WalReceiverSql(v),
                                      ArchiverSql(true)}));
  // Steady state: one round trip per poll, without what a full poll
  // alone reads (the receiver's settings, the standbys' details, the
  // counters) and what a replica without standbys or lag does not read.
  const std::vector<std::string> steady = DeclaredAfter(collectors_, *s);
  EXPECT_EQ(steady,
            (std::vector<std::string>{RecoverySql(v), WalReceiverSql(v)}));
  for (int n = 2; n <= 6; ++n) {
    before = db_.asked().size();
    s = Poll(*poller, Slot(n));
    EXPECT_TRUE(s->up);
    EXPECT_EQ(s->poll_round_trips, 1u) << n;
    EXPECT_EQ(db_.batches(), 1 + n);
    asked = db_.asked();
    EXPECT_EQ(std::vector<std::string>(asked.begin() + before, asked.end()),
              steady)
        << n;
  }
  EXPECT_EQ(s->round_trips, 2u + 6u);
  EXPECT_EQ(s->last_error, "");
}

TEST_F(PollerTest, EveryCollectorReadsOnFullPollsAndTheRestKeepTheirReadings) {
  canned::AnswerAsReplica(&db_);
  const int v = db_.server_version();
  auto poller = MakePoller();
  auto s = Poll(*poller, Slot(0));  // a new session: full
  EXPECT_EQ(db_.queries(DatabaseConflictsSql(v)), 1);
  EXPECT_EQ(db_.queries(ReplayBlockersSql(v)), 1);
  const size_t collectors = s->collectors.size();
  EXPECT_EQ(collectors, collectors_.size());
  int n = 1;
  for (; n < Poller::kFullPollEvery; ++n) {
    s = Poll(*poller, Slot(n));
    ASSERT_TRUE(s->up) << n;
    EXPECT_EQ(s->poll_round_trips, 1u) << n;
    // Not read, still there: the counters and the standbys (none).
    EXPECT_TRUE(s->CollectorOk("pg_stat_database_conflicts")) << n;
    EXPECT_EQ(s->collectors.size(), collectors) << n;
    EXPECT_TRUE(s->readings.count("pg_stat_database_conflicts")) << n;
    ASSERT_TRUE(s->standbys.has_value()) << n;
  }
  EXPECT_EQ(db_.queries(DatabaseConflictsSql(v)), 1);
  EXPECT_EQ(db_.queries(ReplayBlockersSql(v)), 1) << "not lagging";
  s = Poll(*poller, Slot(n));  // the kFullPollEvery-th: full again
  EXPECT_EQ(db_.queries(DatabaseConflictsSql(v)), 2);
  EXPECT_EQ(db_.queries(ReplayBlockersSql(v)), 2);
  EXPECT_EQ(s->poll_round_trips, 1u);

  // A collector that fails on its full poll is not read again before its
  // next one: its failure carries forward, the others poll on.
  db_.Answer(DatabaseConflictsSql(v), Status::Query("canceled"));
  for (int k = 1; k < Poller::kFullPollEvery; ++k) {
    EXPECT_TRUE(
        Poll(*poller, Slot(n + k))->CollectorOk("pg_stat_database_conflicts"))
        << "not read since the full poll: " << k;
  }
  n += Poller::kFullPollEvery;
  s = Poll(*poller, Slot(n));  // full
  EXPECT_FALSE(s->CollectorOk("pg_stat_database_conflicts"));
  EXPECT_EQ(db_.queries(DatabaseConflictsSql(v)), 3);
  s = Poll(*poller, Slot(n + 1));
  EXPECT_TRUE(s->up);
  EXPECT_FALSE(s->CollectorOk("pg_stat_database_conflicts")) << "carried";
  EXPECT_EQ(s->poll_round_trips, 1u) << "not a full poll";
  EXPECT_EQ(db_.queries(DatabaseConflictsSql(v)), 3);
  n += 1;
  // A poll that could not read the role makes the next one full.
  canned::AnswerAsReplica(&db_);
  db_.Answer(RecoverySql(v), Status::Query("canceled"));
  EXPECT_FALSE(Poll(*poller, Slot(n + 1))->up);
  canned::AnswerAsReplica(&db_);
  Poll(*poller, Slot(n + 2));
  EXPECT_EQ(db_.queries(DatabaseConflictsSql(v)), 4);
}

TEST_F(PollerTest, APromotionOnAFullPollCarriesNothingOfTheReplica) {
  canned::AnswerAsReplica(&db_);
  auto poller = MakePoller();
  int n = 0;
  for (; n < Poller::kFullPollEvery; ++n) Poll(*poller, Slot(n));
  ASSERT_TRUE(Latest()->readings.count(kReplayBlockersCollector));
  canned::AnswerAsPrimary(&db_);  // promoted, seen on the full poll
  auto s = Poll(*poller, Slot(n));
  EXPECT_EQ(s->role(), Role::kPrimary);
  EXPECT_EQ(s->readings.count(kReplayBlockersCollector), 0u);
  s = Poll(*poller, Slot(n + 1));
  EXPECT_EQ(s->readings.count(kReplayBlockersCollector), 0u);
  EXPECT_FALSE(s->wal_receiver.has_value());
}

TEST_F(PollerTest, ALaggingReplicaReadsWhatHoldsReplayBackEveryPoll) {
  canned::AnswerAsReplica(&db_);
  const int v = db_.server_version();
  auto poller = MakePoller();
  Poll(*poller, Slot(0));
  Poll(*poller, Slot(1));
  EXPECT_EQ(db_.queries(ReplayBlockersSql(v)), 1);
  // Replay paused: the next polls read the waits, each in the batch.
  canned::RoleCells paused = canned::ReplicaRole();
  paused.server_version_num = std::to_string(v);
  paused.replay_paused = "t";
  db_.Answer(RecoverySql(v), canned::RoleRows(paused));
  Poll(*poller, Slot(2));
  EXPECT_EQ(db_.queries(ReplayBlockersSql(v)), 1);
  auto s = Poll(*poller, Slot(3));
  EXPECT_EQ(db_.queries(ReplayBlockersSql(v)), 2);
  EXPECT_EQ(s->poll_round_trips, 1u);
  s = Poll(*poller, Slot(4));
  EXPECT_EQ(db_.queries(ReplayBlockersSql(v)), 3);
}

TEST_F(PollerTest, StatementsArePreparedOncePerSessionAndAgainAfterReconnect) {
  canned::AnswerAsPrimary(&db_);
  const int v = db_.server_version();
  auto poller = MakePoller();
  for (int n = 0; n < 5; ++n) EXPECT_TRUE(Poll(*poller, Slot(n))->up);
  for (const auto& sql : Declared(collectors_, v, true)) {
    EXPECT_EQ(db_.prepares(sql), 1) << sql;
  }
  EXPECT_EQ(db_.queries(RecoverySql(v)), 5);

  // The session is lost; the next one prepares everything anew.
  db_.TimeOut(StatReplicationSql(v));
  EXPECT_EQ(Errors(*Poll(*poller, Slot(5)), Status::Kind::kTimeout), 1u);
  canned::AnswerAsPrimary(&db_);
  const size_t before = db_.asked().size();
  for (int n = 6; n < 9; ++n) EXPECT_TRUE(Poll(*poller, Slot(n))->up);
  EXPECT_EQ(db_.connects(), 2);
  // Each statement the new session ran (its first poll is full, and the
  // archiver now knows it may list archive_status): prepared once more.
  const std::vector<std::string> all = db_.asked();
  for (size_t i = before; i < all.size(); ++i) {
    const std::string& sql = all[i];
    if (sql == ServerIdentitySql()) continue;  // a simple query at connect
    const bool first_session = std::find(all.begin(), all.begin() + before,
                                         sql) != all.begin() + before;
    EXPECT_EQ(db_.prepares(sql), first_session ? 2 : 1) << sql;
  }
}

TEST_F(PollerTest, AFailingStatementFailsOnlyItsCollectorInTheBatch) {
  canned::AnswerAsReplica(&db_);
  canned::AnswerStandbys(&db_, {canned::StandbyCells{}});  // it cascades
  const int v = db_.server_version();
  auto poller = MakePoller();
  Poll(*poller, Slot(0));
  db_.Answer(StatReplicationSql(v), Status::Query("canceled"));
  auto s = Poll(*poller, Slot(1));
  EXPECT_EQ(s->poll_round_trips, 1u);
  EXPECT_TRUE(s->up);
  EXPECT_FALSE(s->CollectorOk("pg_stat_replication"));
  EXPECT_TRUE(s->CollectorOk("pg_is_in_recovery"));
  EXPECT_TRUE(s->CollectorOk("pg_stat_wal_receiver"));
  EXPECT_TRUE(s->CollectorOk("pg_replication_slots"));
  EXPECT_EQ(s->replica_state(), ReplicaState::kStreaming);
  ASSERT_TRUE(s->slots.has_value());
  EXPECT_EQ(s->last_error, "query: canceled");
  EXPECT_EQ(db_.open_sessions(), 1);
}

TEST_F(PollerTest, AFailedRoleStatementIsDownThoughTheBatchAnsweredTheRest) {
  canned::AnswerAsPrimary(&db_);
  const int v = db_.server_version();
  auto poller = MakePoller();
  Poll(*poller, Slot(0));
  db_.Answer(RecoverySql(v), Status::Query("permission denied"));
  auto s = Poll(*poller, Slot(1));
  EXPECT_FALSE(s->up);
  ASSERT_EQ(s->collectors.size(), 1u);
  EXPECT_FALSE(s->standbys.has_value());
  EXPECT_FALSE(s->slots.has_value());
  EXPECT_EQ(s->poll_round_trips, 1u);
}

TEST_F(PollerTest, AServerThatEndsTheSessionMidPollIsDown) {
  canned::AnswerAsPrimary(&db_);
  const int v = db_.server_version();
  auto poller = MakePoller();
  Poll(*poller, Slot(0));
  // A shutdown: the role's answer came, then the server ended the session.
  db_.Terminate(StatReplicationSql(v));
  auto s = Poll(*poller, Slot(1));
  EXPECT_FALSE(s->up);
  EXPECT_EQ(s->role(), Role::kUnknown);
  EXPECT_EQ(Errors(*s, Status::Kind::kQuery), 1u);
  EXPECT_EQ(db_.open_sessions(), 0);
}

TEST_F(PollerTest, AHangMidPipelineTimesOutAtTheDeadlineAndClosesTheSession) {
  canned::AnswerAsReplica(&db_);
  canned::AnswerStandbys(&db_, {canned::StandbyCells{}});  // it cascades
  const int v = db_.server_version();
  db_.Answer(ReplicationSlotsSql(v), canned::SlotRows({canned::SlotCells{}}));
  auto poller = MakePoller();
  Poll(*poller, Slot(0));
  db_.Hang(StatReplicationSql(v));
  const auto before = Clock::now();
  poller->PollOnce(before);
  auto s = Latest();
  // Bounded by the 500 ms poll timeout, with a loaded machine's slack.
  EXPECT_LT(Clock::now() - before, 3000ms);
  EXPECT_TRUE(s->up) << "the role's answer came before the hang";
  EXPECT_TRUE(s->CollectorOk("pg_stat_wal_receiver"));
  EXPECT_FALSE(s->CollectorOk("pg_stat_replication"));
  EXPECT_FALSE(s->CollectorOk("pg_replication_slots"));
  EXPECT_EQ(Errors(*s, Status::Kind::kTimeout), 1u);
  EXPECT_EQ(s->last_error.rfind("timeout: ", 0), 0u) << s->last_error;
  EXPECT_EQ(db_.open_sessions(), 0);
  EXPECT_EQ(db_.queries(ReplicationSlotsSql(v)), 1)
      << "the statement after the hang never reached the server";
  EXPECT_EQ(s->poll_round_trips, 1u) << "no live retry on a closed session";

  canned::AnswerAsReplica(&db_);
  s = Poll(*poller, Slot(2));
  EXPECT_TRUE(s->up);
  EXPECT_EQ(db_.connects(), 2);
  EXPECT_TRUE(s->CollectorOk("pg_stat_replication"));
}

TEST_F(PollerTest, StaticSettingsAreReadOnANewSessionAndEveryFewPolls) {
  canned::AnswerAsReplica(&db_);
  auto poller = MakePoller();
  auto s = Poll(*poller, Slot(0));
  EXPECT_EQ(db_.queries(IdentitySql()), 1);
  ASSERT_TRUE(s->identity.has_value());
  EXPECT_EQ(s->identity->standby_name, "replica1");

  // A reload renames the standby; polls until the refresh keep the
  // reading of the last one, so the output does not flicker.
  canned::IdentityCells renamed;
  renamed.primary_conninfo = "host=10.0.0.1 application_name=replica9";
  db_.Answer(IdentitySql(), canned::IdentityRows(renamed));
  int n = 1;
  for (; n < Poller::kFullPollEvery; ++n) {
    s = Poll(*poller, Slot(n));
    ASSERT_TRUE(s->identity.has_value());
    EXPECT_EQ(s->identity->standby_name, "replica1") << n;
    EXPECT_EQ(s->poll_round_trips, 1u) << n;
  }
  EXPECT_EQ(db_.queries(IdentitySql()), 1);
  s = Poll(*poller, Slot(n));  // the refresh poll
  EXPECT_EQ(db_.queries(IdentitySql()), 2);
  EXPECT_EQ(s->identity->standby_name, "replica9");
  EXPECT_EQ(s->poll_round_trips, 1u) << "read in the same batch";
  s = Poll(*poller, Slot(n + 1));
  EXPECT_EQ(db_.queries(IdentitySql()), 2);

  // A new session reads them again at once.
  db_.TimeOut(RecoverySql(db_.server_version()));
  Poll(*poller, Slot(n + 2));
  canned::AnswerAsReplica(&db_);
  s = Poll(*poller, Slot(n + 3));
  EXPECT_TRUE(s->up);
  EXPECT_EQ(db_.queries(IdentitySql()), 3);
  EXPECT_EQ(s->identity->standby_name, "replica1");
}

TEST_F(PollerTest, APromotedReplicaReadsTheStaticSettingsAgainAfterDemotion) {
  canned::AnswerAsPrimary(&db_);
  auto poller = MakePoller();
  Poll(*poller, Slot(0));
  Poll(*poller, Slot(1));
  EXPECT_EQ(db_.queries(IdentitySql()), 1);  // declared on the first poll
  canned::AnswerAsReplica(&db_);             // demoted: now a replica
  auto s = Poll(*poller, Slot(2));
  // Never read as a replica yet: read live at once, not after a minute.
  ASSERT_TRUE(s->identity.has_value());
  EXPECT_EQ(s->identity->standby_name, "replica1");
  // The role changed: what a replica reads and the primary's batch left
  // out is read live, each on its own round trip.
  StatementPlan replica_full;
  replica_full.server_version_num = db_.server_version();
  replica_full.role = Role::kReplica;
  std::vector<std::string> live = Declared(collectors_, replica_full);
  for (const auto& sql : Declared(collectors_, replica_full)) {
    // (the primary's steady batch: the role, the standbys, the slots)
    if (sql == RecoverySql(db_.server_version()) ||
        sql == StatReplicationSql(db_.server_version()) ||
        sql == ReplicationSlotsSql(db_.server_version())) {
      live.erase(std::find(live.begin(), live.end(), sql));
    }
  }
  EXPECT_EQ(s->poll_round_trips, 1u + live.size());
  s = Poll(*poller, Slot(3));  // the role changed: a full poll
  EXPECT_EQ(s->poll_round_trips, 1u);
  EXPECT_EQ(db_.queries(IdentitySql()), 3);
}

// A collector written only here, the way a new one is added: its class
// (SQL, parser, reading type, metrics) and one line in the list. Its data
// lives in InstanceSnapshot::readings under its name, so nothing else in
// the model, the poller or the renderer changes.
struct ArchiverReading {
  int64_t failed_count = 0;
};

class TestArchiverCollector : public Collector {
 public:
  static constexpr char kSql[] = "SELECT failed_count FROM pg_stat_archiver";
  const char* name() const override { return "test_archiver"; }
  Status Update(RowSource& db, const PollContext&,
                InstanceSnapshot* s) const override {
    auto rows = db.Query(kSql);
    if (!rows.ok()) return rows.status();
    auto failed = ParseInt(rows.value().Get(0, "failed_count"));
    if (!failed) return Status::Query("failed_count is NULL");
    s->readings[name()] = ArchiverReading{*failed};
    return Status::Ok();
  }
  void Emit(const InstanceSnapshot& s, MetricSink& sink) const override {
    const auto* r = s.Reading<ArchiverReading>(name());
    if (r == nullptr) return;  // not read this poll: no sample
    sink.Counter("test_archiver_failed_total", "Failed archive attempts.",
                 static_cast<double>(r->failed_count));
  }
};

// A sidecar: the local replica "db1" (db_) and the watch of the primary
// as clients reach it (primary_db_), sharing one ClusterHistory.
class SidecarWatchTest : public PollerTest {
 protected:
  SidecarWatchTest() {
    watch_collectors_.push_back(std::make_unique<PgIsInRecoveryCollector>());
    Poller::Options options{kInterval, 500ms, 500ms, kBackoffMax, "", true};
    watch_ = std::make_unique<Poller>(
        "main", InstanceTarget{"db-primary", "host=db-primary", true}, false,
        options, &watch_collectors_, &history_, &store_,
        FakeSessionFactory(&primary_db_));
    canned::AnswerAsPrimary(&primary_db_);  // at 0/3000148
    canned::AnswerAsReplica(&db_);          // replayed 0/3000148, streaming
    local_ = MakePoller();
  }

  // One poll slot: the watch first, then the local replica.
  SnapshotStore::Ptr PollBoth(int n) {
    watch_->PollOnce(Slot(n));
    return Poll(*local_, Slot(n) + 500ms);
  }

  void ReplicaReplayedUpTo(const char* lsn) {
    canned::RoleCells role = canned::ReplicaRole();
    role.receive_lsn = lsn;
    role.replay_lsn = lsn;
    db_.Answer(RecoverySql(db_.server_version()), canned::RoleRows(role));
  }

  void StreamBreaks() {
    db_.Answer(WalReceiverSql(db_.server_version()), canned::ReceiverRows({}));
  }

  // The primary stops: its open session times out, new ones are refused.
  void PrimaryGoes() {
    primary_db_.SetConnectResult(Status::Connect("connection refused"));
    primary_db_.TimeOut(RecoverySql(primary_db_.server_version()));
  }

  FakeDatabase primary_db_;
  std::vector<std::unique_ptr<Collector>> watch_collectors_;
  std::unique_ptr<Poller> watch_, local_;
};

TEST_F(SidecarWatchTest, TheWatchPublishesNothingAndRecordsTheReach) {
  {
    // Started on its own thread, then stopped and joined.
    Poller::Options options{kInterval, 500ms, 500ms, kBackoffMax, "", true};
    Poller started("main",
                   InstanceTarget{"db-primary", "host=db-primary", true}, false,
                   options, &watch_collectors_, &history_, &store_,
                   FakeSessionFactory(&primary_db_));
    started.Start();
    started.RequestStop();
  }
  EXPECT_TRUE(store_.All().empty());
  const int before = primary_db_.queries();
  watch_->PollOnce(Slot(0));
  EXPECT_TRUE(store_.All().empty());
  EXPECT_EQ(primary_db_.queries() - before, 2)
      << "identity at connect, then the role";
  watch_->PollOnce(Slot(1));
  EXPECT_EQ(primary_db_.queries() - before, 3) << "one short query per poll";
  PrimaryReach::State reach = history_.primary_reach.Get();
  EXPECT_TRUE(reach.watched);
  EXPECT_TRUE(reach.reachable);
  ASSERT_TRUE(history_.wal.Latest().has_value());
  EXPECT_EQ(history_.wal.Latest()->position, 0x3000148u);
}

TEST_F(SidecarWatchTest, TheWatchRetriesEveryPollWithoutBackingOff) {
  PrimaryGoes();
  std::vector<int> attempted;
  for (int n = 0; n <= 8; ++n) {
    const int before = primary_db_.connects();
    watch_->PollOnce(Slot(n));
    if (primary_db_.connects() > before) attempted.push_back(n);
  }
  // A local poller would wait 1, 2, 4, 5 intervals; the watch none.
  EXPECT_EQ(attempted, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_FALSE(history_.primary_reach.Get().reachable);
  // The primary is back: the next poll sees it.
  primary_db_.SetConnectResult(Status::Ok());
  canned::AnswerAsPrimary(&primary_db_);
  watch_->PollOnce(Slot(9));
  EXPECT_TRUE(history_.primary_reach.Get().reachable);
}

TEST_F(SidecarWatchTest, AnAttachedWatchIsPolledFirstInTheSameCycle) {
  local_->AttachPrimaryWatch(watch_.get());
  auto s = Poll(*local_, Slot(0));
  EXPECT_EQ(s->primary_reachable, true);
  EXPECT_EQ(primary_db_.queries(RecoverySql(primary_db_.server_version())), 1);
  // The primary goes and the stream breaks between two cycles: the very
  // next local poll already knows both.
  PrimaryGoes();
  StreamBreaks();
  s = Poll(*local_, Slot(1));
  EXPECT_EQ(s->primary_reachable, false);
  EXPECT_TRUE(s->serving_without_primary);
  EXPECT_EQ(store_.All().size(), 1u) << "the watch publishes nothing";
}

TEST_F(SidecarWatchTest, CaughtUpReplicaServesWithoutPrimaryOnlyOnceItIsGone) {
  auto s = PollBoth(0);
  EXPECT_EQ(s->primary_reachable, true);
  EXPECT_FALSE(s->serving_without_primary);
  EXPECT_EQ(s->replica_lag_seconds, 0.0);

  PrimaryGoes();
  StreamBreaks();
  s = PollBoth(1);
  EXPECT_EQ(s->primary_reachable, false);
  EXPECT_EQ(s->replica_state(), ReplicaState::kNoReceiver);
  EXPECT_TRUE(s->serving_without_primary);
  EXPECT_EQ(s->primary_last_seen_lsn, 0x3000148u);
  ASSERT_TRUE(s->primary_last_seen_age_seconds.has_value());
  EXPECT_GT(*s->primary_last_seen_age_seconds, 0.0);
  EXPECT_TRUE(history_.primary_reach.Get().unreachable_since.has_value());

  // The primary is back: the replica is judged by its stream again, and
  // until its receiver reconnects it is stale.
  primary_db_.SetConnectResult(Status::Ok());
  canned::AnswerAsPrimary(&primary_db_);
  for (int n = 2; n < 12 && !*s->primary_reachable; ++n) s = PollBoth(n);
  EXPECT_EQ(s->primary_reachable, true);
  EXPECT_FALSE(s->serving_without_primary);
}

TEST_F(SidecarWatchTest, ReplicaBehindTheLastSeenPrimaryDoesNotServe) {
  PollBoth(0);
  PrimaryGoes();
  StreamBreaks();
  ReplicaReplayedUpTo("0/3000100");  // 72 bytes short of 0/3000148
  auto s = PollBoth(1);
  EXPECT_EQ(s->primary_reachable, false);
  EXPECT_FALSE(s->serving_without_primary);
}

TEST_F(SidecarWatchTest, BrokenStreamWhilePrimaryIsReachableIsStale) {
  PollBoth(0);
  StreamBreaks();
  auto s = PollBoth(1);
  EXPECT_EQ(s->primary_reachable, true);
  EXPECT_EQ(s->replica_state(), ReplicaState::kNoReceiver);
  EXPECT_FALSE(s->serving_without_primary);
}

TEST_F(SidecarWatchTest, StreamCutWhilePrimaryWasReachableStaysStale) {
  PollBoth(0);
  StreamBreaks();  // cut on its own: the watch still reaches the primary
  auto s = PollBoth(1);
  EXPECT_EQ(s->primary_reachable, true);
  EXPECT_FALSE(s->serving_without_primary);
  // One failed watch poll later, the replica is still cut off, not orphaned.
  PrimaryGoes();
  s = PollBoth(2);
  EXPECT_EQ(s->primary_reachable, false);
  EXPECT_EQ(s->replica_state(), ReplicaState::kNoReceiver);
  EXPECT_FALSE(s->serving_without_primary);
}

TEST_F(SidecarWatchTest, WatchReachingAReplicaIsNoPrimary) {
  canned::AnswerAsReplica(&primary_db_);
  auto s = PollBoth(0);
  EXPECT_EQ(s->primary_reachable, false);
  EXPECT_FALSE(history_.wal.Latest().has_value());
  // Never saw a primary: nothing proves the replica is current.
  StreamBreaks();
  s = PollBoth(1);
  EXPECT_FALSE(s->serving_without_primary);
}

TEST(PollerRegistry, ANewCollectorIsItsClassPlusOneLine) {
  FakeDatabase db;
  canned::AnswerAsPrimary(&db);
  Rows rows;
  rows.columns = {"failed_count"};
  rows.values = {{std::string("7")}};
  db.Answer(TestArchiverCollector::kSql, rows);
  auto collectors = DefaultCollectors();
  collectors.push_back(std::make_unique<TestArchiverCollector>());  // line
  ClusterHistory history;
  SnapshotStore store;
  Poller poller("main", InstanceTarget{"db1", "host=db1", true}, false,
                Poller::Options{kInterval, 500ms, 500ms, kBackoffMax, ""},
                &collectors, &history, &store, FakeSessionFactory(&db));
  poller.PollOnce(Clock::now());
  auto s = store.All().at(0);
  ASSERT_TRUE(s->up);
  EXPECT_TRUE(s->CollectorOk("test_archiver"));
  // It declares no statement: its query is live, a round trip of its own.
  EXPECT_EQ(s->poll_round_trips, 3u) << "identity, batch, its live query";
  ASSERT_NE(s->Reading<ArchiverReading>("test_archiver"), nullptr);
  EXPECT_EQ(s->Reading<ArchiverReading>("test_archiver")->failed_count, 7);
  EXPECT_EQ(s->Reading<int>("test_archiver"), nullptr);  // typed
  MetricSink sink;
  collectors.back()->Emit(*s, sink);
  EXPECT_EQ(CounterValue(sink.Take(), "test_archiver_failed_total"), 7.0);

  // The next poll clears it: a failed read leaves no stale value.
  db.TimeOut(TestArchiverCollector::kSql);
  poller.PollOnce(Clock::now() + kInterval);
  s = store.All().at(0);
  EXPECT_FALSE(s->CollectorOk("test_archiver"));
  EXPECT_EQ(s->Reading<ArchiverReading>("test_archiver"), nullptr);
}

}  // namespace
}  // namespace pgrepl
