// Collector for pg_replication_slots: activity, retained WAL, wal_status.
#include "exporter/collector/pg_replication_slots.h"

#include <algorithm>

#include "exporter/base/metric_sink.h"
#include "exporter/model/snapshot.h"
#include "exporter/pg/row_source.h"
#include "exporter/pg/values.h"

namespace pgrepl {

// Sample row:
//   slot_name | slot_type | active | active_pid | retained_bytes |
//   replica1  | physical  | t      | 4242       | 0              |
//   wal_status | safe_wal_size | xmin_age | catalog_xmin_age |
//   reserved   |               | 12       |                  |
//   confirmed_flush_lag_bytes
//
// Read from pg_get_replication_slots(), the function behind the view: the
// view joins pg_database for a name this collector does not use, and
// locks both relations on every execution.
// Retained WAL is measured from the slot's restart_lsn to the current
// position (the replay position on a standby, where slots can exist too);
// a logical slot's confirmed-flush lag from its confirmed_flush_lsn (NULL
// for physical slots) to the same position. Sorted by name here, not by
// the server, whose sort node would be set up on every poll.
std::string ReplicationSlotsSql(int server_version_num) {
  const bool v13 = server_version_num >= 130000;
  return std::string(
             "SELECT slot_name::text, slot_type, active, active_pid, "
             "pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN "
             "pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END, "
             "restart_lsn)::bigint AS retained_bytes, "
             "age(xmin) AS xmin_age, age(catalog_xmin) AS catalog_xmin_age, "
             "pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN "
             "pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END, "
             "confirmed_flush_lsn)::bigint AS confirmed_flush_lag_bytes, ") +
         (v13 ? "wal_status, safe_wal_size "
              : "NULL::text AS wal_status, NULL::bigint AS safe_wal_size ") +
         "FROM pg_get_replication_slots()";
}

Status ParseReplicationSlots(const Rows& rows, std::vector<SlotRow>* out) {
  out->clear();
  for (size_t i = 0; i < rows.values.size(); ++i) {
    SlotRow r;
    r.name = rows.Get(i, "slot_name").value_or("");
    r.type = rows.Get(i, "slot_type").value_or("");
    r.active = ParseBool(rows.Get(i, "active")).value_or(false);
    r.active_pid = ParseInt(rows.Get(i, "active_pid"));
    if (auto b = ParseInt(rows.Get(i, "retained_bytes"))) {
      r.retained_bytes = *b < 0 ? 0 : static_cast<uint64_t>(*b);
    }
    r.wal_status = rows.Get(i, "wal_status");
    r.safe_wal_size = ParseInt(rows.Get(i, "safe_wal_size"));
    r.xmin_age = ParseInt(rows.Get(i, "xmin_age"));
    r.catalog_xmin_age = ParseInt(rows.Get(i, "catalog_xmin_age"));
    if (auto b = ParseInt(rows.Get(i, "confirmed_flush_lag_bytes"))) {
      r.confirmed_flush_lag_bytes = *b < 0 ? 0 : static_cast<uint64_t>(*b);
    }
    out->push_back(std::move(r));
  }
  std::sort(out->begin(), out->end(),
            [](const SlotRow& a, const SlotRow& b) { return a.name < b.name; });
  return Status::Ok();
}

std::vector<std::string> PgReplicationSlotsCollector::Statements(
    const StatementPlan& plan) const {
  return {ReplicationSlotsSql(plan.server_version_num)};
}

bool PgReplicationSlotsCollector::Due(const StatementPlan& plan) const {
  if (plan.full || plan.role != Role::kReplica) return true;
  return plan.last->slots && !plan.last->slots->empty();
}

void NameStandbySlots(const std::vector<SlotRow>& slots,
                      std::vector<StandbyRow>* standbys) {
  for (auto& standby : *standbys) {
    standby.slot.clear();
    for (const auto& slot : slots) {
      if (slot.active_pid && slot.active_pid == standby.pid) {
        standby.slot = slot.name;
      }
    }
  }
}

void PgReplicationSlotsCollector::CarryForward(const InstanceSnapshot& last,
                                               InstanceSnapshot* s) const {
  s->slots = last.slots;
  if (s->slots && s->standbys) NameStandbySlots(*s->slots, &*s->standbys);
}

Status PgReplicationSlotsCollector::Update(RowSource& db,
                                           const PollContext& ctx,
                                           InstanceSnapshot* s) const {
  auto rows = db.Query(ReplicationSlotsSql(db.server_version()));
  std::vector<SlotRow> slots;
  Status st =
      rows.ok() ? ParseReplicationSlots(rows.value(), &slots) : rows.status();
  if (!st.ok()) {
    // The standbys keep the slot names of the latest reading: a failed
    // read says nothing about which slot a walsender uses.
    const InstanceSnapshot* last = ctx.plan.last;
    if (s->standbys && last != nullptr && last->slots) {
      NameStandbySlots(*last->slots, &*s->standbys);
    }
    return st;
  }
  s->slots = std::move(slots);
  if (s->standbys) NameStandbySlots(*s->slots, &*s->standbys);
  return Status::Ok();
}

void PgReplicationSlotsCollector::Emit(const InstanceSnapshot& s,
                                       MetricSink& sink) const {
  if (!s.up || !s.slots) return;
  for (const auto& r : *s.slots) {
    LabelPairs labels = {{"slot", r.name}, {"slot_type", r.type}};
    sink.Gauge("pgrepl_slot_active",
               "1 when a walsender or decoder is using the slot.",
               r.active ? 1 : 0, labels);
    if (r.retained_bytes) {
      sink.Gauge("pgrepl_slot_retained_wal_bytes",
                 "WAL kept on disk for the slot: current position minus its "
                 "restart_lsn.",
                 static_cast<double>(*r.retained_bytes), labels);
    }
    if (r.confirmed_flush_lag_bytes) {
      sink.Gauge("pgrepl_slot_confirmed_flush_lag_bytes",
                 "Logical slots: WAL the consumer has not confirmed yet, "
                 "current position minus confirmed_flush_lsn.",
                 static_cast<double>(*r.confirmed_flush_lag_bytes), labels);
    }
    if (r.wal_status) {
      for (const char* status : kWalStatuses) {
        LabelPairs l = labels;
        l.emplace_back("wal_status", status);
        sink.Gauge("pgrepl_slot_wal_status",
                   "1 for the slot's current wal_status (reserved, extended, "
                   "unreserved, lost); PostgreSQL 13+.",
                   *r.wal_status == status ? 1 : 0, l);
      }
    }
    if (r.safe_wal_size) {
      sink.Gauge("pgrepl_slot_safe_wal_size_bytes",
                 "WAL that can still be written before the slot is in danger "
                 "of losing files; absent when max_slot_wal_keep_size is -1.",
                 static_cast<double>(*r.safe_wal_size), labels);
    }
    if (r.xmin_age) {
      sink.Gauge("pgrepl_slot_xmin_age_xids",
                 "Transactions since the xmin the slot holds back (age(xmin));"
                 " absent while it holds none.",
                 static_cast<double>(*r.xmin_age), labels);
    }
    if (r.catalog_xmin_age) {
      sink.Gauge("pgrepl_slot_catalog_xmin_age_xids",
                 "Transactions since the catalog xmin the slot holds back "
                 "(age(catalog_xmin)); absent while it holds none.",
                 static_cast<double>(*r.catalog_xmin_age), labels);
    }
  }
}

}  // namespace pgrepl
