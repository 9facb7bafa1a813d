// Tests for exporter/cluster_view with hand-built InstanceSnapshots.
#include "exporter/model/cluster_view.h"

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "exporter/base/metric_sink.h"
#include "tests/unit/testing/metric_matchers.h"

namespace pgrepl {
namespace {


InstanceSnapshot Base(const std::string& instance) {
  InstanceSnapshot s;
  s.cluster = "main";
  s.instance = instance;
  s.polled = true;
  return s;
}

InstanceSnapshot Primary(const std::string& instance) {
  InstanceSnapshot s = Base(instance);
  s.configured_primary = true;
  s.up = true;
  s.recovery = RecoveryInfo{};
  s.recovery->in_recovery = false;
  s.standbys = std::vector<StandbyRow>{};
  s.slots = std::vector<SlotRow>{};
  return s;
}

InstanceSnapshot Replica(const std::string& instance, const std::string& name,
                         const std::string& slot,
                         const std::string& receiver_status = "streaming") {
  InstanceSnapshot s = Base(instance);
  s.up = true;
  s.recovery = RecoveryInfo{};
  s.recovery->in_recovery = true;
  if (!receiver_status.empty()) {
    s.wal_receiver = WalReceiverInfo{};
    s.wal_receiver->status = receiver_status;
  }
  s.identity = ReplicaIdentity{name, slot};
  return s;
}

// The last poll failed: role and receiver are unread, the identity stays.
InstanceSnapshot Stopped(InstanceSnapshot s) {
  s.up = false;
  s.recovery.reset();
  s.wal_receiver.reset();
  return s;
}

// A replica that was promoted: it answers and is not in recovery.
InstanceSnapshot Promoted(InstanceSnapshot s) {
  s.recovery->in_recovery = false;
  s.wal_receiver.reset();
  s.standbys = std::vector<StandbyRow>{};
  s.slots = std::vector<SlotRow>{};
  return s;
}

StandbyRow Row(const std::string& name, const std::string& slot,
               const std::string& state = "streaming") {
  StandbyRow r;
  r.application_name = name;
  r.slot = slot;
  r.state = state;
  r.sync_state = "async";
  return r;
}

SlotRow Slot(const std::string& name, const std::string& type = "physical",
             bool active = false) {
  SlotRow s;
  s.name = name;
  s.type = type;
  s.active = active;
  return s;
}

std::vector<const InstanceSnapshot*> Ptrs(const std::vector<InstanceSnapshot>& v) {
  std::vector<const InstanceSnapshot*> out;
  for (const auto& s : v) out.push_back(&s);
  return out;
}

std::optional<ExpectedStandby> Find(const std::vector<ExpectedStandby>& v,
                                    const std::string& name) {
  for (const auto& e : v) {
    if (e.name == name) return e;
  }
  return std::nullopt;
}

std::vector<std::string> Names(const std::vector<ExpectedStandby>& v) {
  std::vector<std::string> out;
  for (const auto& e : v) out.push_back(e.name);
  return out;
}

std::vector<prometheus::MetricFamily> Emit(const std::vector<InstanceSnapshot>& v) {
  MetricSink root;
  EmitClusterView(Ptrs(v), root);
  return root.Take();
}

TEST(ExpectedStandbys, KnownReplicasConnectedOrNot) {
  std::vector<InstanceSnapshot> c = {
      Primary("pg1"), Replica("pg2", "replica2", "replica2"),
      Stopped(Replica("pg3", "replica3", "replica3"))};
  c[0].standbys->push_back(Row("replica2", "replica2"));
  c[0].slots->push_back(Slot("replica2", "physical", true));
  c[0].slots->push_back(Slot("replica3"));
  auto e = ExpectedStandbys(c[0], Ptrs(c));
  ASSERT_EQ(Names(e), (std::vector<std::string>{"replica2", "replica3"}));
  EXPECT_TRUE(e[0].connected);
  EXPECT_EQ(e[0].slot, "replica2");
  // Stopped: still expected under its last known name, not connected.
  EXPECT_FALSE(e[1].connected);
  EXPECT_EQ(e[1].slot, "replica3");
}

TEST(ExpectedStandbys, ConnectedBySlotUnderAnotherName) {
  // The row shows a different application_name but uses the slot the
  // replica is configured with.
  std::vector<InstanceSnapshot> c = {Primary("pg1"),
                                     Replica("pg2", "replica2", "slot2")};
  c[0].standbys->push_back(Row("walreceiver", "slot2"));
  c[0].slots->push_back(Slot("slot2", "physical", true));
  auto e = ExpectedStandbys(c[0], Ptrs(c));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].name, "replica2");
  EXPECT_TRUE(e[0].connected);
}

