// SnapshotStore: the latest InstanceSnapshot of every polled instance.
#ifndef PGREPL_EXPORTER_MODEL_SNAPSHOT_STORE_H_
#define PGREPL_EXPORTER_MODEL_SNAPSHOT_STORE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "exporter/model/lag_window.h"
#include "exporter/model/snapshot.h"

namespace pgrepl {

// Pollers publish whole snapshots; readers (HTTP threads) get shared
// pointers to immutable snapshots, so a reader never waits on a poll.
// All methods are safe to call from any thread.
class SnapshotStore {
 public:
  using Ptr = std::shared_ptr<const InstanceSnapshot>;

  // A snapshot with the lag of its instance's latest polls; the newest
  // sample of `recent_lag` is the snapshot's own (polled snapshots only).
  struct Entry {
    Ptr snapshot;
    LagWindow recent_lag;
  };

  // What the DNS discovery of one cluster last found (poll/fleet).
  struct Discovery {
    uint64_t errors = 0;    // failed resolutions, monotonic
    size_t discovered = 0;  // addresses of the latest resolution
    bool resolved_once = false;
  };

  void Publish(Ptr snapshot);
  void Remove(const std::string& cluster, const std::string& instance);
  // Ordered by (cluster, instance).
  std::vector<Ptr> All() const;
  // Like All(), with each instance's lag history, read under one lock.
  std::vector<Entry> Entries() const;
  // True once any instance has finished a poll cycle.
  bool AnyPolled() const;

  void PublishDiscovery(const std::string& cluster, const Discovery& d);
  // By cluster name.
  std::map<std::string, Discovery> Discoveries() const;

  // The outcome of the configuration reloads (SIGHUP, http/reload). The
  // configuration loaded at startup counts as a success at construction.
  struct Reloads {
    bool last_ok = true;
    InstanceSnapshot::WallClock::time_point last_success;
    uint64_t successes = 0;  // monotonic, startup not counted
    uint64_t failures = 0;   // monotonic
  };
  void RecordReload(bool ok, InstanceSnapshot::WallClock::time_point at);
  Reloads ReloadOutcome() const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, Entry>
      snapshots_;                               // GUARDED_BY(mu_)
  std::map<std::string, Discovery> discovery_;  // GUARDED_BY(mu_)
  bool any_polled_ = false;                     // GUARDED_BY(mu_)
  // GUARDED_BY(mu_). The startup configuration is the first success.
  Reloads reloads_{.last_success = InstanceSnapshot::WallClock::now()};
};

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_MODEL_SNAPSHOT_STORE_H_
