// DNS discovery of replicas: one name, resolved to every address behind it.
#include "exporter/poll/discovery.h"

#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <map>
#include <set>

namespace pgrepl {

Result<std::vector<DiscoveredAddress>> ResolveReplicas(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (rc == EAI_NONAME || rc == EAI_NODATA) {
    return std::vector<DiscoveredAddress>{};
  }
  if (rc != 0) {
    return Status::Io("resolving " + host + ": " + gai_strerror(rc));
  }
  std::set<std::string> seen;
  std::vector<DiscoveredAddress> out;
  for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
    char addr[NI_MAXHOST];
    if (getnameinfo(a->ai_addr, a->ai_addrlen, addr, sizeof addr, nullptr, 0,
                    NI_NUMERICHOST) != 0) {
      continue;
    }
    if (!seen.insert(addr).second) continue;
    DiscoveredAddress d{addr, addr};
    char name[NI_MAXHOST];
    if (getnameinfo(a->ai_addr, a->ai_addrlen, name, sizeof name, nullptr, 0,
                    NI_NAMEREQD) == 0) {
      // "postgres-replica-1.postgres-replica-headless.ns.svc..." -> pod name.
      std::string n = name;
      d.name = n.substr(0, n.find('.'));
    }
    out.push_back(std::move(d));
  }
  freeaddrinfo(res);
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.address < b.address; });
  // Two addresses with one PTR name keep their addresses as names.
  std::map<std::string, int> uses;
  for (const auto& d : out) uses[d.name]++;
  for (auto& d : out) {
    if (uses[d.name] > 1) d.name = d.address;
  }
  return out;
}

}  // namespace pgrepl
