// Collector for pg_stat_wal_receiver: a replica's stream from its upstream,
// and the names it uses there (application_name, slot).
#include "exporter/collector/pg_stat_wal_receiver.h"

#include "exporter/base/metric_sink.h"
#include "exporter/model/snapshot.h"
#include "exporter/pg/conninfo.h"
#include "exporter/pg/row_source.h"
#include "exporter/pg/values.h"

namespace pgrepl {

const char kInsufficientPrivilege[] =
    "pg_stat_wal_receiver: status is NULL: insufficient privilege (the "
    "monitoring role needs pg_monitor or pg_read_all_stats)";

// Sample row:
//   pid  | postmaster_start  | status    | received_tli | flushed_lsn
//   4711 | 1795766400.123456 | streaming | 1            | 0/3000148
//   written_lsn | last_msg_age
//   0/3000148   | 0.83
//   upstream_host | upstream_port | slot
//   127.0.0.1     | 5432          | replica1
// The age uses the replica's own clock at both ends, so skew cannot enter.
// Read from pg_stat_get_wal_receiver(), the function behind the view, with
// the view's filter: the same row, without locking the view on every poll.
std::string WalReceiverSql(int server_version_num) {
  const bool v13 = server_version_num >= 130000;
  return std::string(
             "SELECT pid, extract(epoch FROM pg_postmaster_start_time()) "
             "AS postmaster_start, status, received_tli, ") +
         (v13 ? "flushed_lsn::text AS flushed_lsn, "
                "written_lsn::text AS written_lsn, "
              : "received_lsn::text AS flushed_lsn, "
                "NULL::text AS written_lsn, ") +
         "extract(epoch FROM clock_timestamp() - last_msg_receipt_time) "
         "AS last_msg_age, coalesce(sender_host, '') AS upstream_host, "
         "coalesce(sender_port::text, '') AS upstream_port, "
         "coalesce(slot_name, '') AS slot "
         "FROM pg_stat_get_wal_receiver() WHERE pid IS NOT NULL";
}

// Sample row:
//   primary_conninfo                               | primary_slot_name |
//   cluster_name host=10.0.0.1 user=replicator application_name=replica1 |
//   replica1 | replica1
std::string IdentitySql() {
  return "SELECT current_setting('primary_conninfo') AS primary_conninfo, "
         "current_setting('primary_slot_name') AS primary_slot_name, "
         "current_setting('cluster_name') AS cluster_name";
}

Status ParseWalReceiver(const Rows& rows, std::optional<WalReceiverInfo>* out) {
  out->reset();
  if (rows.values.empty()) return Status::Ok();
  WalReceiverInfo w;
  const auto& status = rows.Get(0, "status");
  // A role without pg_read_all_stats sees the row with NULL columns: the
  // stream's state is unknown, not broken.
  if (!status) return Status::Query(kInsufficientPrivilege);
  w.status = *status;
  if (auto pid = ParseInt(rows.Get(0, "pid")); pid && *pid > 0) {
    w.pid = static_cast<int>(*pid);
  }
  w.postmaster_start = ParseDouble(rows.Get(0, "postmaster_start"));
  if (auto tli = ParseInt(rows.Get(0, "received_tli")); tli && *tli >= 0) {
    w.received_tli = static_cast<uint32_t>(*tli);
  }
  w.flushed_lsn = ParseLsnCell(rows.Get(0, "flushed_lsn"));
  w.written_lsn = ParseLsnCell(rows.Get(0, "written_lsn"));
  w.last_msg_age = ParseDouble(rows.Get(0, "last_msg_age"));
  w.upstream_host = rows.Get(0, "upstream_host").value_or("");
  w.upstream_port = rows.Get(0, "upstream_port").value_or("");
  w.slot = rows.Get(0, "slot").value_or("");
  *out = std::move(w);
  return Status::Ok();
}

Status ParseIdentity(const Rows& rows, ReplicaIdentity* out) {
  if (rows.values.size() != 1)
    return Status::Query("expected one settings row");
  ReplicaIdentity id;
  id.slot = rows.Get(0, "primary_slot_name").value_or("");
  std::string name;
  if (const auto& conninfo = rows.Get(0, "primary_conninfo");
      conninfo && !conninfo->empty()) {
    auto parsed = ParseConninfo(*conninfo);
    if (parsed.ok()) {
      auto it = parsed.value().find("application_name");
      if (it != parsed.value().end()) name = it->second;
    }
  }
  if (name.empty()) name = rows.Get(0, "cluster_name").value_or("");
  if (name.empty()) name = "walreceiver";
  id.standby_name = name;
  *out = std::move(id);
  return Status::Ok();
}

std::vector<std::string> PgStatWalReceiverCollector::Statements(
    const StatementPlan& plan) const {
  std::vector<std::string> out = {WalReceiverSql(plan.server_version_num)};
  if (plan.full) out.push_back(IdentitySql());
  return out;
}

Status PgStatWalReceiverCollector::Update(RowSource& db, const PollContext& ctx,
                                          InstanceSnapshot* s) const {
  if (s->role() != Role::kReplica) {
    s->wal_receiver.reset();
    return Status::Ok();
  }
  auto rows = db.Query(WalReceiverSql(db.server_version()));
  if (!rows.ok()) return rows.status();
  Status st = ParseWalReceiver(rows.value(), &s->wal_receiver);
  if (!st.ok()) return st;
  // The settings change only on a reload: read on a refresh poll, or when
  // none were read yet (a live query then, if not declared this poll).
  if (ctx.plan.full || !s->identity) {
    auto id_rows = db.Query(IdentitySql());
    if (!id_rows.ok()) return id_rows.status();
    ReplicaIdentity id;
    st = ParseIdentity(id_rows.value(), &id);
    if (!st.ok()) return st;
    s->identity = std::move(id);
  }
  s->wal_receiver_read = true;
  return Status::Ok();
}

void PgStatWalReceiverCollector::Emit(const InstanceSnapshot& s,
                                      MetricSink& sink) const {
  // A failed query says nothing about the receiver: no sample, not 0.
  if (s.replica_state() == ReplicaState::kNotReplica ||
      s.replica_state() == ReplicaState::kUnknown) {
    return;
  }
  const auto& w = s.wal_receiver;
  const bool streaming = s.replica_state() == ReplicaState::kStreaming;
  sink.Gauge("pgrepl_wal_receiver_up",
             "1 when the replica's WAL receiver is streaming from its "
             "upstream; 0 when it is absent or in any other state.",
             streaming ? 1 : 0);
  sink.Counter("pgrepl_wal_receiver_restarts_total",
               "Times the replica's WAL stream was re-established by a new "
               "WAL receiver process (a streaming pid other than the last "
               "one seen), counted even when the break was shorter than a "
               "poll interval.",
               static_cast<double>(s.wal_receiver_restarts));
  if (!w) return;
  sink.Gauge("pgrepl_wal_receiver_info",
             "The WAL receiver's status, upstream and slot; value is 1.", 1,
             {{"status", w->status},
              {"upstream_host", w->upstream_host},
              {"upstream_port", w->upstream_port},
              {"slot", w->slot}});
  if (w->last_msg_age) {
    sink.Gauge("pgrepl_wal_receiver_last_message_age_seconds",
               "Seconds since the WAL receiver last heard from its upstream "
               "(replica clock at both ends). Idle upstreams send keepalives "
               "about every wal_sender_timeout/2.",
               *w->last_msg_age);
  }
  if (w->received_tli) {
    sink.Gauge("pgrepl_wal_receiver_timeline_id",
               "Timeline of the WAL the receiver last received.",
               *w->received_tli);
  }
}

}  // namespace pgrepl
