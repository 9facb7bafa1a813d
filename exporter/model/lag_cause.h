// Lag cause: why a replica is behind, decided from one poll's readings.
#ifndef PGREPL_EXPORTER_MODEL_LAG_CAUSE_H_
#define PGREPL_EXPORTER_MODEL_LAG_CAUSE_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>

namespace pgrepl {

struct InstanceSnapshot;
struct ReplayBlockers;

// The causes, in the label order of pgrepl_replica_lag_cause.
enum class LagCause {
  kNone,              // not lagging (lag under kLagCauseMinSeconds)
  kNetworkOrSender,   // WAL the primary has is not written on the replica
  kDisk,              // written on the replica but not yet flushed
  kRecoveryConflict,  // replay waits for a query on the replica
  kReplayPaused,      // pg_wal_replay_pause()
  kApplyDelay,        // recovery_min_apply_delay > 0
  kReplayCpu,         // replay behind with none of the above
};
constexpr std::array<LagCause, 7> kLagCauses = {
    LagCause::kNone,         LagCause::kNetworkOrSender,
    LagCause::kDisk,         LagCause::kRecoveryConflict,
    LagCause::kReplayPaused, LagCause::kApplyDelay,
    LagCause::kReplayCpu};
// "none", "network_or_sender", "disk", "recovery_conflict",
// "replay_paused", "apply_delay", "replay_cpu".
const char* LagCauseName(LagCause cause);

// A replica under this lag is not lagging: a busy primary keeps every
// replica a fraction of a second behind, which has no cause worth naming.
constexpr double kLagCauseMinSeconds = 1.0;

// True when the startup process waits on a recovery conflict, by its
// pg_stat_activity wait_event_type / wait_event:
//   Lock / (any): a query holds a lock replay needs (PostgreSQL 12+);
//   BufferPin / BufferPin: a query pins a page replay must clean (12+);
//   IPC / RecoveryConflictSnapshot: a query's snapshot still sees rows the
//     primary's vacuum removed (13+);
//   IPC / RecoveryConflictTablespace: a query uses a dropped tablespace
//     (13+).
// PostgreSQL 12 sleeps without a wait event during snapshot and tablespace
// conflicts: see RecoveryConflictWaiting.
bool IsRecoveryConflictWait(const std::string& wait_event_type,
                            const std::string& wait_event);

// Whether the replica's startup process waits on a recovery conflict, from
// a replay_blockers reading: IsRecoveryConflictWait of its wait event. On
// PostgreSQL 12 (server_version_num below 130000) a startup process with
// no wait event is either replaying or sleeping in a snapshot or
// tablespace conflict: nullopt (unknown) while a client transaction is
// open on the replica, false when none is (nothing to conflict with). A
// reading whose waits were not read (carried while the replica kept up)
// is false: replay that waits on a query falls behind within the second.
std::optional<bool> RecoveryConflictWaiting(const ReplayBlockers& b,
                                            int server_version_num);

// Everything the decision reads, as plain values.
struct LagCauseInput {
  // The replica's lag (InstanceSnapshot::replica_lag_seconds / _bytes):
  // seconds NaN or nullopt when unknown; bytes = the primary's latest
  // position minus replay, nullopt without a primary reference.
  std::optional<double> lag_seconds;
  std::optional<double> lag_bytes;
  bool streaming = false;  // the WAL receiver streams
  // The replica's positions: written by the WAL receiver (13+; else equal
  // to flushed), flushed (received), replayed.
  std::optional<uint64_t> written_lsn, flushed_lsn, replay_lsn;
  bool replay_paused = false;  // paused or pause requested
  std::string startup_wait_event_type, startup_wait_event;
  // False when the waits were not read this poll (ReplayBlockers::
  // waits_read): a lag held in replay then has no cause until they are.
  bool waits_read = true;
  // True when RecoveryConflictWaiting() is unknown (PostgreSQL 12): a lag
  // held in replay then has no cause unless paused or delayed.
  bool conflict_wait_unknown = false;
  double apply_delay_seconds = 0;  // recovery_min_apply_delay
};

// Bytes in each stage between the primary's position and replay.
struct LagStages {
  std::optional<double> network;  // primary - written; nullopt: no primary
  std::optional<double> disk;     // written - flushed
  std::optional<double> replay;   // flushed - replayed
};

struct LagCauseVerdict {
  LagCause cause = LagCause::kNone;
  LagStages stages;
};

// The split into stages, each clamped at 0 (readings of one poll come from
// several statements a moment apart).
LagStages SplitLag(const LagCauseInput& in);

// The rules, in order; nullopt when the lag is unknown:
//  1. Lag under kLagCauseMinSeconds: kNone.
//  2. The stage holding the most bytes decides; a tie goes to the later
//     stage. A stream that is down with no primary reference counts as
//     network_or_sender.
//  3. network stage: kNetworkOrSender; disk stage: kDisk.
//  4. replay stage: kReplayPaused when paused (or the startup process waits
//     on RecoveryPause); else kRecoveryConflict when the startup process
//     waits on a conflict; else kApplyDelay when recovery_min_apply_delay
//     is set (or the startup process waits on RecoveryApplyDelay); else
//     nullopt when the conflict wait is unknown (conflict_wait_unknown);
//     else kReplayCpu.
std::optional<LagCauseVerdict> DecideLagCause(const LagCauseInput& in);

// The input for a replica's snapshot (its lag, receiver, recovery and
// replay_blockers readings); nullopt for anything but a replica whose
// replay_blockers collector succeeded.
std::optional<LagCauseInput> LagCauseInputOf(const InstanceSnapshot& s);

// DecideLagCause(LagCauseInputOf(s)), or nullopt.
std::optional<LagCauseVerdict> ReplicaLagCause(const InstanceSnapshot& s);

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_MODEL_LAG_CAUSE_H_
