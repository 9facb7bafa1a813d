// SnapshotStore: the latest InstanceSnapshot of every polled instance.
#include "exporter/model/snapshot_store.h"

namespace pgrepl {

void SnapshotStore::Publish(Ptr snapshot) {
  std::lock_guard<std::mutex> lock(mu_);
  if (snapshot->polled) any_polled_ = true;
  auto key = std::make_pair(snapshot->cluster, snapshot->instance);
  Entry& entry = snapshots_[key];
  if (snapshot->polled) entry.recent_lag.Push(LagWindow::SampleOf(*snapshot));
  entry.snapshot = std::move(snapshot);
}

void SnapshotStore::Remove(const std::string& cluster,
                           const std::string& instance) {
  std::lock_guard<std::mutex> lock(mu_);
  snapshots_.erase({cluster, instance});
}

std::vector<SnapshotStore::Ptr> SnapshotStore::All() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Ptr> out;
  out.reserve(snapshots_.size());
  for (const auto& [key, entry] : snapshots_) out.push_back(entry.snapshot);
  return out;
}

std::vector<SnapshotStore::Entry> SnapshotStore::Entries() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Entry> out;
  out.reserve(snapshots_.size());
  for (const auto& [key, entry] : snapshots_) out.push_back(entry);
  return out;
}

bool SnapshotStore::AnyPolled() const {
  std::lock_guard<std::mutex> lock(mu_);
  return any_polled_;
}

void SnapshotStore::PublishDiscovery(const std::string& cluster,
                                     const Discovery& d) {
  std::lock_guard<std::mutex> lock(mu_);
  discovery_[cluster] = d;
}

std::map<std::string, SnapshotStore::Discovery> SnapshotStore::Discoveries()
    const {
  std::lock_guard<std::mutex> lock(mu_);
  return discovery_;
}

void SnapshotStore::RecordReload(bool ok,
                                 InstanceSnapshot::WallClock::time_point at) {
  std::lock_guard<std::mutex> lock(mu_);
  reloads_.last_ok = ok;
  if (ok) {
    reloads_.last_success = at;
    ++reloads_.successes;
  } else {
    ++reloads_.failures;
  }
}

SnapshotStore::Reloads SnapshotStore::ReloadOutcome() const {
  std::lock_guard<std::mutex> lock(mu_);
  return reloads_;
}

}  // namespace pgrepl
