// DNS discovery of replicas: one name, resolved to every address behind it.
#include "exporter/poll/discovery.h"

#include <algorithm>
#include <map>
#include <memory>
#include <set>

namespace pgrepl {

Result<std::vector<DiscoveredAddress>> ResolveReplicas(
    BoundedResolver* dns, const std::string& host,
    std::chrono::steady_clock::time_point deadline) {
  auto found = dns->Addresses(host, deadline);
  if (!found.ok()) return found.status();
  std::set<std::string> addresses(found.value().begin(), found.value().end());
  std::vector<DiscoveredAddress> out;
  for (const auto& address : addresses) {
    // A reverse lookup that fails temporarily fails the whole answer:
    // naming the replica by its address for one cycle would replace its
    // series with new ones.
    auto name = dns->Name(address, deadline);
    if (!name.ok()) return name.status();
    DiscoveredAddress d{address, address};
    if (!name.value().empty()) {
      // "postgres-replica-1.postgres-replica-headless.ns.svc..." -> pod name.
      d.name = name.value().substr(0, name.value().find('.'));
    }
    out.push_back(std::move(d));
  }
  // Two addresses with one PTR name keep their addresses as names.
  std::map<std::string, int> uses;
  for (const auto& d : out) uses[d.name]++;
  for (auto& d : out) {
    if (uses[d.name] > 1) d.name = d.address;
  }
  return out;
}

bool IsLoopbackAddress(const std::string& address) {
  auto starts = [&](const char* prefix) {
    return address.rfind(prefix, 0) == 0;
  };
  return starts("127.") || address == "::1" || starts("::ffff:127.");
}

Result<std::string> ServerNameOf(
    const Resolver& resolve, const std::string& address,
    std::chrono::steady_clock::time_point deadline) {
  if (address.empty() || IsLoopbackAddress(address)) return std::string();
  auto found = resolve(address, deadline);
  if (!found.ok()) return found.status();
  for (const auto& d : found.value()) {
    // The address itself is the name of one without a PTR record.
    if (d.address == address && d.name != address) return d.name;
  }
  return std::string();
}

Resolver DnsResolver() {
  auto dns = std::make_shared<BoundedResolver>();
  return [dns](const std::string& host,
               std::chrono::steady_clock::time_point deadline) {
    return ResolveReplicas(dns.get(), host, deadline);
  };
}

}  // namespace pgrepl
