// SnapshotStore: the latest InstanceSnapshot of every polled instance.
#ifndef PGREPL_EXPORTER_SNAPSHOT_STORE_H_
#define PGREPL_EXPORTER_SNAPSHOT_STORE_H_

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "exporter/snapshot.h"

namespace pgrepl {

// Pollers publish whole snapshots; readers (HTTP threads) get shared
// pointers to immutable snapshots, so a reader never waits on a poll.
// All methods are safe to call from any thread.
class SnapshotStore {
 public:
  using Ptr = std::shared_ptr<const InstanceSnapshot>;

  void Publish(Ptr snapshot);
  void Remove(const std::string& cluster, const std::string& instance);
  // Ordered by (cluster, instance).
  std::vector<Ptr> All() const;
  // True once any instance has finished a poll cycle.
  bool AnyPolled() const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, Ptr> snapshots_;  // GUARDED_BY(mu_)
  bool any_polled_ = false;                                          // GUARDED_BY(mu_)
};

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_SNAPSHOT_STORE_H_
