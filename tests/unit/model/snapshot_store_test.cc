// Tests for exporter/snapshot_store: publish, replace, remove, ordering.
#include "exporter/model/snapshot_store.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace pgrepl {
namespace {

SnapshotStore::Ptr Snap(const std::string& cluster, const std::string& instance,
                        bool polled = true, bool up = false) {
  auto s = std::make_shared<InstanceSnapshot>();
  s->cluster = cluster;
  s->instance = instance;
  s->polled = polled;
  s->up = up;
  return s;
}

std::vector<std::pair<std::string, std::string>> Keys(
    const SnapshotStore& store) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& s : store.All()) out.emplace_back(s->cluster, s->instance);
  return out;
}

TEST(SnapshotStore, EmptyStore) {
  SnapshotStore store;
  EXPECT_TRUE(store.All().empty());
  EXPECT_FALSE(store.AnyPolled());
}

TEST(SnapshotStore, OrderedByClusterThenInstance) {
  SnapshotStore store;
  store.Publish(Snap("b", "pg1:5432"));
  store.Publish(Snap("a", "pg2:5432"));
  store.Publish(Snap("a", "pg1:5432"));
  store.Publish(Snap("b", "pg0:5432"));
  using K = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(Keys(store), (K{{"a", "pg1:5432"},
                            {"a", "pg2:5432"},
                            {"b", "pg0:5432"},
                            {"b", "pg1:5432"}}));
}

TEST(SnapshotStore, SameInstanceInTwoClustersIsTwoEntries) {
  SnapshotStore store;
  store.Publish(Snap("a", "db:5432"));
  store.Publish(Snap("b", "db:5432"));
  EXPECT_EQ(store.All().size(), 2u);
}

TEST(SnapshotStore, PublishReplacesAndOldReadersKeepTheirCopy) {
  SnapshotStore store;
  store.Publish(Snap("a", "pg1", true, /*up=*/false));
  auto old_view = store.All();
  store.Publish(Snap("a", "pg1", true, /*up=*/true));
  auto now_view = store.All();
  ASSERT_EQ(now_view.size(), 1u);
  EXPECT_TRUE(now_view[0]->up);
  ASSERT_EQ(old_view.size(), 1u);
  EXPECT_FALSE(old_view[0]->up);  // immutable: a reader never sees a change
}

TEST(SnapshotStore, Remove) {
  SnapshotStore store;
  store.Publish(Snap("a", "pg1"));
  store.Publish(Snap("a", "pg2"));
  store.Remove("a", "pg1");
  using K = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(Keys(store), (K{{"a", "pg2"}}));
  store.Remove("a", "missing");  // no-op
  store.Remove("b", "pg2");      // other cluster: no-op
  EXPECT_EQ(Keys(store), (K{{"a", "pg2"}}));
  store.Remove("a", "pg2");
  EXPECT_TRUE(store.All().empty());
}

TEST(SnapshotStore, AnyPolledOnlyAfterAPolledSnapshot) {
  SnapshotStore store;
  store.Publish(Snap("a", "pg1", /*polled=*/false));
  store.Publish(Snap("a", "pg2", /*polled=*/false));
  EXPECT_FALSE(store.AnyPolled());
  store.Publish(Snap("a", "pg2", /*polled=*/true));
  EXPECT_TRUE(store.AnyPolled());
  // Once true it stays true: a poll cycle has finished.
  store.Publish(Snap("a", "pg2", /*polled=*/false));
  store.Remove("a", "pg2");
  EXPECT_TRUE(store.AnyPolled());
}

}  // namespace
}  // namespace pgrepl
