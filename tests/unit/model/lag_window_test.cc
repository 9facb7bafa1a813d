// Tests for exporter/lag_window: the ring of recent lag samples, and how
// the SnapshotStore fills it.
#include "exporter/model/lag_window.h"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>

#include "exporter/model/snapshot.h"
#include "exporter/model/snapshot_store.h"

namespace pgrepl {
namespace {

InstanceSnapshot Replica(double lag_seconds, double lag_bytes) {
  InstanceSnapshot s;
  s.cluster = "c";
  s.instance = "r";
  s.polled = true;
  s.up = true;
  s.recovery = RecoveryInfo{};
  s.recovery->in_recovery = true;
  s.wal_receiver_read = true;
  s.replica_lag_seconds = lag_seconds;
  s.replica_lag_bytes = lag_bytes;
  return s;
}

TEST(LagWindow, SampleOfReplica) {
  LagSample s = LagWindow::SampleOf(Replica(1.5, 100));
  EXPECT_DOUBLE_EQ(s.seconds, 1.5);
  ASSERT_TRUE(s.bytes);
  EXPECT_DOUBLE_EQ(*s.bytes, 100);
}

TEST(LagWindow, SampleIsUnknownWhenDownOrPrimary) {
  InstanceSnapshot down = Replica(0, 0);
  down.up = false;
  EXPECT_TRUE(std::isnan(LagWindow::SampleOf(down).seconds));
  EXPECT_FALSE(LagWindow::SampleOf(down).bytes);
  InstanceSnapshot primary = Replica(0, 0);
  primary.recovery->in_recovery = false;
  EXPECT_TRUE(std::isnan(LagWindow::SampleOf(primary).seconds));
  InstanceSnapshot no_lag = Replica(0, 0);
  no_lag.replica_lag_seconds.reset();
  no_lag.replica_lag_bytes.reset();
  EXPECT_TRUE(std::isnan(LagWindow::SampleOf(no_lag).seconds));
  EXPECT_FALSE(LagWindow::SampleOf(no_lag).bytes);
}

TEST(LagWindow, NewestFirstAndBounded) {
  LagWindow w;
  EXPECT_EQ(w.size(), 0u);
  for (int i = 0; i < 20; ++i) {
    LagSample s;
    s.seconds = i;
    w.Push(s);
  }
  EXPECT_EQ(w.size(), LagWindow::kCapacity);
  EXPECT_DOUBLE_EQ(w.Get(0).seconds, 19);
  EXPECT_DOUBLE_EQ(w.Get(1).seconds, 18);
  EXPECT_DOUBLE_EQ(w.Get(LagWindow::kCapacity - 1).seconds,
                   20 - LagWindow::kCapacity);
}

TEST(LagWindow, PartlyFilled) {
  LagWindow w;
  LagSample a, b;
  a.seconds = 1;
  b.seconds = 2;
  w.Push(a);
  w.Push(b);
  EXPECT_EQ(w.size(), 2u);
  EXPECT_DOUBLE_EQ(w.Get(0).seconds, 2);
  EXPECT_DOUBLE_EQ(w.Get(1).seconds, 1);
}

TEST(LagWindow, FilledByTheStoreForPolledSnapshotsOnly) {
  SnapshotStore store;
  auto unpolled = std::make_shared<InstanceSnapshot>(Replica(9, 9));
  unpolled->polled = false;
  store.Publish(unpolled);
  ASSERT_EQ(store.Entries().size(), 1u);
  EXPECT_EQ(store.Entries()[0].recent_lag.size(), 0u);
  for (double lag : {3.0, 2.0, 0.5}) {
    store.Publish(std::make_shared<InstanceSnapshot>(Replica(lag, lag * 10)));
  }
  auto entries = store.Entries();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_DOUBLE_EQ(*entries[0].snapshot->replica_lag_seconds, 0.5);
  ASSERT_EQ(entries[0].recent_lag.size(), 3u);
  EXPECT_DOUBLE_EQ(entries[0].recent_lag.Get(0).seconds, 0.5);
  EXPECT_DOUBLE_EQ(entries[0].recent_lag.Get(2).seconds, 3.0);
  store.Remove("c", "r");
  EXPECT_TRUE(store.Entries().empty());
  store.Publish(std::make_shared<InstanceSnapshot>(Replica(1, 1)));
  EXPECT_EQ(store.Entries()[0].recent_lag.size(), 1u);  // history restarts
}

}  // namespace
}  // namespace pgrepl