TEST(ExpectedStandbys, SlotlessReplicaMatchesByNameOnly) {
  std::vector<InstanceSnapshot> c = {Primary("pg1"), Replica("pg2", "replica2", "")};
  c[0].standbys->push_back(Row("someone-else", ""));
  auto e = ExpectedStandbys(c[0], Ptrs(c));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].slot, "");
  // An empty slot never matches a slot-less row.
  EXPECT_FALSE(e[0].connected);
  c[0].standbys->push_back(Row("replica2", ""));
  e = ExpectedStandbys(c[0], Ptrs(c));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_TRUE(e[0].connected);
}

TEST(ExpectedStandbys, UnclaimedPhysicalSlotIsExpectedUnderItsName) {
  std::vector<InstanceSnapshot> c = {Primary("pg1"),
                                     Replica("pg2", "replica2", "replica2")};
  c[0].slots->push_back(Slot("replica2"));
  c[0].slots->push_back(Slot("dr_site"));  // an unmonitored standby's slot
  auto e = ExpectedStandbys(c[0], Ptrs(c));
  ASSERT_EQ(Names(e), (std::vector<std::string>{"dr_site", "replica2"}));
  EXPECT_EQ(e[0].slot, "dr_site");
  EXPECT_FALSE(e[0].connected);
}

TEST(ExpectedStandbys, UnclaimedSlotInUseIsExpectedUnderTheRowsName) {
  std::vector<InstanceSnapshot> c = {Primary("pg1")};
  c[0].slots->push_back(Slot("dr_slot", "physical", true));
  c[0].standbys->push_back(Row("dr-standby", "dr_slot"));
  auto e = ExpectedStandbys(c[0], Ptrs(c));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].name, "dr-standby");
  EXPECT_EQ(e[0].slot, "dr_slot");
  EXPECT_TRUE(e[0].connected);
}

TEST(ExpectedStandbys, LogicalSlotsAreIgnored) {
  std::vector<InstanceSnapshot> c = {Primary("pg1")};
  c[0].slots->push_back(Slot("cdc", "logical", true));
  c[0].slots->push_back(Slot("debezium", "logical", false));
  EXPECT_TRUE(ExpectedStandbys(c[0], Ptrs(c)).empty());
}

TEST(ExpectedStandbys, PromotedReplicaIsNotExpected) {
  std::vector<InstanceSnapshot> c = {
      Primary("pg1"), Replica("pg2", "replica2", ""),
      Promoted(Replica("pg3", "replica3", ""))};
  auto e = ExpectedStandbys(c[0], Ptrs(c));
  EXPECT_EQ(Names(e), (std::vector<std::string>{"replica2"}));
  EXPECT_FALSE(Find(e, "replica3").has_value());
}

TEST(ExpectedStandbys, NeverPolledReplicaAndThePrimaryItselfAreSkipped) {
  std::vector<InstanceSnapshot> c = {Primary("pg1"), Stopped(Base("pg2"))};
  // A former replica keeps its sticky identity after promotion.
  c[0].identity = ReplicaIdentity{"pg1-as-replica", "pg1slot"};
  EXPECT_TRUE(ExpectedStandbys(c[0], Ptrs(c)).empty());
}

