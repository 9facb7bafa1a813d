// Fleet: owns every Poller, including replicas discovered through DNS.
#include "exporter/poll/fleet.h"

#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <set>

#include "exporter/base/logging.h"
#include "exporter/base/metric_sink.h"
#include "exporter/model/snapshot_store.h"

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

Fleet::Fleet(const Config& config,
             const std::vector<std::unique_ptr<Collector>>* collectors,
             SnapshotStore* store)
    : config_(config), collectors_(collectors), store_(store) {}

Fleet::~Fleet() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& d : discovery_) {
    if (d->thread.joinable()) d->thread.join();
  }
  // Pollers join in their destructors; stop them in parallel is not
  // needed: each waits at most one poll timeout.
  static_pollers_.clear();
  discovery_.clear();
  histories_.clear();
}

void Fleet::Start() {
  const auto options = Poller::OptionsFrom(config_);
  for (const auto& cluster : config_.clusters) {
    auto& history = histories_[cluster.name];
    history = std::make_unique<ClusterHistory>();
    for (const auto& target : cluster.instances) {
      static_pollers_.push_back(std::make_unique<Poller>(
          cluster.name, target, false, options, collectors_, history.get(),
          store_));
      static_pollers_.back()->Start();
    }
    if (!cluster.discovery.host.empty()) {
      auto d = std::make_unique<DiscoveryState>();
      d->cluster = cluster;
      d->history = history.get();
      DiscoveryState* raw = d.get();
      discovery_.push_back(std::move(d));
      raw->thread = std::thread([this, raw] { DiscoveryLoop(raw); });
    }
  }
}

void Fleet::DiscoveryLoop(DiscoveryState* d) {
  while (true) {
    auto found = ResolveReplicas(d->cluster.discovery.host);
    if (found.ok()) {
      Reconcile(d, found.value());
    } else {
      std::lock_guard<std::mutex> lock(mu_);
      d->errors++;
      Log(spdlog::level::warn, "discovery failed",
          {{"cluster", d->cluster.name}, {"err", found.status().message()}});
    }
    std::unique_lock<std::mutex> lock(mu_);
    if (cv_.wait_for(lock, config_.poll_interval, [this] { return stop_; })) {
      break;
    }
  }
  // Stop this cluster's pollers on this thread, so the destructor of
  // Fleet does not wait for them one by one.
  for (auto& [name, poller] : d->pollers) store_->Remove(d->cluster.name, name);
  d->pollers.clear();
}

void Fleet::Reconcile(DiscoveryState* d,
                      const std::vector<DiscoveredAddress>& found) {
  std::set<std::string> names;
  for (const auto& a : found) {
    names.insert(a.name);
    if (d->pollers.count(a.name)) continue;
    InstanceTarget t;
    t.name = a.name;
    t.conninfo = d->cluster.discovery.base_conninfo + " host=" +
                 d->cluster.discovery.host + " hostaddr=" + a.address +
                 " port=" + std::to_string(d->cluster.discovery.port);
    Log(spdlog::level::info, "discovered replica",
        {{"cluster", d->cluster.name}, {"instance", a.name},
         {"address", a.address}});
    auto p = std::make_unique<Poller>(d->cluster.name, t, true,
                                      Poller::OptionsFrom(config_), collectors_,
                                      d->history, store_);
    p->Start();
    d->pollers.emplace(a.name, std::move(p));
  }
  for (auto it = d->pollers.begin(); it != d->pollers.end();) {
    if (names.count(it->first)) {
      ++it;
      continue;
    }
    Log(spdlog::level::info, "replica gone from DNS",
        {{"cluster", d->cluster.name}, {"instance", it->first}});
    std::string name = it->first;
    it = d->pollers.erase(it);  // joins the poller
    store_->Remove(d->cluster.name, name);
  }
  std::lock_guard<std::mutex> lock(mu_);
  d->discovered = found.size();
  d->resolved_once = true;
}

void Fleet::Emit(MetricSink& root) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& d : discovery_) {
    MetricSink sink = root.WithBase({{"cluster", d->cluster.name}});
    sink.Counter("pgrepl_discovery_errors_total",
                 "Failed DNS resolutions of the replica discovery name.",
                 static_cast<double>(d->errors));
    if (d->resolved_once) {
      sink.Gauge("pgrepl_discovered_replicas",
                 "Addresses the replica discovery name resolved to last.",
                 static_cast<double>(d->discovered));
    }
  }
}

}  // namespace pgrepl
