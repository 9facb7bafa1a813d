// Tests for exporter/status_report: topology, roles, lag bands, checks.
#include "exporter/http/status_report.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <memory>

#include "exporter/model/view_rows.h"

namespace pgrepl {
namespace {

using WallClock = InstanceSnapshot::WallClock;
using std::chrono::seconds;

const WallClock::time_point kNow = WallClock::time_point(seconds(1700000000));

std::shared_ptr<InstanceSnapshot> Snap(const char* cluster, const char* name,
                                       bool primary) {
  auto s = std::make_shared<InstanceSnapshot>();
  s->cluster = cluster;
  s->instance = name;
  s->configured_primary = primary;
  s->polled = true;
  s->up = true;
  s->polled_at = kNow - seconds(1);
  s->recovery = RecoveryInfo{};
  s->recovery->in_recovery = !primary;
  if (!primary) {
    s->wal_receiver_read = true;
    s->wal_receiver = WalReceiverInfo{};
    s->wal_receiver->status = "streaming";
    s->replica_lag_seconds = 0;
    s->replica_lag_bytes = 0;
  }
  return s;
}

std::vector<SnapshotStore::Entry> Entries(
    std::initializer_list<std::shared_ptr<InstanceSnapshot>> snaps) {
  std::vector<SnapshotStore::Entry> out;
  for (const auto& s : snaps) {
    LagWindow w;
    w.Push(LagWindow::SampleOf(*s));
    out.push_back({s, w});
  }
  return out;
}

HealthPolicy Policy() {
  HealthPolicy p;
  p.default_limit.value = 10;
  p.default_limit.text = "10s";
  return p;
}

TEST(StatusReport, GroupsClustersAndPutsPrimariesFirst) {
  auto a_r = Snap("a", "a-replica", false);
  auto a_p = Snap("a", "b-primary", true);
  auto b_p = Snap("b", "solo", true);
  StatusReport r = BuildStatusReport(Entries({a_r, a_p, b_p}), Policy(), kNow);
  ASSERT_EQ(r.clusters.size(), 2u);
  EXPECT_EQ(r.clusters[0].name, "a");
  EXPECT_EQ(r.clusters[0].primaries, 1);
  ASSERT_EQ(r.clusters[0].instances.size(), 2u);
  EXPECT_EQ(r.clusters[0].instances[0].name, "b-primary");
  EXPECT_EQ(r.clusters[0].instances[0].role, Role::kPrimary);
  EXPECT_EQ(r.clusters[0].instances[1].role, Role::kReplica);
  EXPECT_EQ(r.lag_limit.text, "10s");
  ASSERT_TRUE(r.last_poll);
  EXPECT_EQ(*r.last_poll, kNow - seconds(1));
}

TEST(StatusReport, LagBands) {
  auto good = Snap("c", "good", false);
  good->replica_lag_seconds = 7.9;
  auto warn = Snap("c", "warn", false);
  warn->replica_lag_seconds = 8.0;
  auto bad = Snap("c", "bad", false);
  bad->replica_lag_seconds = 10.0;
  auto unknown = Snap("c", "unknown", false);
  unknown->replica_lag_seconds = std::numeric_limits<double>::quiet_NaN();
  auto broken = Snap("c", "broken", false);
  broken->wal_receiver.reset();
  StatusReport r = BuildStatusReport(
      Entries({good, warn, bad, unknown, broken}), Policy(), kNow);
  std::map<std::string, const InstanceStatus*> by;
  for (const auto& i : r.clusters[0].instances) by[i.name] = &i;
  EXPECT_EQ(by["good"]->lag_band, LagBand::kGood);
  EXPECT_NEAR(by["good"]->lag_fraction, 0.79, 1e-9);
  EXPECT_EQ(by["warn"]->lag_band, LagBand::kWarn);
  EXPECT_EQ(by["bad"]->lag_band, LagBand::kBad);
  EXPECT_EQ(by["unknown"]->lag_band, LagBand::kBad);
  EXPECT_FALSE(by["unknown"]->lag_seconds);  // null, not NaN or 0
  EXPECT_EQ(by["broken"]->lag_band, LagBand::kBad);
  EXPECT_FALSE(by["broken"]->wal_receiver);
  EXPECT_FALSE(by["broken"]->replica_check.ok);
  EXPECT_TRUE(by["good"]->replica_check.ok);
  EXPECT_TRUE(by["good"]->read_only_check.ok);
  EXPECT_FALSE(by["good"]->primary_check.ok);
}

TEST(StatusReport, LagCauseOfReplicas) {
  auto paused = Snap("c", "paused", false);
  paused->replica_lag_seconds = 30;
  paused->replica_lag_bytes = 5000;
  paused->recovery->receive_lsn = 10000;
  paused->recovery->replay_lsn = 5000;
  paused->recovery->replay_paused = true;
  paused->wal_receiver->flushed_lsn = 10000;
  auto fine = Snap("c", "fine", false);
  auto unread = Snap("c", "unread", false);  // its collector did not run
  for (auto* s : {paused.get(), fine.get()}) {
    s->collectors.push_back({kReplayBlockersCollector, true, 0});
    s->readings[kReplayBlockersCollector] = ReplayBlockers{};
  }
  auto primary = Snap("c", "primary", true);
  StatusReport r = BuildStatusReport(Entries({paused, fine, unread, primary}),
                                     Policy(), kNow);
  std::map<std::string, const InstanceStatus*> by;
  for (const auto& i : r.clusters[0].instances) by[i.name] = &i;
  EXPECT_EQ(by["paused"]->lag_cause, "replay_paused");
  EXPECT_EQ(by["fine"]->lag_cause, "none");
  EXPECT_FALSE(by["unread"]->lag_cause);
  EXPECT_FALSE(by["primary"]->lag_cause);
}

TEST(StatusReport, DownInstanceHasUnknownRole) {
  auto p = Snap("c", "p", true);
  p->up = false;
  p->recovery.reset();
  p->last_error = "connect: refused";
  StatusReport r = BuildStatusReport(Entries({p}), Policy(), kNow);
  const InstanceStatus& i = r.clusters[0].instances[0];
  EXPECT_EQ(i.role, Role::kUnknown);
  EXPECT_EQ(i.configured_role, Role::kPrimary);
  EXPECT_EQ(i.lag_band, LagBand::kNone);
  EXPECT_EQ(i.last_error, "connect: refused");
  EXPECT_EQ(r.clusters[0].primaries, 0);
}

TEST(StatusReport, SlotsAndStandbysOfThePrimary) {
  auto p = Snap("c", "p", true);
  SlotRow slot;
  slot.name = "r1_slot";
  slot.type = "physical";
  slot.active = true;
  slot.wal_status = "reserved";
  p->slots = std::vector<SlotRow>{slot};
  StandbyRow row;
  row.application_name = "r1";
  row.state = "streaming";
  row.sync_state = "async";
  row.slot = "r1_slot";
  p->standbys = std::vector<StandbyRow>{row};
  auto r1 = Snap("c", "r1", false);
  r1->identity = ReplicaIdentity{"r1", "r1_slot"};
  auto r2 = Snap("c", "r2", false);
  r2->identity = ReplicaIdentity{"r2", ""};
  StatusReport r = BuildStatusReport(Entries({p, r1, r2}), Policy(), kNow);
  const InstanceStatus& ps = r.clusters[0].instances[0];
  ASSERT_EQ(ps.slots.size(), 1u);
  EXPECT_EQ(ps.slots[0].name, "r1_slot");
  ASSERT_EQ(ps.standbys.size(), 2u);
  EXPECT_EQ(ps.standbys[0].name, "r1");
  EXPECT_TRUE(ps.standbys[0].connected);
  EXPECT_EQ(ps.standbys[0].state, "streaming");
  EXPECT_EQ(ps.standbys[1].name, "r2");
  EXPECT_FALSE(ps.standbys[1].connected);
}

TEST(StatusReport, EmptyStore) {
  StatusReport r = BuildStatusReport({}, Policy(), kNow);
  EXPECT_TRUE(r.clusters.empty());
  EXPECT_FALSE(r.last_poll);
}

}  // namespace
}  // namespace pgrepl
