// Builders of the rows a primary and a replica return to the collectors'
// queries, after the sample rows above each SQL function.
#include "tests/unit/testing/canned_rows.h"

#include "exporter/collector/pg_is_in_recovery.h"
#include "exporter/collector/pg_replication_slots.h"
#include "exporter/collector/pg_stat_archiver.h"
#include "exporter/collector/pg_stat_database_conflicts.h"
#include "exporter/collector/pg_stat_replication.h"
#include "exporter/collector/pg_stat_subscription.h"
#include "exporter/collector/pg_stat_wal.h"
#include "exporter/collector/pg_stat_wal_receiver.h"
#include "exporter/collector/replay_blockers.h"
#include "exporter/collector/server_identity.h"
#include "exporter/collector/sync_replication.h"

namespace pgrepl {
namespace canned {

RoleCells PrimaryRole() {
  RoleCells r;
  r.in_recovery = "f";
  r.current_lsn = "0/3000148";
  r.walfile = "000000010000000000000003";
  return r;
}

RoleCells ReplicaRole() {
  RoleCells r;
  r.in_recovery = "t";
  r.receive_lsn = "0/3000148";
  r.replay_lsn = "0/3000148";
  r.replay_paused = "f";
  return r;
}

Rows RoleRows(const RoleCells& x) {
  Rows r;
  r.columns = {"in_recovery", "server_version_num", "current_lsn",  "walfile",
               "receive_lsn", "replay_lsn",         "replay_paused"};
  r.values = {{x.in_recovery, x.server_version_num, x.current_lsn, x.walfile,
               x.receive_lsn, x.replay_lsn, x.replay_paused}};
  return r;
}

Rows ReceiverRows(const std::vector<ReceiverCells>& rows) {
  Rows r;
  r.columns = {"pid",          "postmaster_start", "status",
               "received_tli", "flushed_lsn",      "written_lsn",
               "last_msg_age", "upstream_host",    "upstream_port",
               "slot"};
  for (const auto& x : rows) {
    r.values.push_back({x.pid, x.postmaster_start, x.status, x.received_tli,
                        x.flushed_lsn, x.written_lsn, x.last_msg_age,
                        x.upstream_host, x.upstream_port, x.slot});
  }
  return r;
}

Rows IdentityRows(const IdentityCells& x) {
  Rows r;
  r.columns = {"primary_conninfo", "primary_slot_name", "cluster_name"};
  r.values = {{x.primary_conninfo, x.primary_slot_name, x.cluster_name}};
  return r;
}

namespace {
Cell PidOf(const StandbyCells& x, size_t index) {
  return x.pid ? x.pid : Cell(std::to_string(4242 + index));
}
}  // namespace

Rows StandbyRows(const std::vector<StandbyCells>& rows) {
  Rows r;
  r.columns = {"pid",         "state",     "sync_state", "sync_priority",
               "current_lsn", "sent_lsn",  "write_lsn",  "flush_lsn",
               "replay_lsn",  "write_lag", "flush_lag",  "replay_lag",
               "reply_age"};
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& x = rows[i];
    r.values.push_back({PidOf(x, i), x.state, x.sync_state, x.sync_priority,
                        x.current_lsn, x.sent_lsn, x.write_lsn, x.flush_lsn,
                        x.replay_lsn, x.write_lag, x.flush_lag, x.replay_lag,
                        x.reply_age});
  }
  return r;
}

Rows StandbyDetailRows(const std::vector<StandbyCells>& rows) {
  Rows r;
  r.columns = {"pid", "application_name", "client_addr", "backend_xmin_age"};
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& x = rows[i];
    r.values.push_back(
        {PidOf(x, i), x.application_name, x.client_addr, x.backend_xmin_age});
  }
  return r;
}

void AnswerStandbys(FakeDatabase* db, const std::vector<StandbyCells>& rows) {
  db->Answer(StatReplicationSql(db->server_version()), StandbyRows(rows));
  db->Answer(StandbyDetailsSql(), StandbyDetailRows(rows));
}

Rows SlotRows(const std::vector<SlotCells>& rows) {
  Rows r;
  r.columns = {"slot_name",        "slot_type",
               "active",           "active_pid",
               "retained_bytes",   "wal_status",
               "safe_wal_size",    "xmin_age",
               "catalog_xmin_age", "confirmed_flush_lag_bytes"};
  for (const auto& x : rows) {
    r.values.push_back({x.slot_name, x.slot_type, x.active, x.active_pid,
                        x.retained_bytes, x.wal_status, x.safe_wal_size,
                        x.xmin_age, x.catalog_xmin_age,
                        x.confirmed_flush_lag_bytes});
  }
  return r;
}

Rows BlockerRows(const BlockerCells& x) {
  Rows r;
  r.columns = {"startup_wait_event_type",  "startup_wait_event",
               "oldest_xact_age",          "max_standby_streaming_delay",
               "recovery_min_apply_delay", "hot_standby_feedback"};
  r.values = {{x.startup_wait_event_type, x.startup_wait_event,
               x.oldest_xact_age, x.max_standby_streaming_delay,
               x.recovery_min_apply_delay, x.hot_standby_feedback}};
  return r;
}

