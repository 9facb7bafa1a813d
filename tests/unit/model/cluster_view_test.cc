// Tests for exporter/model/cluster_view with hand-built InstanceSnapshots.
#include "exporter/model/cluster_view.h"

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tests/unit/testing/snapshots.h"

namespace pgrepl {
namespace {

using namespace fixtures;  // NOLINT: the snapshot builders

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
  std::vector<InstanceSnapshot> c = {Primary("pg1"),
                                     Replica("pg2", "replica2", "")};
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
  std::vector<InstanceSnapshot> c = {Primary("pg1"),
                                     Replica("pg2", "replica2", ""),
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

}  // namespace
}  // namespace pgrepl
