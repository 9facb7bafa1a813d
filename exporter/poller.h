// Poller: one thread that polls one instance on a fixed interval.
#ifndef PGREPL_EXPORTER_POLLER_H_
#define PGREPL_EXPORTER_POLLER_H_

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "exporter/collector/collector.h"
#include "exporter/config.h"
#include "exporter/pg/connection.h"
#include "exporter/snapshot.h"

namespace pgrepl {

class SnapshotStore;

// Keeps one persistent session to its instance. Every cycle it runs the
// collectors within --poll.timeout and publishes a fresh snapshot, so a
// hung instance only ever delays its own poller. Reconnects back off by
// doubling from the poll interval up to --pg.reconnect-backoff-max.
class Poller {
 public:
  struct Timing {
    std::chrono::milliseconds interval, timeout, connect_timeout, backoff_max;
  };

  Poller(std::string cluster, InstanceTarget target, bool discovered,
         std::string password, Timing timing,
         const std::vector<std::unique_ptr<Collector>>* collectors,  // not own
         SnapshotStore* store);                                      // not own
  // Stops and joins; may wait up to one poll timeout.
  ~Poller();
  Poller(const Poller&) = delete;
  Poller& operator=(const Poller&) = delete;

  // Starts the thread. Must be called once.
  void Start();

  static Timing TimingFrom(const Config& config);

 private:
  void Run();
  // Runs one cycle into `s` (which carries the counters forward).
  void PollOnce(InstanceSnapshot* s);

  const std::string cluster_;
  const InstanceTarget target_;
  const bool discovered_;
  const Timing timing_;
  const std::vector<std::unique_ptr<Collector>>* const collectors_;
  SnapshotStore* const store_;
  Connection conn_;  // used by the poller thread only

  std::chrono::steady_clock::time_point next_connect_{};
  std::chrono::milliseconds backoff_{0};
  bool failure_logged_ = false;  // a warning for the current outage is out

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_POLLER_H_
