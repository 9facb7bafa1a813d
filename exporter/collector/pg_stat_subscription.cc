// Collector for pg_stat_subscription: on a logical-replication subscriber,
// each subscription's apply worker, positions and message ages.
#include "exporter/collector/pg_stat_subscription.h"

#include "exporter/base/metric_sink.h"
#include "exporter/model/snapshot.h"
#include "exporter/pg/row_source.h"
#include "exporter/pg/values.h"

namespace pgrepl {

// The view lists every subscription (a LEFT JOIN of pg_subscription), with
// one row per worker: the apply worker has relid NULL; PostgreSQL 16 adds
// parallel apply workers (leader_pid set), PostgreSQL 17 names the kind in
// worker_type. A subscription without a worker has one row of NULLs
// (worker_type NULL too). subenabled comes from pg_subscription, whose
// columns but subconninfo anyone may read. Sample row:
//   subscription | enabled | pid  | received_lsn | latest_end_lsn |
//   orders_sub   | t       | 5120 | 0/3000148    | 0/3000148      |
//   last_msg_send_age | last_msg_receipt_age | latest_end_age
//   0.41              | 0.40                 | 0.40
std::string SubscriptionSql(int server_version_num) {
  const char* apply_only = server_version_num >= 170000
                               ? "coalesce(st.worker_type, 'apply') = 'apply'"
                           : server_version_num >= 160000
                               ? "st.relid IS NULL AND st.leader_pid IS NULL"
                               : "st.relid IS NULL";
  return std::string(
             "SELECT st.subname::text AS subscription, su.subenabled AS "
             "enabled, st.pid, st.received_lsn::text AS received_lsn, "
             "st.latest_end_lsn::text AS latest_end_lsn, "
             "extract(epoch FROM clock_timestamp() - st.last_msg_send_time) "
             "AS last_msg_send_age, extract(epoch FROM clock_timestamp() - "
             "st.last_msg_receipt_time) AS last_msg_receipt_age, "
             "extract(epoch FROM clock_timestamp() - st.latest_end_time) AS "
             "latest_end_age FROM pg_stat_subscription st JOIN "
             "pg_subscription su ON su.oid = st.subid WHERE ") +
         apply_only + " ORDER BY st.subname";
}

Result<SubscriptionReading> ParseSubscriptions(const Rows& rows) {
  SubscriptionReading out;
  for (size_t i = 0; i < rows.values.size(); ++i) {
    SubscriptionRow r;
    const auto& name = rows.Get(i, "subscription");
    if (!name) return Status::Query("pg_stat_subscription: NULL subname");
    r.name = *name;
    r.enabled = ParseBool(rows.Get(i, "enabled")).value_or(false);
    r.pid = ParseInt(rows.Get(i, "pid"));
    r.received_lsn = ParseLsnCell(rows.Get(i, "received_lsn"));
    r.latest_end_lsn = ParseLsnCell(rows.Get(i, "latest_end_lsn"));
    r.last_msg_send_age = ParseDouble(rows.Get(i, "last_msg_send_age"));
    r.last_msg_receipt_age = ParseDouble(rows.Get(i, "last_msg_receipt_age"));
    r.latest_end_age = ParseDouble(rows.Get(i, "latest_end_age"));
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<std::string> PgStatSubscriptionCollector::Statements(
    const StatementPlan& plan) const {
  return {SubscriptionSql(plan.server_version_num)};
}

Status PgStatSubscriptionCollector::Update(RowSource& db, const PollContext&,
                                           InstanceSnapshot* s) const {
  auto rows = db.Query(SubscriptionSql(db.server_version()));
  if (!rows.ok()) return rows.status();
  auto reading = ParseSubscriptions(rows.value());
  if (!reading.ok()) return reading.status();
  s->readings[name()] = std::move(reading.value());
  return Status::Ok();
}

void PgStatSubscriptionCollector::Emit(const InstanceSnapshot& s,
                                       MetricSink& sink) const {
  if (s.role() != Role::kPrimary) return;
  const auto* subs = s.Reading<SubscriptionReading>(name());
  if (subs == nullptr) return;
  for (const auto& r : *subs) {
    const LabelPairs labels = {{"subscription", r.name}};
    sink.Gauge("pgrepl_subscription_enabled",
               "1 when the subscription is enabled (pg_subscription."
               "subenabled); a disabled one applies nothing.",
               r.enabled ? 1 : 0, labels);
    sink.Gauge("pgrepl_subscription_worker_up",
               "1 when the subscription's apply worker runs; 0 when it is "
               "disabled, failing, or not yet started.",
               r.pid ? 1 : 0, labels);
    if (r.received_lsn) {
      sink.Gauge("pgrepl_subscription_received_lsn_bytes",
                 "Last WAL position received from the publisher, in bytes "
                 "since 0/0 (pg_stat_subscription.received_lsn).",
                 static_cast<double>(*r.received_lsn), labels);
    }
    if (r.latest_end_lsn) {
      sink.Gauge("pgrepl_subscription_latest_end_lsn_bytes",
                 "Last WAL position reported back to the publisher's "
                 "walsender, in bytes since 0/0 "
                 "(pg_stat_subscription.latest_end_lsn).",
                 static_cast<double>(*r.latest_end_lsn), labels);
    }
    if (r.last_msg_send_age) {
      sink.Gauge("pgrepl_subscription_last_msg_send_age_seconds",
                 "Seconds since the publisher sent its last message, by "
                 "its send time and the subscriber's clock (skew enters).",
                 *r.last_msg_send_age, labels);
    }
    if (r.last_msg_receipt_age) {
      sink.Gauge("pgrepl_subscription_last_msg_receipt_age_seconds",
                 "Seconds since the subscriber last received a message "
                 "from the publisher (its own clock at both ends).",
                 *r.last_msg_receipt_age, labels);
    }
    if (r.latest_end_age) {
      sink.Gauge("pgrepl_subscription_latest_end_age_seconds",
                 "Seconds since the subscriber last reported a position to "
                 "the publisher (latest_end_time, its own clock).",
                 *r.latest_end_age, labels);
    }
  }
}

}  // namespace pgrepl
