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
#include "exporter/model/position_history.h"
#include "exporter/model/snapshot.h"
#include "exporter/pg/session.h"
#include "exporter/poll/discovery.h"
#include "exporter/poll/stream_restarts.h"

namespace pgrepl {

class SnapshotStore;

// Keeps one persistent session to its instance. Every cycle it runs the
// collectors within --poll.timeout and publishes a fresh snapshot, so a
// hung instance only ever delays its own poller. Reconnects back off by
// doubling from the poll interval up to --pg.reconnect-backoff-max.
class Poller {
 public:
  using Clock = std::chrono::steady_clock;

  // Every this many polls (30 s at the default 1 s interval, as often as
  // Prometheus usually scrapes) a poll is full: every collector reads
  // everything.
  // Also full: a new session's first poll, the one after a failed poll
  // and the one after a role change. The polls between read what on-call
  // needs within a second (role, positions, streams, lag) and keep the
  // rest's last readings (StatementPlan::full, Collector::Due).
  static constexpr int kFullPollEvery = 30;

  struct Options {
    std::chrono::milliseconds interval, timeout, connect_timeout, backoff_max;
    std::string password;  // secret; see Config::password
    // A sidecar's watch of the primary (--sidecar.primary): it publishes
    // no snapshot, and records in the cluster's history whether the
    // target answered as a writable primary, and its WAL position.
    bool primary_watch = false;
    // Set: the instance is named after the server each session reaches
    // (InstanceSnapshot::server_name), through this resolver (the
    // configured primary of a cluster with replica discovery; see
    // Fleet). Unset: not named.
    Resolver server_namer;
    // The poller's place in the interval: it polls once at Start(), then
    // at Start() + phase, then every interval. The fleet spreads its
    // pollers over the interval so that they, and the backends they wake,
    // do not all run at the same instant.
    std::chrono::milliseconds phase{0};
  };
  static Options OptionsFrom(const Config& config);

  Poller(std::string cluster, InstanceTarget target, bool discovered,
         Options options,
         const std::vector<std::unique_ptr<Collector>>* collectors,  // not own
         ClusterHistory* history,                                    // not own
         SnapshotStore* store,                                       // not own
         SessionFactory sessions);
  // Stops and joins; may wait up to one poll timeout.
  ~Poller();
  Poller(const Poller&) = delete;
  Poller& operator=(const Poller&) = delete;

  // Publishes the first, unpolled snapshot and starts the thread. Must be
  // called once.
  void Start();

  // Runs one poll cycle as if it began at `start` and publishes its
  // snapshot. The thread calls it; unit tests call it directly instead of
  // Start(). Not thread-safe: one caller at a time.
  void PollOnce(Clock::time_point start);

  // A sidecar's watch of the primary (Options::primary_watch), polled by
  // this poller at the start of each of its cycles, before its own
  // instance. Not owned; must outlive this poller's thread. Call before
  // Start().
  void AttachPrimaryWatch(Poller* watch) { primary_watch_ = watch; }

  // Asks the thread to stop after its current cycle, without waiting.
  // Safe to call from any thread.
  void RequestStop();

  // Points the poller at a new conninfo (a discovered name that moved to
  // another address). A started poller polls again at once: it closes the
  // session and connects to the new target; the instance's counters carry
  // on. Safe to call from any thread.
  void Retarget(std::string conninfo);

 private:
  void Run();
  // Connects when due; false when the instance cannot be polled now.
  bool EnsureConnected(Clock::time_point start, Clock::time_point deadline);
  // Reads the new session's ServerIdentity; an error when it is another
  // database cluster than this instance's sessions reached before.
  Status CheckServerIdentity(Clock::time_point deadline);
  // With Options::server_namer, while the session's server has no name
  // yet (a lookup failed temporarily): looks it up, within a quarter of
  // the poll timeout and `deadline`.
  void NameServer(Clock::time_point deadline);
  // Runs the collectors on a connected session: every statement they
  // declare goes out in one batch, and each Update reads its answers.
  Status RunCollectors(Clock::time_point deadline);
  // Applies a pending Retarget().
  void ApplyRetarget();
  // Role/timeline changes, WAL history, replica lag, stream restarts.
  void Derive();
  // Replica lag from the cluster's WAL history; feeds the histogram.
  void DeriveReplicaLag(Clock::time_point now, Clock::duration keep_source);
  // Sidecar with --sidecar.primary: the primary's reachability and the
  // rule for serving reads without a primary.
  void DeriveWithoutPrimary(Clock::time_point now);
  void RecordFailure(const Status& st);
  // A connect that failed (`why`): the next attempt waits for the doubled
  // backoff, counted from `start`.
  void BackOff(Clock::time_point start, const Status& why);
  Clock::duration KeepSource() const;

  const std::string cluster_;
  const InstanceTarget target_;  // Retarget() may replace the conninfo it used
  const Options options_;
  const std::vector<std::unique_ptr<Collector>>* const collectors_;
  ClusterHistory* const history_;
  SnapshotStore* const store_;
  const SessionFactory sessions_;

  // Poll cycle only (the poller thread, or a test).
  InstanceSnapshot s_;
  std::unique_ptr<Session> session_;
  Clock::time_point next_connect_{};
  std::chrono::milliseconds backoff_{0};
  bool failure_logged_ = false;   // a warning for the current outage is out
  bool identity_warned_ = false;  // "server identity unknown" was logged
  bool name_pending_ = false;     // the session's server is not named yet
  bool full_due_ = true;          // the next poll is a full one
  int polls_since_full_ = 0;      // polls since and with the last full one
  // The latest poll's snapshot (published unless this is a primary
  // watch): what collectors that are not due carry forward.
  std::shared_ptr<const InstanceSnapshot> last_;
  Poller* primary_watch_ = nullptr;  // not owned; see AttachPrimaryWatch
  std::optional<Role> last_role_;    // of the latest poll that read one
  StreamRestarts stream_restarts_;
  // The stream was seen down in a cycle whose primary watch reached the
  // primary: this replica is cut off, not orphaned, until it streams again.
  bool cut_while_primary_reachable_ = false;
  std::optional<Clock::time_point> last_healthy_;
  // This replica's own receive positions on the exporter's clock: the lag
  // reference when no primary of the cluster is polled (--sidecar).
  PositionHistory receive_history_{PositionHistory::Progress::kContinuous, 300};

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;                        // GUARDED_BY(mu_)
  std::optional<std::string> new_conninfo_;  // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_POLL_POLLER_H_
