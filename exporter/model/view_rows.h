// The rows the collectors read, as plain values: one struct per
// PostgreSQL view or function, shared by the snapshot and its readers.
#ifndef PGREPL_EXPORTER_MODEL_VIEW_ROWS_H_
#define PGREPL_EXPORTER_MODEL_VIEW_ROWS_H_

#include <cstdint>
#include <optional>
#include <string>

namespace pgrepl {

// pg_is_in_recovery() and the WAL positions (collector/pg_is_in_recovery).
struct RecoveryInfo {
  bool in_recovery = false;
  int server_version_num = 0;
  std::optional<uint64_t> current_lsn;  // primary: pg_current_wal_lsn()
  std::optional<uint64_t> receive_lsn;  // replica: pg_last_wal_receive_lsn()
  std::optional<uint64_t> replay_lsn;   // replica: pg_last_wal_replay_lsn()
  std::optional<bool> replay_paused;  // replica only; "pause requested" counts
  std::optional<uint32_t> timeline;   // primary: from its current WAL file
};

// One row of pg_stat_replication (collector/pg_stat_replication).
struct StandbyRow {
  std::optional<int64_t> pid;  // the walsender's; set on every parsed row
  std::string application_name;
  std::string client_addr;  // "" for Unix-socket standbys
  std::string state;        // startup, catchup, streaming, backup, stopping
  std::string sync_state;   // async, potential, sync, quorum
  std::optional<int64_t> sync_priority;  // 0: asynchronous
  // "" when the standby uses no slot; named by pg_replication_slots
  // (NameStandbySlots), from the slot whose active_pid is this pid.
  std::string slot;
  std::optional<uint64_t> current_lsn, sent_lsn, write_lsn, flush_lsn,
      replay_lsn;
  std::optional<double> write_lag, flush_lag, replay_lag;  // seconds
  std::optional<double> reply_age;                         // seconds
  // age(backend_xmin): transactions since the xmin the standby's
  // hot_standby_feedback holds back on this server; nullopt when NULL
  // (feedback off, or sent through a slot, which then holds the xmin).
  std::optional<int64_t> backend_xmin_age;
};

// One row of pg_replication_slots (collector/pg_replication_slots).
struct SlotRow {
  std::string name;
  std::string type;  // physical or logical
  bool active = false;
  std::optional<int64_t> active_pid;       // the walsender or decoder using it
  std::optional<uint64_t> retained_bytes;  // NULL restart_lsn: nothing held
  std::optional<std::string> wal_status;   // 13+: reserved..lost
  std::optional<int64_t> safe_wal_size;    // 13+; NULL when unlimited
  // age(xmin) / age(catalog_xmin) in transactions; nullopt when NULL.
  std::optional<int64_t> xmin_age, catalog_xmin_age;
  // Logical slots: current position minus confirmed_flush_lsn, what the
  // consumer has not confirmed yet; absent for physical slots.
  std::optional<uint64_t> confirmed_flush_lag_bytes;
};

// The row of pg_stat_wal_receiver (collector/pg_stat_wal_receiver). Absent
// (nullopt in the snapshot) when no WAL receiver process runs, which on a
// replica means the stream is down.
struct WalReceiverInfo {
  std::string status;  // streaming, starting, waiting, restarting, stopping
  std::optional<int> pid;
  // pg_postmaster_start_time() as epoch seconds: with the pid, it names the
  // receiver process even across a container restart that reuses pids.
  std::optional<double> postmaster_start;
  std::optional<uint32_t> received_tli;
  std::optional<uint64_t> flushed_lsn;  // received_lsn before PostgreSQL 13
  std::optional<uint64_t> written_lsn;  // PostgreSQL 13+
  std::optional<double> last_msg_age;   // seconds, replica clock only
  std::string upstream_host;
  std::string upstream_port;
  std::string slot;
};

// What can hold a replica's replay back (collector/replay_blockers): the
// startup process's wait in pg_stat_activity, the oldest open transaction,
// and the settings that delay replay or let it wait for queries.
struct ReplayBlockers {
  // The startup process's wait_event_type / wait_event; "" when it is not
  // waiting (or on a primary, which has no startup process).
  std::string startup_wait_event_type;
  std::string startup_wait_event;
  // Seconds since the oldest open transaction of a client backend began
  // (other than the exporter's own); nullopt when none is open.
  std::optional<double> oldest_xact_age;
  // max_standby_streaming_delay in seconds; -1 means wait forever.
  std::optional<double> max_standby_streaming_delay;
  std::optional<double> apply_delay;  // recovery_min_apply_delay, seconds
  std::optional<bool> hot_standby_feedback;
  // False in a reading carried forward to a poll that did not read (the
  // replica was not lagging): the waits above are then "", the rest is
  // the latest reading's.
  bool waits_read = true;
};
// The name of that collector, which stores a ReplayBlockers reading.
inline constexpr char kReplayBlockersCollector[] = "replay_blockers";

// Which server answers, read once per session. The system identifier is
// set by initdb and shared by a primary and its physical replicas: it names
// the database cluster, so an address that now reaches another cluster is
// told apart. The postmaster start time names one run of one server, so
// the pair names one server: two targets that read the same pair reach
// the same server (model/server_merge).
struct ServerIdentity {
  std::string system_identifier;  // decimal, as PostgreSQL prints it
  std::string postmaster_start;   // timestamptz text; "" when unreadable
  // inet_server_addr(): the address the server accepted this session on,
  // behind any TCP proxy (a Service, HAProxy) the pod's own. "" over a
  // Unix socket.
  std::string address;

  // True when both name the same run of the same server; never when a
  // start time is unknown.
  bool SameServer(const ServerIdentity& o) const {
    return !postmaster_start.empty() &&
           system_identifier == o.system_identifier &&
           postmaster_start == o.postmaster_start;
  }
};

// How the replica names itself to its upstream, read from its settings.
struct ReplicaIdentity {
  std::string standby_name;  // application_name the upstream will show
  std::string slot;          // primary_slot_name, "" when none
};

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_MODEL_VIEW_ROWS_H_