TEST(ExpectedStandbys, WorksWithoutStandbyOrSlotRows) {
  std::vector<InstanceSnapshot> c = {Primary("pg1"), Replica("pg2", "b", "b"),
                                     Replica("pg3", "a", "")};
  c[0].standbys.reset();
  c[0].slots.reset();
  auto e = ExpectedStandbys(c[0], Ptrs(c));
  ASSERT_EQ(Names(e), (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(e[0].connected);
  EXPECT_FALSE(e[1].connected);
}

TEST(ExpectedStandbys, ClaimedSlotIsNotListedTwice) {
  std::vector<InstanceSnapshot> c = {Primary("pg1"),
                                     Replica("pg2", "replica2", "slot_b")};
  c[0].slots->push_back(Slot("slot_b", "physical", true));
  c[0].standbys->push_back(Row("replica2", "slot_b"));
  auto e = ExpectedStandbys(c[0], Ptrs(c));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].name, "replica2");
  EXPECT_EQ(e[0].slot, "slot_b");
}

TEST(EmitClusterView, HealthyCluster) {
  std::vector<InstanceSnapshot> c = {
      Primary("pg1"), Replica("pg2", "replica2", "replica2"),
      Replica("pg3", "replica3", "replica3")};
  c[0].standbys->push_back(Row("replica2", "replica2"));
  c[0].standbys->push_back(Row("replica3", "replica3"));
  auto fams = Emit(c);
  EXPECT_EQ(Value(fams, "pgrepl_cluster_primaries", {{"cluster", "main"}}), 1.0);
  EXPECT_EQ(Value(fams, "pgrepl_cluster_replicas_expected"), 2.0);
  EXPECT_EQ(Value(fams, "pgrepl_cluster_replicas_streaming"), 2.0);
  EXPECT_EQ(Value(fams, "pgrepl_cluster_instances"), 3.0);
  EXPECT_EQ(Value(fams, "pgrepl_cluster_instances_up"), 3.0);
  EXPECT_EQ(Value(fams, "pgrepl_standbys_expected", {{"instance", "pg1"}}), 2.0);
  EXPECT_EQ(Value(fams, "pgrepl_standby_connected", {{"standby", "replica2"}}), 1.0);
  EXPECT_EQ(Value(fams, "pgrepl_standby_connected", {{"standby", "replica3"}}), 1.0);
}

TEST(EmitClusterView, ClusterSeriesCarryOnlyTheClusterLabel) {
  std::vector<InstanceSnapshot> c = {Primary("pg1")};
  auto fams = Emit(c);
  auto m = Matches(fams, "pgrepl_cluster_primaries", {});
  ASSERT_EQ(m.size(), 1u);
  ASSERT_EQ(m[0]->label.size(), 1u);
  EXPECT_EQ(m[0]->label[0].name, "cluster");
  EXPECT_EQ(m[0]->label[0].value, "main");
  auto p = Matches(fams, "pgrepl_standbys_expected", {});
  ASSERT_EQ(p.size(), 1u);
  Labels got;
  for (const auto& l : p[0]->label) got[l.name] = l.value;
  EXPECT_EQ(got, (Labels{{"cluster", "main"}, {"instance", "pg1"}}));
  EXPECT_EQ(p[0]->gauge.value, 0.0);
}

TEST(EmitClusterView, NoPrimary) {
  std::vector<InstanceSnapshot> c = {Stopped(Primary("pg1")),
                                     Replica("pg2", "replica2", "replica2", "waiting")};
  auto fams = Emit(c);
  EXPECT_EQ(Value(fams, "pgrepl_cluster_primaries"), 0.0);
  EXPECT_EQ(Value(fams, "pgrepl_cluster_replicas_expected"), 1.0);
  EXPECT_EQ(Value(fams, "pgrepl_cluster_replicas_streaming"), 0.0);
  EXPECT_EQ(Value(fams, "pgrepl_cluster_instances"), 2.0);
  EXPECT_EQ(Value(fams, "pgrepl_cluster_instances_up"), 1.0);
  // No primary answers: no per-primary series at all.
  EXPECT_TRUE(Matches(fams, "pgrepl_standbys_expected", {}).empty());
  EXPECT_TRUE(Matches(fams, "pgrepl_standby_connected", {}).empty());
}

