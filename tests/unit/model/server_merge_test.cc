// Tests for exporter/model/server_merge: targets that reach one server
// are shown as one instance; different servers never are.
#include "exporter/model/server_merge.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "exporter/base/metric_sink.h"
#include "exporter/metrics/cluster_metrics.h"
#include "tests/unit/testing/metric_matchers.h"
#include "tests/unit/testing/snapshots.h"

namespace pgrepl {
namespace {

using namespace fixtures;  // NOLINT: the snapshot builders

constexpr char kSystem[] = "7714835322823784349";

// `s` as having reached the server started at `start` (same system
// identifier: physical replicas share it).
InstanceSnapshot On(InstanceSnapshot s, const std::string& start,
                    const std::string& address = "10.0.0.1") {
  s.server = ServerIdentity{kSystem, start, address};
  return s;
}

InstanceSnapshot Discovered(InstanceSnapshot s) {
  s.configured_primary = false;
  s.discovered = true;
  return s;
}

std::vector<SnapshotStore::Entry> Entries(
    const std::vector<InstanceSnapshot>& v) {
  std::vector<SnapshotStore::Entry> out;
  for (const auto& s : v) {
    out.push_back({std::make_shared<const InstanceSnapshot>(s), {}});
  }
  return out;
}

std::vector<std::string> Names(const std::vector<SnapshotStore::Entry>& v) {
  std::vector<std::string> out;
  for (const auto& e : v) out.push_back(e.snapshot->instance);
  return out;
}

const InstanceSnapshot* Find(const std::vector<SnapshotStore::Entry>& v,
                             const std::string& name) {
  for (const auto& e : v) {
    if (e.snapshot->instance == name) return e.snapshot.get();
  }
  return nullptr;
}

// The cluster metrics of merged entries, as /metrics renders them.
std::vector<prometheus::MetricFamily> ClusterMetrics(
    const std::vector<SnapshotStore::Entry>& v) {
  std::vector<const InstanceSnapshot*> cluster;
  for (const auto& e : v) cluster.push_back(e.snapshot.get());
  MetricSink root;
  EmitClusterView(cluster, root);
  return root.Take();
}

TEST(MergeSameServer, DistinctServersPassThroughUnchanged) {
  auto in = Entries({On(Primary("pg1"), "t1"),
                     On(Discovered(Replica("pod-1", "pod-1", "s1")), "t2"),
                     On(Discovered(Replica("pod-2", "pod-2", "s2")), "t3")});
  auto out = MergeSameServer(in);
  ASSERT_EQ(out.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(out[i].snapshot, in[i].snapshot) << "the published pointer";
    EXPECT_TRUE(out[i].snapshot->aliases.empty());
  }
}

TEST(MergeSameServer, WriteEndpointAndPromotedPodAreOneInstance) {
  // After a failover: DB_HOST (the Service) and the discovered address of
  // the promoted pod reach the same server; the other replica follows it.
  InstanceSnapshot endpoint = On(Primary("postgres-primary"), "t2", "10.0.0.2");
  endpoint.server_name = "pod-1";
  endpoint.connects = 1;
  InstanceSnapshot pod1 =
      On(Promoted(Discovered(Replica("pod-1", "pod-1", "s1"))), "t2");
  pod1.connects = 7;
  pod1.role_changes = 1;
  InstanceSnapshot pod2 = On(Discovered(Replica("pod-2", "pod-2", "s2")), "t3");
  pod1.standbys->push_back(Row("pod-2", "s2"));
  auto out = MergeSameServer(Entries({endpoint, pod1, pod2}));

  EXPECT_EQ(Names(out), (std::vector<std::string>{"pod-1", "pod-2"}));
  const InstanceSnapshot* p = Find(out, "pod-1");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->aliases, std::vector<std::string>{"postgres-primary"});
  EXPECT_EQ(p->connects, 7u) << "the discovered target's readings";
  EXPECT_EQ(p->role_changes, 1u);
  EXPECT_TRUE(p->configured_primary) << "the write endpoint reaches it";
  EXPECT_TRUE(p->discovered);

