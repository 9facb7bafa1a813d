// Collector for pg_stat_replication: each connected standby as the
// upstream (normally the primary) sees it.
#include "exporter/collector/pg_stat_replication.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "exporter/base/metric_sink.h"
#include "exporter/model/snapshot.h"
#include "exporter/pg/row_source.h"
#include "exporter/pg/values.h"

namespace pgrepl {

// Two statements. Every poll, the positions: pg_stat_get_wal_senders(),
// the function behind pg_stat_replication, without the view's join to
// pg_stat_get_activity(NULL), which copies every backend's status entry
// and is most of what the view costs the server. Sample row (a caught-up
// standby on an idle primary: the lags are NULL):
//   pid  | state     | sync_state | sync_priority |
//   4242 | streaming | async      | 0             |
//   current_lsn | sent_lsn  | write_lsn | flush_lsn | replay_lsn |
//   0/3000148   | 0/3000148 | 0/3000148 | 0/3000148 | 0/3000148  |
//   write_lag | flush_lag | replay_lag | reply_age
//             |           |            | 0.412
// The slot each walsender uses is named by the pg_replication_slots
// collector (NameStandbySlots), which reads the slots every poll anyway.
// The current LSN is read in the same statement, so byte lags compare
// positions taken at one instant. The rows are sorted here rather than by
// the server: ORDER BY adds a sort node that the server sets up on every
// poll. The function has had these columns since PostgreSQL 12
// (reply_time), the oldest version supported, so one text serves every
// version.
std::string StatReplicationSql(int /*server_version_num*/) {
  return "SELECT w.pid, w.state, w.sync_state, w.sync_priority, "
         "(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() "
         "ELSE pg_current_wal_lsn() END)::text AS current_lsn, "
         "w.sent_lsn::text, w.write_lsn::text, w.flush_lsn::text, "
         "w.replay_lsn::text, "
         "extract(epoch FROM w.write_lag) AS write_lag, "
         "extract(epoch FROM w.flush_lag) AS flush_lag, "
         "extract(epoch FROM w.replay_lag) AS replay_lag, "
         "extract(epoch FROM clock_timestamp() - w.reply_time) AS reply_age "
         "FROM pg_stat_get_wal_senders() w";
}

// On full polls, and when a walsender is new: who each walsender serves,
// from the view. Sample row:
//   pid  | application_name | client_addr | backend_xmin_age
//   4242 | replica1         | 127.0.0.1   | 12
// A walsender's application_name and address are fixed for its life; its
// backend_xmin moves, and is as fresh as the latest full poll.
std::string StandbyDetailsSql() {
  return "SELECT pid, application_name, coalesce(host(client_addr), '') "
         "AS client_addr, age(backend_xmin) AS backend_xmin_age "
         "FROM pg_stat_replication";
}

Status ParseStatReplication(const Rows& rows, std::vector<StandbyRow>* out) {
  out->clear();
  for (size_t i = 0; i < rows.values.size(); ++i) {
    StandbyRow r;
    r.pid = ParseInt(rows.Get(i, "pid"));
    if (!r.pid) return Status::Query("pg_stat_replication: pid is NULL");
    const auto& state = rows.Get(i, "state");
    // Without pg_read_all_stats the rows are there but their columns are
    // NULL: what the standbys do is unknown, not "not streaming".
    if (!state) {
      return Status::Query(
          "pg_stat_replication: state is NULL: insufficient privilege (the "
          "monitoring role needs pg_monitor or pg_read_all_stats)");
    }
    r.state = *state;
    r.sync_state = rows.Get(i, "sync_state").value_or("");
    r.sync_priority = ParseInt(rows.Get(i, "sync_priority"));
    r.current_lsn = ParseLsnCell(rows.Get(i, "current_lsn"));
    r.sent_lsn = ParseLsnCell(rows.Get(i, "sent_lsn"));
    r.write_lsn = ParseLsnCell(rows.Get(i, "write_lsn"));
    r.flush_lsn = ParseLsnCell(rows.Get(i, "flush_lsn"));
    r.replay_lsn = ParseLsnCell(rows.Get(i, "replay_lsn"));
    r.write_lag = ParseDouble(rows.Get(i, "write_lag"));
    r.flush_lag = ParseDouble(rows.Get(i, "flush_lag"));
    r.replay_lag = ParseDouble(rows.Get(i, "replay_lag"));
    r.reply_age = ParseDouble(rows.Get(i, "reply_age"));
    out->push_back(std::move(r));
  }
  std::sort(
      out->begin(), out->end(),
      [](const StandbyRow& a, const StandbyRow& b) { return *a.pid < *b.pid; });
  return Status::Ok();
}

Status ParseStandbyDetails(const Rows& rows,
                           std::map<int64_t, StandbyRow>* out) {
  out->clear();
  for (size_t i = 0; i < rows.values.size(); ++i) {
    auto pid = ParseInt(rows.Get(i, "pid"));
    if (!pid) return Status::Query("pg_stat_replication: pid is NULL");
    StandbyRow& r = (*out)[*pid];
    r.pid = pid;
    r.application_name = rows.Get(i, "application_name").value_or("");
    r.client_addr = rows.Get(i, "client_addr").value_or("");
    r.backend_xmin_age = ParseInt(rows.Get(i, "backend_xmin_age"));
  }
  return Status::Ok();
}

void MergeStandbyDetails(const std::map<int64_t, StandbyRow>& details,
                         std::vector<StandbyRow>* standbys) {
  std::vector<StandbyRow> out;
  for (auto& r : *standbys) {
    auto it = details.find(*r.pid);
    if (it == details.end()) continue;  // ended between the two statements
    r.application_name = it->second.application_name;
    r.client_addr = it->second.client_addr;
    r.backend_xmin_age = it->second.backend_xmin_age;
    out.push_back(std::move(r));
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const StandbyRow& a, const StandbyRow& b) {
                     return a.application_name < b.application_name;
                   });
  *standbys = std::move(out);
}

