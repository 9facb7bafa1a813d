// StatusReport: the topology and health of every watched cluster, built
// from the latest snapshots for the status page (/) and the API (/status).
#ifndef PGREPL_EXPORTER_HTTP_STATUS_REPORT_H_
#define PGREPL_EXPORTER_HTTP_STATUS_REPORT_H_

#include <optional>
#include <string>
#include <vector>

#include "exporter/http/health.h"
#include "exporter/model/snapshot.h"
#include "exporter/model/snapshot_store.h"

namespace pgrepl {

// The colour of a replica's lag against the default limit: kGood under
// 80% of it, kWarn up to it, kBad at or over it, unknown, or with a broken
// stream. kNone for primaries and instances that are down.
enum class LagBand { kNone, kGood, kWarn, kBad };
const char* LagBandName(LagBand band);  // "none", "ok", "warn", "bad"

// A standby a primary serves or should serve.
struct StandbyStatus {
  std::string name;  // application_name
  std::string slot;
  bool connected = false;  // has a pg_stat_replication row
  std::string state;       // "" when not connected
  std::string sync_state;
};

struct InstanceStatus {
  std::string name;
  Role role = Role::kUnknown;             // kUnknown while down
  Role configured_role = Role::kReplica;  // kPrimary or kReplica
  ReplicaState replica_state = ReplicaState::kNotReplica;
  bool discovered = false;
  // The other targets that reach this server (model/server_merge), sorted.
  std::vector<std::string> aliases;
  bool polled = false;
  bool up = false;
  std::optional<double> lag_seconds;  // replicas; nullopt when unknown
  std::optional<double> lag_bytes;
  LagBand lag_band = LagBand::kNone;
  double lag_fraction = 0;  // lag / limit, for the bar; 1 when unknown
  std::optional<WalReceiverInfo> wal_receiver;  // replicas
  std::optional<bool> replay_paused;
  // Sidecar with --sidecar.primary (docs/http.md, reads without a primary).
  std::optional<bool> primary_reachable;
  bool serving_without_primary = false;
  std::optional<int> server_version_num;
  std::optional<uint32_t> timeline;
  std::optional<InstanceSnapshot::WallClock::time_point> last_poll;
  std::optional<InstanceSnapshot::WallClock::time_point> last_success;
  std::string last_error;  // no secrets (see InstanceSnapshot)
  std::vector<SlotRow> slots;
  std::vector<StandbyStatus> standbys;  // primaries only
  // The three health checks with the default limit.
  HealthVerdict primary_check, replica_check, read_only_check;
};

struct ClusterStatus {
  std::string name;
  int primaries = 0;  // up and not in recovery, one per server
  std::vector<InstanceStatus> instances;  // primaries first, then by name
};

struct StatusReport {
  static constexpr int kVersion = 1;  // of the /status JSON schema
  InstanceSnapshot::WallClock::time_point generated_at;
  std::optional<InstanceSnapshot::WallClock::time_point> last_poll;  // newest
  LagLimit lag_limit;                   // --health.replica-max-lag
  std::vector<ClusterStatus> clusters;  // by name
};

// Builds the report. `entries` come from SnapshotStore::Entries(),
// merged by MergeSameServer.
StatusReport BuildStatusReport(const std::vector<SnapshotStore::Entry>& entries,
                               const HealthPolicy& policy,
                               InstanceSnapshot::WallClock::time_point now);

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_HTTP_STATUS_REPORT_H_
