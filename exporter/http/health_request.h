// HealthRequest: what a /primary, /replica or /read-only request asks for,
// and which watched instance it names.
#ifndef PGREPL_EXPORTER_HTTP_HEALTH_REQUEST_H_
#define PGREPL_EXPORTER_HTTP_HEALTH_REQUEST_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "exporter/base/status.h"
#include "exporter/config/lag_limit.h"
#include "exporter/model/snapshot_store.h"

namespace pgrepl {

struct HealthRequest {
  std::string instance;             // "": the --sidecar instance
  std::string cluster;              // "": any cluster
  std::optional<LagLimit> max_lag;  // nullopt: --health.replica-max-lag
};

// Parses the query string (raw, still percent-encoded). Accepted keys:
// instance, cluster, and max_lag when `allow_max_lag`; each at most once.
// Anything else (unknown or repeated keys, a bad max_lag, a malformed
// query) is an Invalid status with a one-line reason: HTTP 400.
Result<HealthRequest> ParseHealthRequest(std::string_view query,
                                         bool allow_max_lag);

// The outcome of looking an instance up among the store's entries.
struct InstanceChoice {
  int http_status = 200;  // 200: entries[index]; else 400 or 503
  std::string reason;     // one line when http_status != 200
  size_t index = 0;
};

// Finds the instance `request` names. Without ?instance= it is the only
// instance in --sidecar mode, and a 400 otherwise. An unknown name, or a
// name several clusters share without ?cluster=, is a 503 whose reason
// says so (a load balancer must not route to it either way).
InstanceChoice ChooseInstance(const std::vector<SnapshotStore::Entry>& entries,
                              const HealthRequest& request, bool sidecar);

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_HTTP_HEALTH_REQUEST_H_
