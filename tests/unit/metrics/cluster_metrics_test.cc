// Tests for exporter/metrics/cluster_metrics with hand-built snapshots.
#include "exporter/metrics/cluster_metrics.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "exporter/base/metric_sink.h"
#include "tests/unit/testing/metric_matchers.h"
#include "tests/unit/testing/snapshots.h"

namespace pgrepl {
namespace {

using namespace fixtures;  // NOLINT: the snapshot builders

std::vector<prometheus::MetricFamily> Emit(
    const std::vector<InstanceSnapshot>& v) {
  MetricSink root;
  EmitClusterView(Ptrs(v), root);
  return root.Take();
}

TEST(EmitClusterView, HealthyCluster) {
  std::vector<InstanceSnapshot> c = {Primary("pg1"),
                                     Replica("pg2", "replica2", "replica2"),
                                     Replica("pg3", "replica3", "replica3")};
  c[0].standbys->push_back(Row("replica2", "replica2"));
  c[0].standbys->push_back(Row("replica3", "replica3"));
  auto fams = Emit(c);
  EXPECT_EQ(Value(fams, "pgrepl_cluster_primaries", {{"cluster", "main"}}),
            1.0);
  EXPECT_EQ(Value(fams, "pgrepl_cluster_replicas_expected"), 2.0);
  EXPECT_EQ(Value(fams, "pgrepl_cluster_replicas_streaming"), 2.0);
  EXPECT_EQ(Value(fams, "pgrepl_cluster_instances"), 3.0);
  EXPECT_EQ(Value(fams, "pgrepl_cluster_instances_up"), 3.0);
  EXPECT_EQ(Value(fams, "pgrepl_standbys_expected", {{"instance", "pg1"}}),
            2.0);
  EXPECT_EQ(Value(fams, "pgrepl_standby_connected", {{"standby", "replica2"}}),
            1.0);
  EXPECT_EQ(Value(fams, "pgrepl_standby_connected", {{"standby", "replica3"}}),
            1.0);
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
  std::vector<InstanceSnapshot> c = {
      Stopped(Primary("pg1")),
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
  std::vector<InstanceSnapshot> c = {Primary("pg1"),
                                     Promoted(Replica("pg2", "replica2", "")),
                                     Replica("pg3", "replica3", "")};
  c[0].standbys->push_back(Row("replica3", ""));
  auto fams = Emit(c);
  EXPECT_EQ(Value(fams, "pgrepl_cluster_primaries"), 2.0);
  // Configured as a replica, so still expected as one.
  EXPECT_EQ(Value(fams, "pgrepl_cluster_replicas_expected"), 2.0);
  EXPECT_EQ(Value(fams, "pgrepl_cluster_replicas_streaming"), 1.0);
  // Each writable instance gets its own view.
  EXPECT_EQ(Value(fams, "pgrepl_standbys_expected", {{"instance", "pg1"}}),
            1.0);
  EXPECT_EQ(Value(fams, "pgrepl_standbys_expected", {{"instance", "pg2"}}),
            1.0);
  EXPECT_EQ(Value(fams, "pgrepl_standby_connected",
                  {{"instance", "pg1"}, {"standby", "replica3"}}),
            1.0);
  EXPECT_EQ(Value(fams, "pgrepl_standby_connected",
                  {{"instance", "pg2"}, {"standby", "replica3"}}),
            0.0);
}

TEST(EmitClusterView, StreamingCountsOnlyUpReplicasThatStream) {
  std::vector<InstanceSnapshot> c = {
      Primary("pg1"), Replica("pg2", "r2", "", "streaming"),
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
  EXPECT_EQ(Value(fams, "pgrepl_standbys_expected", {{"instance", "pg1"}}),
            3.0);
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
