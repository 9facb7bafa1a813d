// Lag cause: why a replica is behind, decided from one poll's readings.
#include "exporter/model/lag_cause.h"

#include <algorithm>
#include <cmath>

#include "exporter/model/snapshot.h"

namespace pgrepl {
namespace {

// a - b in bytes, clamped at 0; nullopt when either is unknown.
std::optional<double> Gap(const std::optional<uint64_t>& a,
                          const std::optional<uint64_t>& b) {
  if (!a || !b) return std::nullopt;
  return *a > *b ? static_cast<double>(*a - *b) : 0.0;
}

}  // namespace

const char* LagCauseName(LagCause cause) {
  switch (cause) {
    case LagCause::kNone:
      return "none";
    case LagCause::kNetworkOrSender:
      return "network_or_sender";
    case LagCause::kDisk:
      return "disk";
    case LagCause::kRecoveryConflict:
      return "recovery_conflict";
    case LagCause::kReplayPaused:
      return "replay_paused";
    case LagCause::kApplyDelay:
      return "apply_delay";
    case LagCause::kReplayCpu:
      return "replay_cpu";
  }
  return "none";
}

bool IsRecoveryConflictWait(const std::string& wait_event_type,
                            const std::string& wait_event) {
  if (wait_event_type == "Lock" || wait_event_type == "BufferPin") return true;
  return wait_event_type == "IPC" &&
         (wait_event == "RecoveryConflictSnapshot" ||
          wait_event == "RecoveryConflictTablespace");
}

std::optional<bool> RecoveryConflictWaiting(const ReplayBlockers& b,
                                            int server_version_num) {
  if (!b.waits_read) return false;
  if (IsRecoveryConflictWait(b.startup_wait_event_type, b.startup_wait_event)) {
    return true;
  }
  if (server_version_num > 0 && server_version_num < 130000 &&
      b.startup_wait_event_type.empty() && b.oldest_xact_age) {
    return std::nullopt;
  }
  return false;
}

LagStages SplitLag(const LagCauseInput& in) {
  LagStages out;
  const auto& written = in.written_lsn ? in.written_lsn : in.flushed_lsn;
  out.disk = Gap(written, in.flushed_lsn);
  out.replay = Gap(in.flushed_lsn, in.replay_lsn);
  if (in.lag_bytes && in.replay_lsn && written) {
    // The primary's position is replay + lag_bytes; what lies beyond the
    // replica's written position is still on the way.
    const double primary =
        static_cast<double>(*in.replay_lsn) + std::max(0.0, *in.lag_bytes);
    out.network = std::max(0.0, primary - static_cast<double>(*written));
  }
  return out;
}

std::optional<LagCauseVerdict> DecideLagCause(const LagCauseInput& in) {
  if (!in.lag_seconds || std::isnan(*in.lag_seconds)) return std::nullopt;
  LagCauseVerdict out;
  out.stages = SplitLag(in);
  if (*in.lag_seconds < kLagCauseMinSeconds) return out;  // kNone

  const double network = out.stages.network.value_or(0);
  const double disk = out.stages.disk.value_or(0);
  const double replay = out.stages.replay.value_or(0);
  if (!in.streaming && !out.stages.network) {
    // Nothing arrives and the primary's position is not known: the stage
    // that holds the lag cannot be measured, but the stream is the break.
    out.cause = LagCause::kNetworkOrSender;
    return out;
  }
  if (network > disk && network > replay) {
    out.cause = LagCause::kNetworkOrSender;
    return out;
  }
  if (disk > replay) {
    out.cause = LagCause::kDisk;
    return out;
  }
  const std::string& type = in.startup_wait_event_type;
  const std::string& event = in.startup_wait_event;
  if (in.replay_paused || (type == "IPC" && event == "RecoveryPause")) {
    out.cause = LagCause::kReplayPaused;
  } else if (!in.waits_read) {
    return std::nullopt;  // a conflict, the delay or the CPU: not read yet
  } else if (IsRecoveryConflictWait(type, event)) {
    out.cause = LagCause::kRecoveryConflict;
  } else if (in.apply_delay_seconds > 0 ||
             (type == "Timeout" && event == "RecoveryApplyDelay")) {
    out.cause = LagCause::kApplyDelay;
  } else if (in.conflict_wait_unknown) {
    return std::nullopt;  // PostgreSQL 12: a conflict or the CPU
  } else {
    out.cause = LagCause::kReplayCpu;
  }
  return out;
}

std::optional<LagCauseInput> LagCauseInputOf(const InstanceSnapshot& s) {
  if (s.role() != Role::kReplica || !s.recovery) return std::nullopt;
  if (!s.CollectorOk(kReplayBlockersCollector)) return std::nullopt;
  const auto* b = s.Reading<ReplayBlockers>(kReplayBlockersCollector);
  if (b == nullptr) return std::nullopt;
  const RecoveryInfo& r = *s.recovery;
  LagCauseInput in;
  in.lag_seconds = s.replica_lag_seconds;
  in.lag_bytes = s.replica_lag_bytes;
  in.streaming = s.replica_state() == ReplicaState::kStreaming;
  in.replay_lsn = r.replay_lsn;
  if (s.wal_receiver && s.wal_receiver->flushed_lsn) {
    // Both positions from the one receiver row.
    in.flushed_lsn = s.wal_receiver->flushed_lsn;
    in.written_lsn = s.wal_receiver->written_lsn;
  } else {
    in.flushed_lsn = r.receive_lsn;
  }
  in.replay_paused = r.replay_paused.value_or(false);
  in.startup_wait_event_type = b->startup_wait_event_type;
  in.startup_wait_event = b->startup_wait_event;
  in.waits_read = b->waits_read;
  in.conflict_wait_unknown =
      !RecoveryConflictWaiting(*b, s.server_version_num.value_or(0))
           .has_value();
  in.apply_delay_seconds = b->apply_delay.value_or(0);
  return in;
}

std::optional<LagCauseVerdict> ReplicaLagCause(const InstanceSnapshot& s) {
  auto in = LagCauseInputOf(s);
  if (!in) return std::nullopt;
  return DecideLagCause(*in);
}

}  // namespace pgrepl
