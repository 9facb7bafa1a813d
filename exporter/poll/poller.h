// Poller: one thread that polls one instance on a fixed interval.
#ifndef PGREPL_EXPORTER_POLL_POLLER_H_
#define PGREPL_EXPORTER_POLL_POLLER_H_

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "exporter/collector/collector.h"
#include "exporter/config/config.h"
#include "exporter/pg/connection.h"
#include "exporter/model/position_history.h"
#include "exporter/model/snapshot.h"

namespace pgrepl {

class SnapshotStore;

// What the pollers of one cluster share: the primary's WAL positions and
// heartbeat writes, timed on the exporter's clock. Thread-safe.
struct ClusterHistory {
  PositionHistory wal{PositionHistory::Progress::kContinuous};
  PositionHistory heartbeat{PositionHistory::Progress::kDiscrete};
};

// Keeps one persistent session to its instance. Every cycle it runs the
// collectors within --poll.timeout and publishes a fresh snapshot, so a
// hung instance only ever delays its own poller. Reconnects back off by
// doubling from the poll interval up to --pg.reconnect-backoff-max.
class Poller {
 public:
  struct Options {
    std::chrono::milliseconds interval, timeout, connect_timeout, backoff_max;
    bool heartbeat = false;
    std::string heartbeat_id;
    std::string password;  // secret; see Config::password
  };
  static Options OptionsFrom(const Config& config);

  Poller(std::string cluster, InstanceTarget target, bool discovered,
         Options options,
         const std::vector<std::unique_ptr<Collector>>* collectors,  // not own
         ClusterHistory* history,                                    // not own
         SnapshotStore* store);                                      // not own
  // Stops and joins; may wait up to one poll timeout.
  ~Poller();
  Poller(const Poller&) = delete;
  Poller& operator=(const Poller&) = delete;

  // Starts the thread. Must be called once.
  void Start();

 private:
  using Clock = std::chrono::steady_clock;

  void Run();
  // Runs one cycle into `s` (which carries the counters forward).
  void PollOnce(InstanceSnapshot* s);
  // Connects when due; false when the instance cannot be polled now.
  bool EnsureConnected(InstanceSnapshot* s, Clock::time_point start,
                       Clock::time_point deadline);
  // Role/timeline changes, WAL history, replica lag and the heartbeat.
  void Derive(InstanceSnapshot* s, Clock::time_point deadline);
  // Replica lag from the cluster's WAL history; feeds the histogram.
  void DeriveReplicaLag(InstanceSnapshot* s, Clock::time_point now,
                        Clock::duration keep_source);
  void RecordFailure(InstanceSnapshot* s, const Status& st);

  const std::string cluster_;
  const InstanceTarget target_;
  const bool discovered_;
  const Options options_;
  const std::vector<std::unique_ptr<Collector>>* const collectors_;
  ClusterHistory* const history_;
  SnapshotStore* const store_;

  // Poller thread only.
  Connection conn_;
  Clock::time_point next_connect_{};
  std::chrono::milliseconds backoff_{0};
  bool failure_logged_ = false;  // a warning for the current outage is out
  std::optional<bool> last_in_recovery_;
  StreamRestarts stream_restarts_;
  std::optional<Clock::time_point> last_healthy_;
  // This replica's own receive positions on the exporter's clock: the lag
  // reference when no primary of the cluster is polled (--sidecar).
  PositionHistory receive_history_{PositionHistory::Progress::kContinuous, 300};

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_POLL_POLLER_H_
