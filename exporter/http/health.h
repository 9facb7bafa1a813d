// Health decisions for /primary, /replica and /read-only: pure functions
// of one instance's latest snapshot and the lag of its latest polls.
#ifndef PGREPL_EXPORTER_HTTP_HEALTH_H_
#define PGREPL_EXPORTER_HTTP_HEALTH_H_

#include <chrono>
#include <string>

#include "exporter/config/lag_limit.h"
#include "exporter/model/lag_window.h"
#include "exporter/model/snapshot.h"

namespace pgrepl {

enum class HealthCheck {
  kPrimary,   // up and not in recovery: a writable primary
  kReplica,   // up, in recovery, WAL receiver streaming, lag under the limit
  kReadOnly,  // the primary, or a replica that passes kReplica
};

// "primary", "replica" or "read-only": the endpoint's name without '/'.
const char* HealthCheckName(HealthCheck check);

struct HealthPolicy {
  // --health.replica-max-lag: used when a request gives no max_lag.
  LagLimit default_limit;
  // Anti-flap rule: a replica passes only when its lag was under the limit
  // in each of its latest `stable_polls` polls (the current one included),
  // so after a failure for lag it needs that many good polls in a row.
  size_t stable_polls = 3;
  // A snapshot older than this fails every check (its poller is stuck).
  std::chrono::milliseconds stale_after{10000};
};

struct HealthVerdict {
  bool ok = false;
  std::string reason;  // one line, no newline; names the instance
};

// Decides one check. `recent` is the instance's lag history whose newest
// sample is `s`'s own (SnapshotStore::Entry); `limit` is the request's
// max_lag or the policy's default. Reasons never contain secrets:
// InstanceSnapshot::last_error is already free of them.
HealthVerdict DecideHealth(HealthCheck check, const InstanceSnapshot& s,
                           const LagWindow& recent, const LagLimit& limit,
                           const HealthPolicy& policy,
                           InstanceSnapshot::WallClock::time_point now);

// A lag value of the limit's kind as text: seconds with three decimals
// ("1.234s") or whole bytes ("16777216B").
std::string FormatLag(double value, LagLimit::Kind kind);

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_HTTP_HEALTH_H_
