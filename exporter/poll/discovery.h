// DNS discovery of replicas: one name, resolved to every address behind it.
#ifndef PGREPL_EXPORTER_POLL_DISCOVERY_H_
#define PGREPL_EXPORTER_POLL_DISCOVERY_H_

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "exporter/base/status.h"
#include "exporter/pg/bounded_resolver.h"

namespace pgrepl {

// One resolved replica address.
struct DiscoveredAddress {
  std::string address;  // numeric IP
  std::string name;     // first label of its PTR name, or the address
};

// Resolves `host` to its addresses (IPv4 and IPv6, deduplicated, sorted)
// and each address back to its name, every lookup through `dns` and within
// `deadline`. NotFound-style answers (the name has no addresses) give an
// empty list; an address without a PTR name is named by the address.
// Temporary failures give an error, so callers keep what they had:
// kTimeout when a lookup (forward or reverse) outlives the deadline, kIo
// when the resolver says to try again.
Result<std::vector<DiscoveredAddress>> ResolveReplicas(
    BoundedResolver* dns, const std::string& host,
    std::chrono::steady_clock::time_point deadline);

// ResolveReplicas, or a stand-in in unit tests. Must return by `deadline`
// and be safe to call from several threads.
using Resolver = std::function<Result<std::vector<DiscoveredAddress>>(
    const std::string& host, std::chrono::steady_clock::time_point deadline)>;

// The name of the server a session reached, from the server's own
// address (ServerIdentity::address, a numeric IP) resolved through
// `resolve` as a discovered replica is named: the first label of its PTR
// name. "" when that gives no usable name: no address (a Unix socket), a
// loopback address (every server on the host shares it, and it resolves
// to localhost), or an address without a PTR name. Temporary failures
// are errors, as `resolve` gives them.
Result<std::string> ServerNameOf(
    const Resolver& resolve, const std::string& address,
    std::chrono::steady_clock::time_point deadline);

// True for 127.0.0.0/8, ::1 and IPv4-mapped 127.x addresses.
bool IsLoopbackAddress(const std::string& address);

// The production Resolver: ResolveReplicas through a BoundedResolver of
// the system's resolver, owned by the returned function.
Resolver DnsResolver();

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_POLL_DISCOVERY_H_