Rows ConflictRows(int server_version_num) {
  Rows r;
  r.columns = {"datname",
               "confl_tablespace",
               "confl_lock",
               "confl_snapshot",
               "confl_bufferpin",
               "confl_deadlock",
               "confl_active_logicalslot"};
  Cell slot = server_version_num >= 160000 ? Cell("0") : std::nullopt;
  r.values = {{"postgres", "0", "0", "0", "0", "0", slot}};
  return r;
}

Rows SyncRows(const std::string& standby_names, const std::string& waiting) {
  Rows r;
  r.columns = {"standby_names", "commits_waiting"};
  r.values = {{standby_names, waiting}};
  return r;
}

Rows ArchiverRows(const ArchiverCells& x) {
  Rows r;
  r.columns = {"archive_mode",      "archived_count",
               "last_archived_wal", "last_archived_time",
               "last_archived_age", "failed_count",
               "last_failed_wal",   "last_failed_time",
               "ready_segments",    "can_list"};
  r.values = {{x.archive_mode, x.archived_count, x.last_archived_wal,
               x.last_archived_time, x.last_archived_age, x.failed_count,
               x.last_failed_wal, x.last_failed_time, x.ready_segments,
               x.can_list}};
  return r;
}

void AnswerArchiver(FakeDatabase* db, const ArchiverCells& row) {
  ArchiverCells unlisted = row;
  unlisted.ready_segments = std::nullopt;
  db->Answer(ArchiverSql(false), ArchiverRows(unlisted));
  db->Answer(ArchiverSql(true), ArchiverRows(row));
}

Rows SubscriptionRows(const std::vector<SubscriptionCells>& rows) {
  Rows r;
  r.columns = {"subscription",         "enabled",        "pid",
               "received_lsn",         "latest_end_lsn", "last_msg_send_age",
               "last_msg_receipt_age", "latest_end_age"};
  for (const auto& x : rows) {
    r.values.push_back({x.subscription, x.enabled, x.pid, x.received_lsn,
                        x.latest_end_lsn, x.last_msg_send_age,
                        x.last_msg_receipt_age, x.latest_end_age});
  }
  return r;
}

Rows WalStatsRows(const WalStatsCells& x) {
  Rows r;
  r.columns = {"wal_records", "wal_fpi", "wal_bytes", "wal_buffers_full"};
  r.values = {{x.wal_records, x.wal_fpi, x.wal_bytes, x.wal_buffers_full}};
  return r;
}

namespace {

RoleCells WithVersion(RoleCells role, int version) {
  role.server_version_num = std::to_string(version);
  return role;
}

}  // namespace

Rows ServerIdentityRows(const std::string& system_identifier,
                        const Cell& server_address,
                        const std::string& postmaster_start) {
  Rows r;
  r.columns = {"system_identifier", "postmaster_start", "server_address"};
  r.values = {{system_identifier, postmaster_start, server_address}};
  return r;
}

namespace {

// The views of issue 16 as an instance without synchronous standbys,
// archiving or subscriptions answers them.
void AnswerHealthViews(FakeDatabase* db) {
  const int v = db->server_version();
  db->Answer(SyncReplicationSql(), SyncRows("", "0"));
  AnswerArchiver(db, ArchiverCells{});
  db->Answer(SubscriptionSql(v), SubscriptionRows({}));
  if (v >= kPgStatWalMinVersion) {
    db->Answer(WalStatsSql(), WalStatsRows(WalStatsCells{}));
  }
}

}  // namespace

void AnswerAsPrimary(FakeDatabase* db) {
  const int v = db->server_version();
  db->Answer(ServerIdentitySql(), ServerIdentityRows());
  db->Answer(RecoverySql(v), RoleRows(WithVersion(PrimaryRole(), v)));
  AnswerStandbys(db, {StandbyCells{}});
  db->Answer(ReplicationSlotsSql(v), SlotRows({SlotCells{}}));
  BlockerCells primary;  // no startup process
  primary.startup_wait_event_type = std::nullopt;
  primary.startup_wait_event = std::nullopt;
  db->Answer(ReplayBlockersSql(v), BlockerRows(primary));
  db->Answer(DatabaseConflictsSql(v), ConflictRows(v));
  AnswerHealthViews(db);
}

void AnswerAsReplica(FakeDatabase* db) {
  const int v = db->server_version();
  db->Answer(ServerIdentitySql(), ServerIdentityRows());
  db->Answer(RecoverySql(v), RoleRows(WithVersion(ReplicaRole(), v)));
  db->Answer(WalReceiverSql(v), ReceiverRows({ReceiverCells{}}));
  db->Answer(IdentitySql(), IdentityRows(IdentityCells{}));
  AnswerStandbys(db, {});
  db->Answer(ReplicationSlotsSql(v), SlotRows({}));
  db->Answer(ReplayBlockersSql(v), BlockerRows(BlockerCells{}));
  db->Answer(DatabaseConflictsSql(v), ConflictRows(v));
  AnswerHealthViews(db);
}

}  // namespace canned
}  // namespace pgrepl
