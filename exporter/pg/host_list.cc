// HostList: libpq's host, hostaddr and port lists, and pinning host names
// to addresses resolved ahead of libpq.
#include "exporter/pg/host_list.h"

#include <libpq-fe.h>

#include <optional>

#include "exporter/pg/bounded_resolver.h"

namespace pgrepl {
namespace {

// libpq splits these lists on every comma; "" is one empty entry.
std::vector<std::string> Split(const std::string& list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t comma = list.find(',', start);
    out.push_back(list.substr(start, comma - start));
    if (comma == std::string::npos) return out;
    start = comma + 1;
  }
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    out += items[i];
  }
  return out;
}

// True for an entry that libpq would look up in DNS.
bool IsName(const std::string& host) {
  return !host.empty() && host[0] != '/' && host[0] != '@' &&
         !IsIpLiteral(host);
}

}  // namespace

HostList HostListOf(const ConninfoOptions& given,
                    const ConninfoOptions& defaults) {
  auto get = [&](const char* key) -> std::string {
    if (auto it = given.find(key); it != given.end()) return it->second;
    if (auto it = defaults.find(key); it != defaults.end()) return it->second;
    return std::string();
  };
  return {get("host"), get("hostaddr"), get("port"), get("service")};
}

ConninfoOptions LibpqDefaults() {
  ConninfoOptions out;
  PQconninfoOption* opts = PQconndefaults();
  if (opts == nullptr) return out;  // out of memory
  for (PQconninfoOption* o = opts; o->keyword != nullptr; ++o) {
    if (o->val != nullptr) out[o->keyword] = o->val;
  }
  PQconninfoFree(opts);
  return out;
}

Result<HostList> PinHostAddresses(const HostList& hosts,
                                  const HostLookup& lookup) {
  if (!hosts.hostaddr.empty() || !hosts.service.empty() || hosts.host.empty()) {
    return hosts;
  }
  const std::vector<std::string> names = Split(hosts.host);
  bool any_name = false;
  for (const auto& h : names) any_name = any_name || IsName(h);
  if (!any_name) return hosts;
  std::vector<std::string> ports;
  if (!hosts.port.empty()) ports = Split(hosts.port);
  const bool per_host_ports = ports.size() > 1;
  if (per_host_ports && ports.size() != names.size()) return hosts;

  HostList out;
  out.service = hosts.service;
  std::vector<std::string> host_out, addr_out, port_out;
  std::optional<Status> first_error;
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string& h = names[i];
    std::vector<std::string> addresses = {""};  // libpq's own, no DNS
    if (IsName(h)) {
      auto found = lookup(h);
      if (!found.ok() || found.value().empty()) {
        if (!first_error) {
          if (!found.ok() && found.status().kind() == Status::Kind::kTimeout) {
            first_error = found.status();
          } else {
            first_error = Status::Connect(
                found.ok() ? "resolving " + h + ": name not found"
                           : found.status().message());
          }
        }
        continue;  // libpq, too, goes on to the next host
      }
      addresses = found.value();
    }
    for (const auto& a : addresses) {
      host_out.push_back(h);
      addr_out.push_back(a);
      if (per_host_ports) port_out.push_back(ports[i]);
    }
  }
  if (host_out.empty()) return *first_error;
  out.host = Join(host_out);
  out.hostaddr = Join(addr_out);
  out.port = per_host_ports ? Join(port_out) : hosts.port;
  return out;
}

}  // namespace pgrepl
