// Health decisions for /primary, /replica and /read-only: pure functions
// of one instance's latest snapshot and the lag of its latest polls.
#include "exporter/http/health.h"

#include <cmath>
#include <cstdio>

#include "exporter/base/text.h"

namespace pgrepl {
namespace {

// How much of a poll error or receiver status a reason quotes (OneLine).
constexpr size_t kQuoteLimit = 200;

std::optional<double> LagOf(const LagSample& sample, LagLimit::Kind kind) {
  if (kind == LagLimit::Kind::kSeconds) {
    if (std::isnan(sample.seconds)) return std::nullopt;
    return sample.seconds;
  }
  return sample.bytes;
}

HealthVerdict Verdict(bool ok, const InstanceSnapshot& s,
                      const std::string& why) {
  return {ok, s.cluster + "/" + s.instance + ": " + why};
}

HealthVerdict DecideReplica(const InstanceSnapshot& s, const LagWindow& recent,
                            const LagLimit& limit, const HealthPolicy& policy) {
  if (s.serving_without_primary) {
    char age[64] = "";
    if (s.primary_last_seen_age_seconds) {
      std::snprintf(age, sizeof age, " %.1fs ago",
                    *s.primary_last_seen_age_seconds);
    }
    return Verdict(true, s,
                   std::string("serving without primary: no primary is "
                               "reachable, and this replica has replayed "
                               "everything the primary had written when last "
                               "seen") +
                       age);
  }
  switch (s.replica_state()) {
    case ReplicaState::kNoReceiver:
      return Verdict(false, s,
                     "replica's WAL receiver is not running (stream broken)");
    case ReplicaState::kNotStreaming:
      return Verdict(false, s,
                     "replica's WAL receiver is " +
                         OneLine(s.wal_receiver->status, kQuoteLimit) +
                         ", not streaming");
    case ReplicaState::kUnknown:
      return Verdict(false, s,
                     "replica's WAL receiver state unknown: " +
                         OneLine(s.last_error, kQuoteLimit));
    case ReplicaState::kNotReplica:
    case ReplicaState::kStreaming:
      break;
  }
  std::optional<double> lag = LagOf(LagWindow::SampleOf(s), limit.kind);
  const char* what =
      limit.kind == LagLimit::Kind::kSeconds ? "lag" : "byte lag";
  if (!lag) return Verdict(false, s, std::string(what) + " unknown");
  if (*lag >= limit.value) {
    return Verdict(false, s,
                   std::string(what) + " " + FormatLag(*lag, limit.kind) +
                       " is not under max_lag " + limit.text);
  }
  // Anti-flap: the previous polls must have been under the limit too. The
  // newest sample of `recent` is this snapshot's own, already checked.
  for (size_t ago = 1; ago < policy.stable_polls && ago < recent.size();
       ++ago) {
    std::optional<double> old = LagOf(recent.Get(ago), limit.kind);
    if (!old || *old >= limit.value) {
      return Verdict(false, s,
                     std::string(what) + " " + FormatLag(*lag, limit.kind) +
                         " is under max_lag " + limit.text +
                         " but was not in each of the last " +
                         std::to_string(policy.stable_polls) + " polls");
    }
  }
  return Verdict(true, s,
                 "streaming replica, " + std::string(what) + " " +
                     FormatLag(*lag, limit.kind) + " under max_lag " +
                     limit.text);
}

}  // namespace

const char* HealthCheckName(HealthCheck check) {
  switch (check) {
    case HealthCheck::kPrimary:
      return "primary";
    case HealthCheck::kReplica:
      return "replica";
    case HealthCheck::kReadOnly:
      return "read-only";
  }
  return "unknown";
}

std::string FormatLag(double value, LagLimit::Kind kind) {
  char buf[64];
  if (kind == LagLimit::Kind::kSeconds) {
    std::snprintf(buf, sizeof buf, "%.3fs", value);
  } else {
    std::snprintf(buf, sizeof buf, "%.0fB", value);
  }
  return buf;
}

HealthVerdict DecideHealth(HealthCheck check, const InstanceSnapshot& s,
                           const LagWindow& recent, const LagLimit& limit,
                           const HealthPolicy& policy,
                           InstanceSnapshot::WallClock::time_point now) {
  if (!s.polled) return Verdict(false, s, "not polled yet");
  auto age = now - s.polled_at;
  if (age > policy.stale_after) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "last poll %.1fs ago: poller stalled",
                  std::chrono::duration<double>(age).count());
    return Verdict(false, s, buf);
  }
  if (!s.up) {
    return Verdict(false, s, "down: " + OneLine(s.last_error, kQuoteLimit));
  }
  if (s.role() == Role::kUnknown) return Verdict(false, s, "role unknown");
  const bool primary = s.role() == Role::kPrimary;
  switch (check) {
    case HealthCheck::kPrimary:
      return primary
                 ? Verdict(true, s, "writable primary (not in recovery)")
                 : Verdict(false, s, "in recovery (a replica), not writable");
    case HealthCheck::kReadOnly:
      if (primary)
        return Verdict(true, s, "primary (read-write), serves reads");
      return DecideReplica(s, recent, limit, policy);
    case HealthCheck::kReplica:
      if (primary)
        return Verdict(false, s, "not in recovery (a primary), not a replica");
      return DecideReplica(s, recent, limit, policy);
  }
  return Verdict(false, s, "unknown check");
}

}  // namespace pgrepl
