// InstanceSnapshot: everything one poll learned about one instance.
#ifndef PGREPL_EXPORTER_MODEL_SNAPSHOT_H_
#define PGREPL_EXPORTER_MODEL_SNAPSHOT_H_

#include <any>
#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "exporter/base/status.h"
#include "exporter/model/lag_histogram.h"
#include "exporter/model/replica_state.h"
#include "exporter/model/view_rows.h"

namespace pgrepl {

// The Status kinds counted by pgrepl_poll_errors_total{kind}, in label
// order; any other kind of failure counts as kQuery.
constexpr std::array<Status::Kind, 3> kPollErrorKinds = {
    Status::Kind::kConnect, Status::Kind::kQuery, Status::Kind::kTimeout};

// The index of `kind` in kPollErrorKinds.
inline size_t PollErrorIndex(Status::Kind kind) {
  for (size_t i = 0; i < kPollErrorKinds.size(); ++i) {
    if (kPollErrorKinds[i] == kind) return i;
  }
  return 1;  // kQuery
}

struct CollectorRun {
  std::string name;
  bool ok = false;
  double duration_seconds = 0;
};

// Immutable once published. Values a poll could not read are nullopt and
// are left out of /metrics rather than shown as 0.
struct InstanceSnapshot {
  using WallClock = std::chrono::system_clock;

  std::string cluster;
  std::string instance;
  bool configured_primary = false;
  bool discovered = false;

  bool polled = false;  // at least one poll cycle finished
  bool up = false;      // the latest poll reached the server and read its role
  std::string last_error;  // one line, no secrets; empty when up
  WallClock::time_point polled_at{};
  std::optional<WallClock::time_point> last_success;
  double poll_duration_seconds = 0;
  std::array<uint64_t, 3> errors{};  // by kPollErrorKinds, monotonic
  uint64_t connects = 0;             // sessions opened, monotonic
  std::vector<CollectorRun> collectors;

  // True when `collector` ran and succeeded in the latest poll.
  bool CollectorOk(const std::string& collector) const {
    for (const auto& c : collectors) {
      if (c.name == collector) return c.ok;
    }
    return false;
  }

  // Filled by the collectors; nullopt when not read in the latest poll.
  std::optional<int> server_version_num;
  std::optional<RecoveryInfo> recovery;
  std::optional<std::vector<StandbyRow>> standbys;
  std::optional<std::vector<SlotRow>> slots;
  std::optional<WalReceiverInfo> wal_receiver;  // replicas: nullopt = none
  bool wal_receiver_read = false;               // the receiver query succeeded

  // What collectors read that only they render (most views beyond the
  // replication core), by collector name, each of the collector's own
  // type: a new collector needs no field here. Cleared every poll.
  std::map<std::string, std::any> readings;

  // The reading `collector` stored this poll, or nullptr when it stored
  // none (or one of another type).
  template <typename T>
  const T* Reading(const std::string& collector) const {
    auto it = readings.find(collector);
    return it == readings.end() ? nullptr : std::any_cast<T>(&it->second);
  }

  // Sticky across outages: the last names the replica used upstream, so a
  // stopped replica is still an expected standby.
  std::optional<ReplicaIdentity> identity;
  // Sticky: the server the latest session reached (read at connect). A
  // new session that reaches another database cluster (another system
  // identifier) under this name is refused, not merged into its series.
  std::optional<ServerIdentity> server;
  // Sticky while the same server answers: the name of that server, its
  // own address (ServerIdentity::address) resolved back the way discovery
  // names replicas (poll/discovery, ServerNameOf). Only the configured
  // primary of a cluster with replica discovery is named so; "" when not
  // named or no usable name was found.
  std::string server_name;
  // Set by MergeSameServer (model/server_merge) on an instance it shows
  // under another name than its target's, or merged with other targets
  // that reach the same server: those targets' names, sorted. Empty in
  // what pollers publish.
  std::vector<std::string> aliases;

  // Derived by the poller on the exporter's own clock (replicas only).
  std::optional<double> replica_lag_seconds;  // NaN: unknown
  std::optional<double> replica_lag_bytes;
  LagHistogram replica_lag_histogram;           // every poll's lag, monotonic
  std::optional<double> heartbeat_lag_seconds;  // --heartbeat only

  // Reads without a primary (docs/http.md), in sidecar mode with
  // --sidecar.primary; nullopt otherwise. Whether the watched primary
  // answered as a writable primary at its latest poll, and the position
  // and time it was last seen at.
  std::optional<bool> primary_reachable;
  std::optional<uint64_t> primary_last_seen_lsn;
  std::optional<double> primary_last_seen_age_seconds;
  // A replica that has replayed everything the primary had written when
  // last seen, while no primary is reachable and its own stream is down:
  // it serves reads (http/health), in a state of its own.
  bool serving_without_primary = false;

  // Role and timeline history, monotonic while the exporter runs.
  std::optional<uint32_t> timeline;  // current timeline, primary or replica
  uint64_t role_changes = 0;
  uint64_t timeline_changes = 0;
  uint64_t wal_receiver_restarts = 0;  // a new receiver pid streams again

  // Starts a poll cycle at `now`: clears every per-poll reading above and
  // keeps the identity, the counters and the sticky history.
  void BeginPoll(WallClock::time_point now) {
    polled = true;
    polled_at = now;
    collectors.clear();
    up = false;
    server_version_num.reset();
    recovery.reset();
    standbys.reset();
    slots.reset();
    wal_receiver.reset();
    wal_receiver_read = false;
    replica_lag_seconds.reset();
    replica_lag_bytes.reset();
    heartbeat_lag_seconds.reset();
    primary_reachable.reset();
    primary_last_seen_lsn.reset();
    primary_last_seen_age_seconds.reset();
    serving_without_primary = false;
    readings.clear();
  }

  // The role and the stream state, decided by model/replica_state from
  // the readings above. Every consumer asks these two; a published
  // snapshot is immutable, so each has one value per snapshot.
  Role role() const { return RoleOf(up, recovery); }
  ReplicaState replica_state() const {
    return ReplicaStateOf(role(), wal_receiver_read, wal_receiver);
  }
};

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_MODEL_SNAPSHOT_H_
