// Builders of the rows a primary and a replica return to the collectors'
// queries, after the sample rows above each SQL function.
#include "tests/unit/testing/canned_rows.h"

#include "exporter/collector/pg_is_in_recovery.h"
#include "exporter/collector/pg_replication_slots.h"
#include "exporter/collector/pg_stat_replication.h"
#include "exporter/collector/pg_stat_wal_receiver.h"
#include "exporter/collector/server_identity.h"

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

Rows StandbyRows(const std::vector<StandbyCells>& rows) {
  Rows r;
  r.columns = {"application_name", "client_addr", "state",
               "sync_state",       "slot",        "current_lsn",
               "sent_lsn",         "write_lsn",   "flush_lsn",
               "replay_lsn",       "write_lag",   "flush_lag",
               "replay_lag",       "reply_age"};
  for (const auto& x : rows) {
    r.values.push_back({x.application_name, x.client_addr, x.state,
                        x.sync_state, x.slot, x.current_lsn, x.sent_lsn,
                        x.write_lsn, x.flush_lsn, x.replay_lsn, x.write_lag,
                        x.flush_lag, x.replay_lag, x.reply_age});
  }
  return r;
}

Rows SlotRows(const std::vector<SlotCells>& rows) {
  Rows r;
  r.columns = {"slot_name",      "slot_type",  "active",
               "retained_bytes", "wal_status", "safe_wal_size"};
  for (const auto& x : rows) {
    r.values.push_back({x.slot_name, x.slot_type, x.active, x.retained_bytes,
                        x.wal_status, x.safe_wal_size});
  }
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

void AnswerAsPrimary(FakeDatabase* db) {
  const int v = db->server_version();
  db->Answer(ServerIdentitySql(), ServerIdentityRows());
  db->Answer(RecoverySql(v), RoleRows(WithVersion(PrimaryRole(), v)));
  db->Answer(StatReplicationSql(v), StandbyRows({StandbyCells{}}));
  db->Answer(ReplicationSlotsSql(v), SlotRows({SlotCells{}}));
}

void AnswerAsReplica(FakeDatabase* db) {
  const int v = db->server_version();
  db->Answer(ServerIdentitySql(), ServerIdentityRows());
  db->Answer(RecoverySql(v), RoleRows(WithVersion(ReplicaRole(), v)));
  db->Answer(WalReceiverSql(v), ReceiverRows({ReceiverCells{}}));
  db->Answer(IdentitySql(), IdentityRows(IdentityCells{}));
  db->Answer(StatReplicationSql(v), StandbyRows({}));
  db->Answer(ReplicationSlotsSql(v), SlotRows({}));
}

}  // namespace canned
}  // namespace pgrepl
