// Tests for exporter/poll/fleet: pollers of static and DNS-discovered
// instances on a fake server and a fake resolver, seen through the
// SnapshotStore.
#include "exporter/poll/fleet.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "exporter/collector/pg_is_in_recovery.h"
#include "exporter/model/server_merge.h"
#include "exporter/model/snapshot_store.h"
#include "exporter/pg/conninfo.h"
#include "tests/unit/testing/canned_rows.h"
#include "tests/unit/testing/fake_session.h"
#include "tests/unit/testing/wait_until.h"

namespace pgrepl {
namespace {

using namespace std::chrono_literals;

constexpr char kCluster[] = "main";
constexpr char kDiscoveryHost[] = "replicas.main.svc";

// A Resolver whose answer the test sets; it records the names asked.
class FakeResolver {
 public:
  void Set(Result<std::vector<DiscoveredAddress>> answer) {
    std::lock_guard<std::mutex> lock(mu_);
    answer_ = std::move(answer);
  }
  Resolver resolver() {
    return [this](const std::string& host,
                  std::chrono::steady_clock::time_point /*deadline*/) {
      std::lock_guard<std::mutex> lock(mu_);
      hosts_.push_back(host);
      return answer_;
    };
  }
  std::vector<std::string> hosts() const {
    std::lock_guard<std::mutex> lock(mu_);
    return hosts_;
  }

 private:
  mutable std::mutex mu_;
  Result<std::vector<DiscoveredAddress>> answer_ =
      std::vector<DiscoveredAddress>{};  // GUARDED_BY(mu_)
  std::vector<std::string> hosts_;       // GUARDED_BY(mu_)
};

// The keyword `key` of `conninfo`, parsed as libpq does; "" when unset.
std::string Keyword(const std::string& conninfo, const std::string& key) {
  auto parsed = ParseConninfo(conninfo);
  if (!parsed.ok()) return "<malformed>";
  auto it = parsed.value().find(key);
  return it == parsed.value().end() ? "" : it->second;
}

class FleetTest : public ::testing::Test {
 protected:
  FleetTest() {
    config_.poll_interval = 20ms;
    config_.poll_timeout = 300ms;
    config_.connect_timeout = 300ms;
    config_.reconnect_backoff_max = 100ms;
    ClusterConfig cluster;
    cluster.name = kCluster;
    cluster.instances = {InstanceTarget{"primary", "host=primary", true}};
    cluster.discovery.host = kDiscoveryHost;
    cluster.discovery.port = 5433;
    cluster.discovery.base_conninfo = "user=monitor dbname=postgres";
    config_.clusters = {cluster};
    canned::AnswerAsReplica(&db_);
  }

  void MakeFleet() {
    fleet_ =
        std::make_unique<Fleet>(config_, &collectors_, &store_,
                                FakeSessionFactory(&db_), resolver_.resolver());
  }

  // The latest snapshot of `instance` in the cluster; null when none.
  SnapshotStore::Ptr Find(const std::string& instance) const {
    for (const auto& s : store_.All()) {
      if (s->cluster == kCluster && s->instance == instance) return s;
    }
    return nullptr;
  }

  // True once `instance` has a polled snapshot that is up.
  bool PolledUp(const std::string& instance) const {
    auto s = Find(instance);
    return s && s->polled && s->up;
  }

  SnapshotStore::Discovery DiscoveryStats() const {
    return store_.Discoveries()[kCluster];
  }

