// Builders of the rows a primary and a replica return to the collectors'
// queries, after the sample rows above each SQL function.
#ifndef PGREPL_TESTS_UNIT_TESTING_CANNED_ROWS_H_
#define PGREPL_TESTS_UNIT_TESTING_CANNED_ROWS_H_

#include <optional>
#include <string>
#include <vector>

#include "exporter/pg/rows.h"
#include "tests/unit/testing/fake_session.h"

namespace pgrepl {
namespace canned {

using Cell = std::optional<std::string>;  // nullopt is NULL

// The role row (RecoverySql).
struct RoleCells {
  Cell in_recovery;
  Cell server_version_num = "150018";
  Cell current_lsn, walfile, receive_lsn, replay_lsn, replay_paused;
};
// The ServerIdentitySql row: this system identifier, by default started
// at a fixed time and reached at a pod address.
inline constexpr const char* kSystemIdentifier = "7714835322823784349";
inline constexpr const char* kPostmasterStart = "2026-12-02 22:21:16.041698+00";
inline constexpr const char* kServerAddress = "10.244.1.17";
Rows ServerIdentityRows(
    const std::string& system_identifier = kSystemIdentifier,
    const Cell& server_address = kServerAddress,
    const std::string& postmaster_start = kPostmasterStart);

// A primary on timeline 1 at 0/3000148.
RoleCells PrimaryRole();
// A replica that received and replayed up to 0/3000148, not paused.
RoleCells ReplicaRole();
Rows RoleRows(const RoleCells& row);

// A row of WalReceiverSql: streaming on timeline 1 from 127.0.0.1:5432.
struct ReceiverCells {
  Cell pid = "4711";
  Cell postmaster_start = "1795766400.123456";
  Cell status = "streaming";
  Cell received_tli = "1";
  Cell flushed_lsn = "0/3000148";
  Cell written_lsn = "0/3000148";
  Cell last_msg_age = "0.83";
  Cell upstream_host = "127.0.0.1";
  Cell upstream_port = "5432";
  Cell slot = "replica1";
};
// No rows: no WAL receiver runs.
Rows ReceiverRows(const std::vector<ReceiverCells>& rows);

// The row of IdentitySql: standby name and slot "replica1".
struct IdentityCells {
  Cell primary_conninfo =
      "host=10.0.0.1 user=replicator application_name=replica1";
  Cell primary_slot_name = "replica1";
  Cell cluster_name = "replica1";
};
Rows IdentityRows(const IdentityCells& row);

// A walsender of StatReplicationSql and its StandbyDetailsSql row:
// standby replica1 caught up on an idle primary, so its time lags are NULL.
struct StandbyCells {
  Cell pid;  // unset: 4242 plus the row's index
  Cell application_name = "replica1";
  Cell client_addr = "127.0.0.1";
  Cell state = "streaming";
  Cell sync_state = "async";
  Cell sync_priority = "0";
  Cell current_lsn = "0/3000148";
  Cell sent_lsn = "0/3000148";
  Cell write_lsn = "0/3000148";
  Cell flush_lsn = "0/3000148";
  Cell replay_lsn = "0/3000148";
  Cell write_lag, flush_lag, replay_lag;
  Cell reply_age = "0.412";
  Cell backend_xmin_age = "12";  // hot_standby_feedback on
};
Rows StandbyRows(const std::vector<StandbyCells>& rows);
Rows StandbyDetailRows(const std::vector<StandbyCells>& rows);
// Answers both statements of pg_stat_replication with `rows`.
void AnswerStandbys(FakeDatabase* db, const std::vector<StandbyCells>& rows);

// A row of ReplicationSlotsSql: the active physical slot replica1, used by
// the walsender of StandbyCells' first row (pid 4242).
struct SlotCells {
  Cell slot_name = "replica1";
  Cell slot_type = "physical";
  Cell active = "t";
  Cell active_pid = "4242";
  Cell retained_bytes = "0";
  Cell wal_status = "reserved";
  Cell safe_wal_size = std::nullopt;
  Cell xmin_age = "12";  // the standby's feedback, through its slot
  Cell catalog_xmin_age = std::nullopt;
  Cell confirmed_flush_lag_bytes = std::nullopt;  // logical slots only
};
Rows SlotRows(const std::vector<SlotCells>& rows);

// A row of ReplayBlockersSql: by default a streaming replica's startup
// process waiting for WAL, no open transaction, stock settings.
struct BlockerCells {
  Cell startup_wait_event_type = "Activity";
  Cell startup_wait_event = "RecoveryWalStream";
  Cell oldest_xact_age = std::nullopt;
  Cell max_standby_streaming_delay = "30.000000";
  Cell recovery_min_apply_delay = "0.000000";
  Cell hot_standby_feedback = "t";
};
Rows BlockerRows(const BlockerCells& row);

// Rows of DatabaseConflictsSql: database postgres without conflicts
// (active_logicalslot NULL before PostgreSQL 16, as the SQL returns it).
Rows ConflictRows(int server_version_num);

// The row of SyncReplicationSql.
Rows SyncRows(const std::string& standby_names, const std::string& waiting);

// The row of ArchiverSql: archive_mode off, nothing archived or failed.
struct ArchiverCells {
  Cell archive_mode = "off";
  Cell archived_count = "0";
  Cell last_archived_wal, last_archived_time, last_archived_age;
  Cell failed_count = "0";
  Cell last_failed_wal, last_failed_time;
  Cell ready_segments = "0";
  Cell can_list = "t";
};
Rows ArchiverRows(const ArchiverCells& row);
// Answers both texts of ArchiverSql with `row`.
void AnswerArchiver(FakeDatabase* db, const ArchiverCells& row);

// A row of SubscriptionSql: subscription "orders_sub", its apply worker
// streaming.
struct SubscriptionCells {
  Cell subscription = "orders_sub";
  Cell enabled = "t";
  Cell pid = "5120";
  Cell received_lsn = "0/3000148";
  Cell latest_end_lsn = "0/3000100";
  Cell last_msg_send_age = "0.41";
  Cell last_msg_receipt_age = "0.40";
  Cell latest_end_age = "0.39";
};
Rows SubscriptionRows(const std::vector<SubscriptionCells>& rows);

// The row of WalStatsSql (PostgreSQL 14+).
struct WalStatsCells {
  Cell wal_records = "120418";
  Cell wal_fpi = "2811";
  Cell wal_bytes = "40213376";
  Cell wal_buffers_full = "7";
};
Rows WalStatsRows(const WalStatsCells& row);

// Answers every query of the default collectors, for `db`'s server
// version, as the primary above does: one standby and its slot.
void AnswerAsPrimary(FakeDatabase* db);
// As the replica above does: streaming, no standbys of its own, no slots.
void AnswerAsReplica(FakeDatabase* db);

}  // namespace canned
}  // namespace pgrepl

#endif  // PGREPL_TESTS_UNIT_TESTING_CANNED_ROWS_H_