double StageLagSeconds(const std::optional<double>& lag,
                       const std::optional<uint64_t>& stage_lsn,
                       const std::optional<uint64_t>& current_lsn) {
  if (lag) return *lag;
  if (stage_lsn && current_lsn && *stage_lsn >= *current_lsn) return 0;
  return std::numeric_limits<double>::quiet_NaN();
}

bool PgStatReplicationCollector::Due(const StatementPlan& plan) const {
  // A replica serves standbys only when it cascades: it is read every
  // poll while it did at the latest reading, else on full polls.
  if (plan.full || plan.role != Role::kReplica) return true;
  return plan.last->standbys && !plan.last->standbys->empty();
}

std::vector<std::string> PgStatReplicationCollector::Statements(
    const StatementPlan& plan) const {
  std::vector<std::string> out = {StatReplicationSql(plan.server_version_num)};
  if (plan.full) out.push_back(StandbyDetailsSql());
  return out;
}

Status PgStatReplicationCollector::Update(RowSource& db, const PollContext& ctx,
                                          InstanceSnapshot* s) const {
  auto rows = db.Query(StatReplicationSql(db.server_version()));
  if (!rows.ok()) return rows.status();
  std::vector<StandbyRow> standbys;
  Status st = ParseStatReplication(rows.value(), &standbys);
  if (!st.ok()) return st;
  // Who each walsender serves: the latest reading's, unless this is a
  // full poll or a walsender is new to it.
  std::map<int64_t, StandbyRow> details;
  const StatementPlan& plan = ctx.plan;
  bool known = !plan.full && plan.last != nullptr && plan.last->standbys;
  if (known) {
    for (const auto& r : *plan.last->standbys) details[*r.pid] = r;
    for (const auto& r : standbys) known = known && details.count(*r.pid);
  }
  if (!known) {
    auto detail_rows = db.Query(StandbyDetailsSql());
    if (!detail_rows.ok()) return detail_rows.status();
    st = ParseStandbyDetails(detail_rows.value(), &details);
    if (!st.ok()) return st;
  }
  MergeStandbyDetails(details, &standbys);
  s->standbys = std::move(standbys);
  return Status::Ok();
}

