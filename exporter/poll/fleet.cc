// Fleet: owns every Poller, including replicas discovered through DNS.
#include "exporter/poll/fleet.h"

#include <functional>
#include <set>
#include <string>

#include "exporter/base/logging.h"
#include "exporter/collector/pg_is_in_recovery.h"

namespace pgrepl {

namespace {

// The k-th of n even places in the interval.
std::chrono::milliseconds Spread(size_t k, size_t n,
                                 std::chrono::milliseconds interval) {
  if (n == 0) return std::chrono::milliseconds(0);
  return std::chrono::milliseconds(interval.count() * static_cast<int64_t>(k) /
                                   static_cast<int64_t>(n));
}

}  // namespace

Fleet::Fleet(const Config& config,
             const std::vector<std::unique_ptr<Collector>>* collectors,
             SnapshotStore* store, SessionFactory sessions, Resolver resolver)
    : config_(config),
      collectors_(collectors),
      store_(store),
      sessions_(std::move(sessions)),
      resolver_(std::move(resolver)) {
  const auto options = Poller::OptionsFrom(config_);
  size_t configured = 0;
  for (const auto& cluster : config_.clusters) {
    configured += cluster.instances.size();
  }
  for (const auto& cluster : config_.clusters) {
    auto& history = histories_[cluster.name];
    history = std::make_unique<ClusterHistory>();
    for (const auto& target : cluster.instances) {
      auto o = options;
      // The configured primary (DB_HOST, the write endpoint) of a cluster
      // whose replicas are discovered by pod is named after the pod it
      // reaches, as they are, so its series follows the server through a
      // failover (model/server_merge).
      if (target.configured_primary && !cluster.discovery.host.empty()) {
        o.server_namer = resolver_;
      }
      o.phase = Spread(static_pollers_.size(), configured, o.interval);
      static_pollers_.push_back(
          std::make_unique<Poller>(cluster.name, target, false, o, collectors_,
                                   history.get(), store_, sessions_));
    }
    if (config_.sidecar && !config_.sidecar_primary.conninfo.empty() &&
        !static_pollers_.empty() && !primary_watch_) {
      // One short query per poll: the role and WAL position statement, run
      // by the sidecar's own poller at the start of each of its cycles, so
      // every local poll sees the primary's reach of the same cycle. It
      // gets half an interval at most, so a hung primary cannot hold the
      // local poll up longer.
      watch_collectors_.push_back(std::make_unique<PgIsInRecoveryCollector>());
      auto watch = options;
      watch.primary_watch = true;
      const std::chrono::milliseconds budget = config_.poll_interval / 2;
      watch.timeout = std::min(watch.timeout, budget);
      watch.connect_timeout = std::min(watch.connect_timeout, budget);
      primary_watch_ = std::make_unique<Poller>(
          cluster.name, config_.sidecar_primary, false, watch,
          &watch_collectors_, history.get(), store_, sessions_);
      static_pollers_.back()->AttachPrimaryWatch(primary_watch_.get());
    }
    if (!cluster.discovery.host.empty()) {
      auto d = std::make_unique<DiscoveryState>();
      d->cluster = cluster;
      d->history = history.get();
      discovery_.push_back(std::move(d));
    }
  }
}

void Fleet::RequestStop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  // Every poller stops at once, so N hung instances cost one poll timeout,
  // not N.
  for (auto& p : static_pollers_) p->RequestStop();
  // A discovery thread busy resolving stops its pollers itself on exit.
  for (auto& d : discovery_) {
    std::unique_lock<std::mutex> lock(d->mu, std::try_to_lock);
    if (!lock.owns_lock()) continue;
    for (auto& [name, found] : d->pollers) found.poller->RequestStop();
  }
}

Fleet::~Fleet() {
  RequestStop();  // destroying a poller then joins it
  for (auto& d : discovery_) {
    if (d->thread.joinable()) d->thread.join();
  }
  static_pollers_.clear();  // joins the thread that runs primary_watch_
  for (auto& d : discovery_) d->pollers.clear();
}

