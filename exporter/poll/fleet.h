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
#include "exporter/model/snapshot_store.h"
#include "exporter/pg/session.h"
#include "exporter/poll/discovery.h"
#include "exporter/poll/poller.h"

namespace pgrepl {

class Fleet {
 public:
  // `sessions` opens database sessions and `resolver` resolves discovery
  // names: libpq and DNS in production, stand-ins in unit tests.
  Fleet(const Config& config,
        const std::vector<std::unique_ptr<Collector>>* collectors,  // not own
        SnapshotStore* store,                                       // not own
        SessionFactory sessions, Resolver resolver);
  ~Fleet();  // stops every poller at once, then joins them
  Fleet(const Fleet&) = delete;
  Fleet& operator=(const Fleet&) = delete;

  // Starts every static poller and one discovery thread per cluster that
  // has DNS discovery. Must be called once.
  void Start();

  // Asks every poller and discovery thread to stop, without waiting, so
  // they wind down while the caller stops other parts. Safe to call from
  // any thread; the destructor joins them.
  void RequestStop();

  // Resolves every cluster's discovery name once and applies the answer on
  // the caller's thread: pollers start for new names, stop for names gone,
  // and follow a name to a new address. The discovery threads call it
  // every poll interval; unit tests call it instead of Start().
  void DiscoverNow();

 private:
  struct Discovered {
    std::string address;
    std::unique_ptr<Poller> poller;
  };
  struct DiscoveryState {
    ClusterConfig cluster;
    ClusterHistory* history;                    // not own
    std::map<std::string, Discovered> pollers;  // by name
    SnapshotStore::Discovery stats;
    bool failure_logged = false;  // a warning for the current outage is out
    std::mutex mu;                // serialises DiscoverOnce of this cluster
    std::thread thread;
  };

  void DiscoveryLoop(DiscoveryState* d);
  void DiscoverOnce(DiscoveryState* d);
  // Applies one resolution result: starts, retargets and stops pollers.
  void Reconcile(DiscoveryState* d,
                 const std::vector<DiscoveredAddress>& found);
  std::string ConninfoFor(const DiscoveryState& d,
                          const DiscoveredAddress& a) const;

  const Config& config_;
  const std::vector<std::unique_ptr<Collector>>* const collectors_;
  SnapshotStore* const store_;
  const SessionFactory sessions_;
  const Resolver resolver_;
  // Built by the constructor, never resized afterwards.
  std::map<std::string, std::unique_ptr<ClusterHistory>> histories_;
  std::vector<std::unique_ptr<Poller>> static_pollers_;
  // --sidecar.primary's poller runs the role collector only, on the
  // sidecar's poller thread (Poller::AttachPrimaryWatch).
  std::vector<std::unique_ptr<Collector>> watch_collectors_;
  std::unique_ptr<Poller> primary_watch_;
  std::vector<std::unique_ptr<DiscoveryState>> discovery_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // GUARDED_BY(mu_)
};

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_POLL_FLEET_H_