  // Declared before the fleet, which must go first.
  Config config_;
  FakeDatabase db_;
  FakeResolver resolver_;
  const std::vector<std::unique_ptr<Collector>> collectors_ =
      DefaultCollectors();
  SnapshotStore store_;
  std::unique_ptr<Fleet> fleet_;
};

TEST_F(FleetTest, DiscoveredReplicaAppearsUnderItsResolvedName) {
  resolver_.Set(std::vector<DiscoveredAddress>{{"10.0.0.5", "pg-replica-0"}});
  MakeFleet();
  fleet_->DiscoverNow();
  EXPECT_EQ(resolver_.hosts(), std::vector<std::string>{kDiscoveryHost});
  auto s = Find("pg-replica-0");
  ASSERT_TRUE(s);  // published by Start() before DiscoverNow() returns
  EXPECT_TRUE(s->discovered);
  EXPECT_FALSE(s->configured_primary);

  // One session for the static target, one for the discovered replica.
  auto made = db_.sessions_made();
  ASSERT_EQ(made.size(), 2u);
  EXPECT_EQ(Keyword(made[1], "hostaddr"), "10.0.0.5");
  EXPECT_EQ(Keyword(made[1], "host"), kDiscoveryHost);
  EXPECT_EQ(Keyword(made[1], "port"), "5433");
  EXPECT_EQ(Keyword(made[1], "user"), "monitor");
  EXPECT_EQ(Keyword(made[1], "dbname"), "postgres");

  ASSERT_TRUE(WaitUntil([&] { return PolledUp("pg-replica-0"); }));
  EXPECT_EQ(Find("pg-replica-0")->role(), Role::kReplica);
  EXPECT_EQ(Find("primary"), nullptr);  // static pollers wait for Start()
  EXPECT_EQ(DiscoveryStats().discovered, 1u);
  EXPECT_TRUE(DiscoveryStats().resolved_once);
  EXPECT_EQ(DiscoveryStats().errors, 0u);
}

TEST_F(FleetTest, DiscoveredReplicaDisappearsFromTheStore) {
  resolver_.Set(std::vector<DiscoveredAddress>{{"10.0.0.5", "pg-replica-0"},
                                               {"10.0.0.6", "pg-replica-1"}});
  MakeFleet();
  fleet_->DiscoverNow();
  ASSERT_TRUE(WaitUntil(
      [&] { return PolledUp("pg-replica-0") && PolledUp("pg-replica-1"); }));
  EXPECT_EQ(db_.open_sessions(), 2);

  resolver_.Set(std::vector<DiscoveredAddress>{{"10.0.0.6", "pg-replica-1"}});
  fleet_->DiscoverNow();
  EXPECT_EQ(Find("pg-replica-0"), nullptr);
  EXPECT_TRUE(Find("pg-replica-1"));
  EXPECT_EQ(DiscoveryStats().discovered, 1u);
  EXPECT_EQ(db_.open_sessions(), 1);  // its poller stopped and closed

  resolver_.Set(std::vector<DiscoveredAddress>{});
  fleet_->DiscoverNow();
  EXPECT_TRUE(store_.All().empty());
  EXPECT_EQ(DiscoveryStats().discovered, 0u);
  EXPECT_EQ(db_.open_sessions(), 0);
}

TEST_F(FleetTest, MovedReplicaIsFollowedToItsNewAddress) {
  resolver_.Set(std::vector<DiscoveredAddress>{{"10.0.0.5", "pg-replica-0"}});
  MakeFleet();
  fleet_->DiscoverNow();
  ASSERT_TRUE(WaitUntil([&] { return PolledUp("pg-replica-0"); }));
  EXPECT_EQ(Find("pg-replica-0")->connects, 1u);

  // The pod restarted with a new address and the same name.
  resolver_.Set(std::vector<DiscoveredAddress>{{"10.0.0.9", "pg-replica-0"}});
  fleet_->DiscoverNow();
  ASSERT_TRUE(WaitUntil([&] {
    auto s = Find("pg-replica-0");
    return s && s->connects == 2 && s->up;
  }));
  auto made = db_.sessions_made();
  ASSERT_EQ(made.size(), 3u);  // static, first address, new address
  EXPECT_EQ(Keyword(made[2], "hostaddr"), "10.0.0.9");
  EXPECT_EQ(Keyword(db_.connect_conninfos().back(), "hostaddr"), "10.0.0.9");
  EXPECT_EQ(store_.All().size(), 1u);
  EXPECT_EQ(DiscoveryStats().discovered, 1u);
  EXPECT_EQ(db_.open_sessions(), 1);  // the old address's session closed
}

TEST_F(FleetTest, ResolverErrorsAreCountedAndKeepThePollers) {
  resolver_.Set(std::vector<DiscoveredAddress>{{"10.0.0.5", "pg-replica-0"}});
  MakeFleet();
  fleet_->DiscoverNow();
  ASSERT_TRUE(WaitUntil([&] { return PolledUp("pg-replica-0"); }));

  resolver_.Set(Status::Io("resolving replicas.main.svc: temporary failure"));
  fleet_->DiscoverNow();
  fleet_->DiscoverNow();
  EXPECT_EQ(DiscoveryStats().errors, 2u);
  EXPECT_EQ(DiscoveryStats().discovered, 1u);  // the last answer still holds
  ASSERT_TRUE(Find("pg-replica-0"));
  // Its poller still polls.
  const int queries = db_.queries();
  EXPECT_TRUE(WaitUntil([&] { return db_.queries() > queries; }));
  EXPECT_EQ(db_.sessions_made().size(), 2u);

  resolver_.Set(std::vector<DiscoveredAddress>{{"10.0.0.5", "pg-replica-0"}});
  fleet_->DiscoverNow();
  EXPECT_EQ(DiscoveryStats().errors, 2u);
  EXPECT_EQ(db_.sessions_made().size(), 2u);  // the same poller
  EXPECT_EQ(Find("pg-replica-0")->connects, 1u);
}

TEST_F(FleetTest, StaticTargetsStartOnStart) {
  config_.clusters[0].instances.push_back(
      InstanceTarget{"replica", "host=replica", false});
  MakeFleet();
  EXPECT_TRUE(store_.All().empty());
  EXPECT_EQ(db_.connects(), 0);
  fleet_->Start();
  ASSERT_TRUE(
      WaitUntil([&] { return PolledUp("primary") && PolledUp("replica"); }));
  EXPECT_TRUE(Find("primary")->configured_primary);
  EXPECT_FALSE(Find("primary")->discovered);
  EXPECT_FALSE(Find("replica")->configured_primary);
  // Start() also starts the cluster's discovery.
  EXPECT_TRUE(WaitUntil([&] {
    for (const auto& h : resolver_.hosts()) {
      if (h == kDiscoveryHost) return true;
    }
    return false;
  }));
}

TEST_F(FleetTest, ConfiguredPrimaryIsNamedAfterItsPodAndMerged) {
  // The fake server answers every session from kServerAddress; the
  // resolver names that address after its pod, and the discovery name
  // resolves to it too: two targets, one server.
  config_.clusters[0].instances.push_back(
      InstanceTarget{"replica", "host=replica", false});
  resolver_.Set(std::vector<DiscoveredAddress>{
      {canned::kServerAddress, "postgres-primary-0"}});
  MakeFleet();
  fleet_->Start();
  ASSERT_TRUE(WaitUntil([&] {
    auto p = Find("primary");
    return p && p->server_name == "postgres-primary-0" &&
           PolledUp("postgres-primary-0") && PolledUp("replica");
  }));
  EXPECT_EQ(Find("replica")->server_name, "")
      << "only the configured primary is named";
  // The store keeps one snapshot per target; the shown view one per server.
  // (All three reach the one fake server here.)
  auto shown = MergeSameServer(store_.Entries());
  ASSERT_EQ(shown.size(), 1u);
  EXPECT_EQ(shown[0].snapshot->instance, "postgres-primary-0");
  EXPECT_EQ(shown[0].snapshot->aliases,
            (std::vector<std::string>{"primary", "replica"}));
}

TEST_F(FleetTest, PrimaryIsNotNamedWithoutDiscovery) {
  config_.clusters[0].discovery.host.clear();
  resolver_.Set(std::vector<DiscoveredAddress>{
      {canned::kServerAddress, "postgres-primary-0"}});
  MakeFleet();
  fleet_->Start();
  ASSERT_TRUE(WaitUntil([&] { return PolledUp("primary"); }));
  EXPECT_EQ(Find("primary")->server_name, "");
  EXPECT_TRUE(resolver_.hosts().empty()) << "no lookup at all";
}

TEST_F(FleetTest, DestructionWithHungPollersTakesAboutOnePollTimeout) {
  for (const char* name : {"replica-a", "replica-b", "replica-c"}) {
    config_.clusters[0].instances.push_back(
        InstanceTarget{name, std::string("host=") + name, false});
  }
  resolver_.Set(std::vector<DiscoveredAddress>{{"10.0.0.5", "pg-replica-0"}});
  // A frozen server: every role query blocks for a whole poll timeout.
  db_.Hang(RecoverySql(db_.server_version()));
  MakeFleet();
  fleet_->Start();
  fleet_->DiscoverNow();
  const int pollers = 5;
  ASSERT_TRUE(WaitUntil([&] { return db_.blocked() == pollers; }));

  const auto t0 = std::chrono::steady_clock::now();
  fleet_.reset();
  const auto took = std::chrono::steady_clock::now() - t0;
  // Stopped one after the other, each poller would start another hung
  // poll while it waits its turn: about `pollers` timeouts in all.
  EXPECT_LT(took, 3 * config_.poll_timeout)
      << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
      << " ms";
  EXPECT_EQ(db_.blocked(), 0);
  EXPECT_EQ(db_.open_sessions(), 0);
  EXPECT_TRUE(Find("primary"));  // static snapshots stay
}

// The discovery thread, woken by the same stop as ~Fleet, may take the
// cluster's lock first; it must then ask all its pollers to stop before
// joining any, or N hung discovered replicas out of step with one another
// delay shutdown by up to N poll timeouts. 100 idle static pollers make
// ~Fleet slow to reach the lock, so the discovery thread often wins.
TEST_F(FleetTest, DestructionStopsDiscoveredPollersAtOnce) {
  config_.poll_timeout = 200ms;
  for (int i = 0; i < 100; ++i) {
    const std::string name = "static-" + std::to_string(i);
    config_.clusters[0].instances.push_back({name, "host=" + name, false});
  }
  // The static instances answer; the discovered ones are frozen.
  FakeDatabase frozen;
  frozen.Hang(RecoverySql(frozen.server_version()));
  SessionFactory to_db = FakeSessionFactory(&db_);
  SessionFactory to_frozen = FakeSessionFactory(&frozen);
  // The fleet must go before the locals its factory refers to.
  struct Stop {
    std::unique_ptr<Fleet>& fleet;
    ~Stop() { fleet.reset(); }
  } stop{fleet_};
  fleet_ = std::make_unique<Fleet>(
      config_, &collectors_, &store_,
      [&](const std::string& conninfo, const std::string& password) {
        return Keyword(conninfo, "hostaddr").empty()
                   ? to_db(conninfo, password)
                   : to_frozen(conninfo, password);
      },
      resolver_.resolver());
  // Three replicas discovered 50 ms apart, so their hung polls end apart.
  std::vector<DiscoveredAddress> found;
  for (const char* name : {"pg-replica-2", "pg-replica-1", "pg-replica-0"}) {
    found.push_back({"10.0.0." + std::to_string(found.size() + 5), name});
    resolver_.Set(found);
    fleet_->DiscoverNow();
    const int n = static_cast<int>(found.size());
    ASSERT_TRUE(WaitUntil([&] { return frozen.blocked() == n; }));
    std::this_thread::sleep_for(50ms);
  }
  fleet_->Start();
  ASSERT_TRUE(WaitUntil([&] { return store_.All().size() == 104u; }));

  const auto t0 = std::chrono::steady_clock::now();
  fleet_.reset();
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(took, 3 * config_.poll_timeout / 2)
      << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
      << " ms";
}

// When the discovery thread stops, its pollers' snapshots leave the store
// after the pollers are joined: a poller in the middle of a cycle would
// otherwise publish again after the removal, and the departed instance
// would stay in the store.
TEST_F(FleetTest, StoppedDiscoveryLeavesNoSnapshotOfItsPollers) {
  resolver_.Set(std::vector<DiscoveredAddress>{{"10.0.0.5", "pg-replica-0"}});
  db_.Hang(RecoverySql(db_.server_version()));
  MakeFleet();
  fleet_->Start();
  fleet_->DiscoverNow();
  // The static primary and the discovered replica are both mid-poll.
  ASSERT_TRUE(WaitUntil([&] { return db_.blocked() == 2; }));
  fleet_.reset();
  EXPECT_EQ(Find("pg-replica-0"), nullptr);
  EXPECT_TRUE(Find("primary"));
}

}  // namespace
}  // namespace pgrepl
