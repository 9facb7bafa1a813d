// DNS discovery of replicas: one name, resolved to every address behind it.
#ifndef PGREPL_EXPORTER_POLL_DISCOVERY_H_
#define PGREPL_EXPORTER_POLL_DISCOVERY_H_

#include <functional>
#include <string>
#include <vector>

#include "exporter/base/status.h"

namespace pgrepl {

// One resolved replica address.
struct DiscoveredAddress {
  std::string address;  // numeric IP
  std::string name;     // first label of its PTR name, or the address
};

// Resolves `host` to its addresses (IPv4 and IPv6, deduplicated, sorted).
// NotFound-style answers (the name has no addresses) give an empty list;
// temporary failures give an error, so callers keep what they had.
Result<std::vector<DiscoveredAddress>> ResolveReplicas(const std::string& host);

// ResolveReplicas, or a stand-in in unit tests.
using Resolver = std::function<Result<std::vector<DiscoveredAddress>>(
    const std::string& host)>;

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_POLL_DISCOVERY_H_