void PgStatReplicationCollector::CarryForward(const InstanceSnapshot& last,
                                              InstanceSnapshot* s) const {
  s->standbys = last.standbys;
}

void PgStatReplicationCollector::Emit(const InstanceSnapshot& s,
                                      MetricSink& sink) const {
  if (!s.up || !s.standbys) return;
  size_t streaming = 0, sync = 0;
  for (const auto& r : *s.standbys) {
    if (IsStreamingState(r.state)) ++streaming;
    if (r.sync_state == "sync" || r.sync_state == "quorum") ++sync;
    LabelPairs labels = {{"standby", r.application_name},
                         {"client_addr", r.client_addr},
                         {"slot", r.slot},
                         {"sync_state", r.sync_state},
                         {"state", r.state}};
    auto with_stage = [&](const char* stage) {
      LabelPairs l = labels;
      l.emplace_back("stage", stage);
      return l;
    };
    const char* kBytesHelp =
        "Bytes between the upstream's current WAL position and the "
        "standby's sent/write/flush/replay position (pg_stat_replication).";
    struct Stage {
      const char* name;
      const std::optional<uint64_t>& lsn;
    };
    for (const Stage& st :
         {Stage{"sent", r.sent_lsn}, Stage{"write", r.write_lsn},
          Stage{"flush", r.flush_lsn}, Stage{"replay", r.replay_lsn}}) {
      if (!st.lsn || !r.current_lsn) continue;  // e.g. state=startup
      double bytes = *r.current_lsn > *st.lsn
                         ? static_cast<double>(*r.current_lsn - *st.lsn)
                         : 0.0;
      sink.Gauge("pgrepl_standby_lag_bytes", kBytesHelp, bytes,
                 with_stage(st.name));
    }
    const char* kSecondsHelp =
        "write_lag/flush_lag/replay_lag from pg_stat_replication, measured "
        "by the upstream's clock. NULL becomes 0 only when that stage has "
        "caught up in bytes; otherwise NaN (unknown).";
    struct TimeStage {
      const char* name;
      const std::optional<double>& lag;
      const std::optional<uint64_t>& lsn;
    };
    for (const TimeStage& st :
         {TimeStage{"write", r.write_lag, r.write_lsn},
          TimeStage{"flush", r.flush_lag, r.flush_lsn},
          TimeStage{"replay", r.replay_lag, r.replay_lsn}}) {
      sink.Gauge("pgrepl_standby_lag_seconds", kSecondsHelp,
                 StageLagSeconds(st.lag, st.lsn, r.current_lsn),
                 with_stage(st.name));
    }
    if (r.reply_age) {
      sink.Gauge("pgrepl_standby_reply_age_seconds",
                 "Seconds since the standby's last reply (now() - reply_time;"
                 " reply_time is stamped by the standby's clock).",
                 *r.reply_age, labels);
    }
    if (r.backend_xmin_age) {
      sink.Gauge("pgrepl_standby_backend_xmin_age_xids",
                 "Transactions since the xmin the standby holds back on this "
                 "server with hot_standby_feedback (age(backend_xmin)); "
                 "absent while it holds none, or holds it through its slot.",
                 static_cast<double>(*r.backend_xmin_age), labels);
    }
  }
  sink.Gauge("pgrepl_standbys_streaming",
             "Rows of pg_stat_replication in state streaming.",
             static_cast<double>(streaming));
  sink.Gauge("pgrepl_standbys_synchronous",
             "Rows of pg_stat_replication with sync_state sync or quorum.",
             static_cast<double>(sync));
}

}  // namespace pgrepl