TEST(EmitClusterView, SplitBrain) {
  std::vector<InstanceSnapshot> c = {
      Primary("pg1"), Promoted(Replica("pg2", "replica2", "")),
      Replica("pg3", "replica3", "")};
  c[0].standbys->push_back(Row("replica3", ""));
  auto fams = Emit(c);
  EXPECT_EQ(Value(fams, "pgrepl_cluster_primaries"), 2.0);
  // Configured as a replica, so still expected as one.
  EXPECT_EQ(Value(fams, "pgrepl_cluster_replicas_expected"), 2.0);
  EXPECT_EQ(Value(fams, "pgrepl_cluster_replicas_streaming"), 1.0);
  // Each writable instance gets its own view.
  EXPECT_EQ(Value(fams, "pgrepl_standbys_expected", {{"instance", "pg1"}}), 1.0);
  EXPECT_EQ(Value(fams, "pgrepl_standbys_expected", {{"instance", "pg2"}}), 1.0);
  EXPECT_EQ(Value(fams, "pgrepl_standby_connected",
                  {{"instance", "pg1"}, {"standby", "replica3"}}),
            1.0);
  EXPECT_EQ(Value(fams, "pgrepl_standby_connected",
                  {{"instance", "pg2"}, {"standby", "replica3"}}),
            0.0);
}

TEST(EmitClusterView, StreamingCountsOnlyUpReplicasThatStream) {
  std::vector<InstanceSnapshot> c = {
      Primary("pg1"),
      Replica("pg2", "r2", "", "streaming"),
      Replica("pg3", "r3", "", "waiting"),
      Replica("pg4", "r4", "", ""),  // no WAL receiver at all
      Replica("pg5", "r5", "", "streaming")};
  c[4].up = false;  // stale receiver data must not count
  auto fams = Emit(c);
  EXPECT_EQ(Value(fams, "pgrepl_cluster_replicas_streaming"), 1.0);
  EXPECT_EQ(Value(fams, "pgrepl_cluster_replicas_expected"), 4.0);
  EXPECT_EQ(Value(fams, "pgrepl_cluster_instances_up"), 4.0);
}

TEST(EmitClusterView, DiscoveredReplicasAreExpected) {
  std::vector<InstanceSnapshot> c = {Primary("pg1"), Replica("pg2", "r2", "")};
  c[1].discovered = true;
  auto fams = Emit(c);
  EXPECT_EQ(Value(fams, "pgrepl_cluster_replicas_expected"), 1.0);
}

TEST(EmitClusterView, VanishedStandbyIsZeroNotAbsent) {
  std::vector<InstanceSnapshot> c = {
      Primary("pg1"), Replica("pg2", "replica2", "replica2"),
      Stopped(Replica("pg3", "replica3", "replica3"))};
  c[0].standbys->push_back(Row("replica2", "replica2"));
  c[0].slots->push_back(Slot("replica2", "physical", true));
  c[0].slots->push_back(Slot("replica3"));
  c[0].slots->push_back(Slot("old_standby"));
  auto fams = Emit(c);
  EXPECT_EQ(Value(fams, "pgrepl_standbys_expected", {{"instance", "pg1"}}), 3.0);
  EXPECT_EQ(Value(fams, "pgrepl_standby_connected",
                  {{"cluster", "main"},
                   {"instance", "pg1"},
                   {"standby", "replica2"},
                   {"slot", "replica2"}}),
            1.0);
  EXPECT_EQ(Value(fams, "pgrepl_standby_connected",
                  {{"standby", "replica3"}, {"slot", "replica3"}}),
            0.0);
  EXPECT_EQ(Value(fams, "pgrepl_standby_connected",
                  {{"standby", "old_standby"}, {"slot", "old_standby"}}),
            0.0);
}

TEST(EmitClusterView, PrimaryWithoutStandbyRowsHasNoPerPrimarySeries) {
  std::vector<InstanceSnapshot> c = {Primary("pg1"), Replica("pg2", "r2", "")};
  c[0].standbys.reset();  // pg_stat_replication could not be read
  auto fams = Emit(c);
  EXPECT_EQ(Value(fams, "pgrepl_cluster_primaries"), 1.0);
  EXPECT_TRUE(Matches(fams, "pgrepl_standbys_expected", {}).empty());
  EXPECT_TRUE(Matches(fams, "pgrepl_standby_connected", {}).empty());
}

TEST(EmitClusterView, EmptyClusterEmitsNothing) {
  MetricSink root;
  EmitClusterView({}, root);
  EXPECT_TRUE(root.Take().empty());
}

}  // namespace
}  // namespace pgrepl