void Fleet::Start() {
  for (auto& p : static_pollers_) p->Start();
  for (auto& d : discovery_) {
    DiscoveryState* raw = d.get();
    raw->thread = std::thread([this, raw] { DiscoveryLoop(raw); });
  }
}

void Fleet::DiscoverNow() {
  for (auto& d : discovery_) DiscoverOnce(d.get());
}

void Fleet::DiscoveryLoop(DiscoveryState* d) {
  while (true) {
    DiscoverOnce(d);
    std::unique_lock<std::mutex> lock(mu_);
    if (cv_.wait_for(lock, config_.poll_interval, [this] { return stop_; })) {
      break;
    }
  }
  // Join this cluster's pollers on this thread, beside the others.
  std::lock_guard<std::mutex> lock(d->mu);
  for (auto& [name, found] : d->pollers) found.poller->RequestStop();
  std::vector<std::string> names;
  for (const auto& [name, found] : d->pollers) names.push_back(name);
  d->pollers.clear();  // joins; a poller mid-cycle may publish once more
  for (const auto& name : names) store_->Remove(d->cluster.name, name);
}

void Fleet::DiscoverOnce(DiscoveryState* d) {
  std::lock_guard<std::mutex> lock(d->mu);
  // One poll interval bounds the lookups, so a hung resolver delays the
  // next discovery by at most that and never stalls a poller.
  const auto deadline =
      std::chrono::steady_clock::now() + config_.poll_interval;
  auto found = resolver_(d->cluster.discovery.host, deadline);
  if (found.ok()) {
    if (d->failure_logged) {
      Log(spdlog::level::info, "discovery recovered",
          {{"cluster", d->cluster.name}});
      d->failure_logged = false;
    }
    Reconcile(d, found.value());
  } else {
    d->stats.errors++;
    // Warn once per outage; repeats go to debug.
    Log(d->failure_logged ? spdlog::level::debug : spdlog::level::warn,
        "discovery failed",
        {{"cluster", d->cluster.name}, {"err", found.status().message()}});
    d->failure_logged = true;
  }
  store_->PublishDiscovery(d->cluster.name, d->stats);
}

std::string Fleet::ConninfoFor(const DiscoveryState& d,
                               const DiscoveredAddress& a) const {
  return d.cluster.discovery.base_conninfo +
         " host=" + d.cluster.discovery.host + " hostaddr=" + a.address +
         " port=" + std::to_string(d.cluster.discovery.port);
}

void Fleet::Reconcile(DiscoveryState* d,
                      const std::vector<DiscoveredAddress>& found) {
  std::set<std::string> names;
  for (const auto& a : found) {
    names.insert(a.name);
    auto it = d->pollers.find(a.name);
    if (it != d->pollers.end()) {
      if (it->second.address == a.address) continue;
      // A restarted pod keeps its name and gets a new address: follow it,
      // or the series would describe whatever now holds the old one.
      Log(spdlog::level::info, "discovered replica moved",
          {{"cluster", d->cluster.name},
           {"instance", a.name},
           {"from", it->second.address},
           {"address", a.address}});
      it->second.poller->Retarget(ConninfoFor(*d, a));
      it->second.address = a.address;
      continue;
    }
    InstanceTarget t;
    t.name = a.name;
    t.conninfo = ConninfoFor(*d, a);
    Log(spdlog::level::info, "discovered replica",
        {{"cluster", d->cluster.name},
         {"instance", a.name},
         {"address", a.address}});
    auto o = Poller::OptionsFrom(config_);
    // Discovered together, placed apart: by the name's hash.
    o.phase = Spread(std::hash<std::string>()(a.name) % 1000, 1000, o.interval);
    auto p = std::make_unique<Poller>(d->cluster.name, t, true, o, collectors_,
                                      d->history, store_, sessions_);
    p->Start();
    d->pollers.emplace(a.name, Discovered{a.address, std::move(p)});
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
  d->stats.discovered = found.size();
  d->stats.resolved_once = true;
}

}  // namespace pgrepl
