// MergeSameServer: one shown instance per server, however many targets
// reach it.
#include "exporter/model/server_merge.h"

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <utility>

namespace pgrepl {
namespace {

using Group = std::vector<const SnapshotStore::Entry*>;

// Targets that reached one server, within one cluster.
std::vector<Group> GroupByServer(const Group& cluster) {
  std::vector<Group> groups;
  for (const SnapshotStore::Entry* e : cluster) {
    const InstanceSnapshot& s = *e->snapshot;
    Group* home = nullptr;
    if (s.server) {
      for (auto& g : groups) {
        const InstanceSnapshot& first = *g.front()->snapshot;
        if (first.server && first.server->SameServer(*s.server)) {
          home = &g;
          break;
        }
      }
    }
    if (home) {
      home->push_back(e);
    } else {
      groups.push_back({e});
    }
  }
  return groups;
}

// One group's shown instance before name collisions are settled.
struct Shown {
  const SnapshotStore::Entry* source;
  Group members;  // by name
  std::string name;
  bool from_server_name = false;  // the name is a member's server_name
};

Shown ShowGroup(Group members) {
  std::sort(members.begin(), members.end(), [](const auto* a, const auto* b) {
    return a->snapshot->instance < b->snapshot->instance;
  });
  Shown out{members.front(), members, members.front()->snapshot->instance};
  const SnapshotStore::Entry* discovered = nullptr;
  const SnapshotStore::Entry* named = nullptr;
  for (const auto* e : members) {
    if (e->snapshot->discovered && !discovered) discovered = e;
    if (!e->snapshot->server_name.empty() && !named) named = e;
  }
  if (discovered) {
    out.name = discovered->snapshot->instance;
  } else if (named) {
    out.name = named->snapshot->server_name;
    out.from_server_name = true;
  }
  // Up first, then discovered, then by name (members are by name).
  auto rank = [](const SnapshotStore::Entry* e) {
    return (e->snapshot->up ? 0 : 2) + (e->snapshot->discovered ? 0 : 1);
  };
  for (const auto* e : members) {
    if (rank(e) < rank(out.source)) out.source = e;
  }
  return out;
}

SnapshotStore::Entry Build(const Shown& shown) {
  const InstanceSnapshot& src = *shown.source->snapshot;
  std::vector<std::string> aliases;
  bool configured_primary = false, discovered = false;
  for (const auto* e : shown.members) {
    const InstanceSnapshot& m = *e->snapshot;
    if (m.instance != shown.name) aliases.push_back(m.instance);
    configured_primary = configured_primary || m.configured_primary;
    discovered = discovered || m.discovered;
  }
  if (shown.members.size() == 1 && shown.name == src.instance) {
    return *shown.source;  // shown as published
  }
  auto copy = std::make_shared<InstanceSnapshot>(src);
  copy->instance = shown.name;
  copy->aliases = std::move(aliases);
  copy->configured_primary = configured_primary;
  copy->discovered = discovered;
  return {std::move(copy), shown.source->recent_lag};
}

}  // namespace

std::vector<SnapshotStore::Entry> MergeSameServer(
    const std::vector<SnapshotStore::Entry>& entries) {
  std::map<std::string, Group> by_cluster;
  for (const auto& e : entries) by_cluster[e.snapshot->cluster].push_back(&e);

  std::vector<SnapshotStore::Entry> out;
  out.reserve(entries.size());
  for (const auto& [cluster, members] : by_cluster) {
    std::vector<Shown> shown;
    for (auto& g : GroupByServer(members)) shown.push_back(ShowGroup(g));
    // A name learnt from the server must not take another's place: it
    // yields to every name a target has, then to earlier learnt ones.
    std::set<std::string> taken;
    for (const auto& s : shown) {
      if (!s.from_server_name) taken.insert(s.name);
    }
    for (auto& s : shown) {
      if (!s.from_server_name) continue;
      if (!taken.insert(s.name).second) {
        s.name = s.members.front()->snapshot->instance;
        s.from_server_name = false;
      }
    }
    for (const auto& s : shown) out.push_back(Build(s));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return std::tie(a.snapshot->cluster, a.snapshot->instance) <
           std::tie(b.snapshot->cluster, b.snapshot->instance);
  });
  return out;
}

}  // namespace pgrepl
