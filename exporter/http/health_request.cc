// HealthRequest: what a /primary, /replica or /read-only request asks for,
// and which watched instance it names.
#include "exporter/http/health_request.h"

#include "exporter/base/text.h"
#include "exporter/http/query_string.h"

namespace pgrepl {
namespace {

// How much of a name from the request a reply echoes (QuoteInput).
constexpr size_t kEchoLimit = 64;

}  // namespace

Result<HealthRequest> ParseHealthRequest(std::string_view query,
                                         bool allow_max_lag) {
  auto params = ParseQueryString(query);
  if (!params.ok()) return params.status();
  HealthRequest out;
  bool seen_instance = false, seen_cluster = false, seen_max_lag = false;
  for (const auto& p : params.value()) {
    bool* seen = nullptr;
    if (p.key == "instance") {
      seen = &seen_instance;
      out.instance = p.value;
    } else if (p.key == "cluster") {
      seen = &seen_cluster;
      out.cluster = p.value;
    } else if (p.key == "max_lag" && allow_max_lag) {
      seen = &seen_max_lag;
      auto limit = ParseLagLimit(p.value);
      if (!limit.ok())
        return Status::Invalid("max_lag: " + limit.status().message());
      out.max_lag = limit.value();
    } else {
      return Status::Invalid("unknown query parameter \"" +
                             QuoteInput(p.key, kEchoLimit, /*mark_cut=*/true) +
                             "\" (accepted: instance, cluster" +
                             (allow_max_lag ? ", max_lag)" : ")"));
    }
    if (*seen)
      return Status::Invalid("query parameter \"" + p.key + "\" given twice");
    *seen = true;
  }
  if (seen_instance && out.instance.empty()) {
    return Status::Invalid("query parameter \"instance\" is empty");
  }
  return out;
}

InstanceChoice ChooseInstance(const std::vector<SnapshotStore::Entry>& entries,
                              const HealthRequest& request, bool sidecar) {
  InstanceChoice choice;
  if (request.instance.empty()) {
    if (!sidecar) {
      return {400, "give ?instance=NAME (or run the exporter with --sidecar)",
              0};
    }
    if (entries.size() != 1) return {503, "sidecar instance not known yet", 0};
    return choice;
  }
  std::vector<size_t> found;
  for (size_t i = 0; i < entries.size(); ++i) {
    const InstanceSnapshot& s = *entries[i].snapshot;
    if (s.instance == request.instance &&
        (request.cluster.empty() || s.cluster == request.cluster)) {
      found.push_back(i);
    }
  }
  if (found.empty()) {
    std::string name =
        QuoteInput(request.instance, kEchoLimit, /*mark_cut=*/true);
    if (!request.cluster.empty())
      name = QuoteInput(request.cluster, kEchoLimit, /*mark_cut=*/true) + "/" +
             name;
    return {503, "unknown instance \"" + name + "\"", 0};
  }
  if (found.size() > 1) {
    std::string clusters;
    for (size_t i : found) {
      if (!clusters.empty()) clusters += ", ";
      clusters += entries[i].snapshot->cluster;
    }
    return {503,
            "instance \"" +
                QuoteInput(request.instance, kEchoLimit, /*mark_cut=*/true) +
                "\" is ambiguous: it exists in clusters " + clusters +
                "; add &cluster=NAME",
            0};
  }
  choice.index = found[0];
  return choice;
}

}  // namespace pgrepl