  auto fams = ClusterMetrics(out);
  EXPECT_EQ(Value(fams, "pgrepl_cluster_primaries", {{"cluster", "main"}}),
            1.0);
  EXPECT_EQ(Value(fams, "pgrepl_cluster_instances"), 2.0);
  EXPECT_EQ(Value(fams, "pgrepl_cluster_replicas_expected"), 1.0)
      << "only pod-2 is expected to stream";
  EXPECT_EQ(Value(fams, "pgrepl_cluster_replicas_streaming"), 1.0);
}

TEST(MergeSameServer, WithoutMergeTheSameServerCountsTwice) {
  // The defect the merge removes: both targets rendered as they come.
  InstanceSnapshot endpoint = On(Primary("postgres-primary"), "t2");
  InstanceSnapshot pod1 =
      On(Promoted(Discovered(Replica("pod-1", "pod-1", "s1"))), "t2");
  auto raw = Entries({endpoint, pod1});
  EXPECT_EQ(Value(ClusterMetrics(raw), "pgrepl_cluster_primaries"), 2.0);
  EXPECT_EQ(
      Value(ClusterMetrics(MergeSameServer(raw)), "pgrepl_cluster_primaries"),
      1.0);
}

TEST(MergeSameServer, RealSplitBrainStillCountsTwo) {
  // Two servers of one database cluster, both writable: same system
  // identifier, different postmasters.
  auto out = MergeSameServer(
      Entries({On(Primary("postgres-primary"), "t1", "10.0.0.1"),
               On(Promoted(Discovered(Replica("pod-1", "pod-1", "s1"))), "t2",
                  "10.0.0.2")}));
  EXPECT_EQ(out.size(), 2u);
  EXPECT_EQ(Value(ClusterMetrics(out), "pgrepl_cluster_primaries"), 2.0);
}

TEST(MergeSameServer, UnknownServerIsNeverMerged) {
  InstanceSnapshot a = Primary("a");  // identity unreadable
  InstanceSnapshot b = Discovered(Primary("b"));
  InstanceSnapshot c = On(Discovered(Primary("c")), "");  // start unknown
  InstanceSnapshot d = On(Discovered(Primary("d")), "");
  EXPECT_EQ(MergeSameServer(Entries({a, b, c, d})).size(), 4u);
}

TEST(MergeSameServer, RestartedServerIsAnotherServer) {
  // The endpoint's sticky identity names the run before a restart; the
  // pod's session reached the new run.
  InstanceSnapshot endpoint = Stopped(On(Primary("ep"), "t1"));
  InstanceSnapshot pod = On(Discovered(Primary("pod-0")), "t1-restarted");
  EXPECT_EQ(MergeSameServer(Entries({endpoint, pod})).size(), 2u);
}

TEST(MergeSameServer, DifferentClustersAreNeverMerged) {
  InstanceSnapshot a = On(Primary("a"), "t1");
  InstanceSnapshot b = On(Primary("b"), "t1");
  b.cluster = "other";
  auto out = MergeSameServer(Entries({a, b}));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].snapshot->cluster, "main");
  EXPECT_EQ(out[1].snapshot->cluster, "other");
}

TEST(MergeSameServer, ConfiguredPrimaryIsNamedAfterItsPod) {
  InstanceSnapshot endpoint = On(Primary("postgres-primary"), "t1");
  endpoint.server_name = "postgres-primary-0";
  auto out = MergeSameServer(Entries({endpoint}));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].snapshot->instance, "postgres-primary-0");
  EXPECT_EQ(out[0].snapshot->aliases,
            std::vector<std::string>{"postgres-primary"});
  EXPECT_TRUE(out[0].snapshot->configured_primary);
}

TEST(MergeSameServer, LearntNameNeverTakesAnotherInstancesName) {
  // The endpoint still remembers pod-1's previous run (down), while pod-1's
  // own target reached its new run: two servers, one pod name.
  InstanceSnapshot endpoint = Stopped(On(Primary("postgres-primary"), "t1"));
  endpoint.server_name = "pod-1";
  InstanceSnapshot pod1 = On(Discovered(Replica("pod-1", "pod-1", "s1")), "t9");
  auto out = MergeSameServer(Entries({endpoint, pod1}));
  EXPECT_EQ(Names(out),
            (std::vector<std::string>{"pod-1", "postgres-primary"}));
  EXPECT_TRUE(Find(out, "postgres-primary")->aliases.empty());
}

TEST(MergeSameServer, UpTargetIsTheSourceWhenThePodsIsDown) {
  InstanceSnapshot endpoint = On(Primary("postgres-primary"), "t1");
  endpoint.connects = 3;
  InstanceSnapshot pod0 = Stopped(On(Discovered(Primary("pod-0")), "t1"));
  pod0.connects = 5;
  auto out = MergeSameServer(Entries({endpoint, pod0}));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].snapshot->instance, "pod-0") << "the pod's name";
  EXPECT_TRUE(out[0].snapshot->up) << "the readings of the target that is up";
  EXPECT_EQ(out[0].snapshot->connects, 3u);
}

TEST(MergeSameServer, DownServerReachedTwiceIsOneDownInstance) {
  InstanceSnapshot endpoint = Stopped(On(Primary("postgres-primary"), "t1"));
  InstanceSnapshot pod0 = Stopped(On(Discovered(Primary("pod-0")), "t1"));
  pod0.connects = 5;
  auto out = MergeSameServer(Entries({endpoint, pod0}));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].snapshot->instance, "pod-0");
  EXPECT_EQ(out[0].snapshot->connects, 5u) << "the discovered one's";
  EXPECT_EQ(Value(ClusterMetrics(out), "pgrepl_cluster_instances_up"), 0.0);
  EXPECT_EQ(Value(ClusterMetrics(out), "pgrepl_cluster_primaries"), 0.0);
}

TEST(MergeSameServer, StaticTargetsOfOneServerKeepTheFirstName) {
  // Two configured paths to one server, none discovered or named.
  InstanceSnapshot b = On(Primary("b-path"), "t1");
  InstanceSnapshot a = On(Primary("a-path"), "t1");
  auto out = MergeSameServer(Entries({b, a}));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].snapshot->instance, "a-path");
  EXPECT_EQ(out[0].snapshot->aliases, std::vector<std::string>{"b-path"});
}

TEST(MergeSameServer, RecentLagComesWithTheSource) {
  InstanceSnapshot endpoint = On(Primary("postgres-primary"), "t2");
  InstanceSnapshot pod1 = On(Discovered(Replica("pod-1", "pod-1", "s1")), "t2");
  auto in = Entries({endpoint, pod1});
  in[1].recent_lag.Push(LagWindow::SampleOf(pod1));
  auto out = MergeSameServer(in);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].recent_lag.size(), 1u);
}

}  // namespace
}  // namespace pgrepl
