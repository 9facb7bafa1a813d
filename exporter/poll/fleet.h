// Fleet: owns every Poller, including replicas discovered through DNS.
#ifndef PGREPL_EXPORTER_POLL_FLEET_H_
#define PGREPL_EXPORTER_POLL_FLEET_H_

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "exporter/collector/collector.h"
#include "exporter/config/config.h"
#include "exporter/poll/poller.h"

namespace pgrepl {

class MetricSink;
class SnapshotStore;

// One resolved replica address.
struct DiscoveredAddress {
  std::string address;  // numeric IP
  std::string name;     // first label of its PTR name, or the address
};

// Resolves `host` to its addresses (IPv4 and IPv6, deduplicated, sorted).
// NotFound-style answers (the name has no addresses) give an empty list;
// temporary failures give an error, so callers keep what they had.
Result<std::vector<DiscoveredAddress>> ResolveReplicas(const std::string& host);

class Fleet {
 public:
  Fleet(const Config& config,
        const std::vector<std::unique_ptr<Collector>>* collectors,  // not own
        SnapshotStore* store);                                      // not own
  ~Fleet();  // stops all pollers and discovery threads
  Fleet(const Fleet&) = delete;
  Fleet& operator=(const Fleet&) = delete;

  // Starts every static poller and one discovery thread per cluster that
  // has DNS discovery. Must be called once.
  void Start();

  // Discovery metrics per cluster. Safe to call from any thread.
  void Emit(MetricSink& sink) const;

 private:
  struct DiscoveryState {
    ClusterConfig cluster;
    ClusterHistory* history;  // not own
    std::map<std::string, std::unique_ptr<Poller>> pollers;  // by name
    std::thread thread;
    // Read by Emit, GUARDED_BY(Fleet::mu_).
    uint64_t errors = 0;
    size_t discovered = 0;
    bool resolved_once = false;
  };

  void DiscoveryLoop(DiscoveryState* d);
  // Applies one resolution result: starts and stops pollers.
  void Reconcile(DiscoveryState* d, const std::vector<DiscoveredAddress>& found);

  const Config& config_;
  const std::vector<std::unique_ptr<Collector>>* const collectors_;
  SnapshotStore* const store_;
  std::map<std::string, std::unique_ptr<ClusterHistory>> histories_;
  std::vector<std::unique_ptr<Poller>> static_pollers_;
  std::vector<std::unique_ptr<DiscoveryState>> discovery_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // GUARDED_BY(mu_)
};

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_POLL_FLEET_H_
