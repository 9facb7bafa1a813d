// Tests for exporter/collector/pg_stat_subscription with canned rows, and
// its per-version SQL against each version's documented columns.
#include "exporter/collector/pg_stat_subscription.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "exporter/base/metric_sink.h"
#include "exporter/model/snapshot.h"
#include "tests/unit/testing/canned_rows.h"
#include "tests/unit/testing/fake_session.h"
#include "tests/unit/testing/metric_matchers.h"

namespace pgrepl {
namespace {

using canned::SubscriptionCells;
using canned::SubscriptionRows;

// pg_stat_subscription's columns as each version documents them.
std::vector<std::string> DocumentedColumns(int major) {
  std::vector<std::string> c = {"subid",
                                "subname",
                                "pid",
                                "relid",
                                "received_lsn",
                                "last_msg_send_time",
                                "last_msg_receipt_time",
                                "latest_end_lsn",
                                "latest_end_time"};
  if (major >= 16) c.push_back("leader_pid");
  if (major >= 17) c.push_back("worker_type");
  return c;
}

// Every "st.<column>" the statement reads.
std::vector<std::string> ViewColumnsRead(const std::string& sql) {
  std::vector<std::string> out;
  for (size_t pos = sql.find("st."); pos != std::string::npos;
       pos = sql.find("st.", pos + 3)) {
    size_t end = pos + 3;
    while (end < sql.size() && (std::isalnum(sql[end]) || sql[end] == '_')) {
      ++end;
    }
    out.push_back(sql.substr(pos + 3, end - pos - 3));
  }
  return out;
}

TEST(SubscriptionSql, EachVersionReadsOnlyItsDocumentedColumns) {
  for (int major = 12; major <= 17; ++major) {
    const auto documented = DocumentedColumns(major);
    const auto read = ViewColumnsRead(SubscriptionSql(major * 10000 + 3));
    EXPECT_GE(read.size(), 8u) << major;
    for (const auto& column : read) {
      EXPECT_NE(std::find(documented.begin(), documented.end(), column),
                documented.end())
          << "PostgreSQL " << major << " has no pg_stat_subscription."
          << column;
    }
  }
}

TEST(SubscriptionSql, LeavesOutWorkersOtherThanApply) {
  // Tablesync workers (relid) before 16; parallel apply workers (leader_pid)
  // in 16; worker_type in 17.
  for (int v : {120000, 140005, 150018}) {
    auto read = ViewColumnsRead(SubscriptionSql(v));
    EXPECT_NE(std::find(read.begin(), read.end(), "relid"), read.end()) << v;
  }
  auto v16 = ViewColumnsRead(SubscriptionSql(160004));
  EXPECT_NE(std::find(v16.begin(), v16.end(), "leader_pid"), v16.end());
  auto v17 = ViewColumnsRead(SubscriptionSql(170000));
  EXPECT_NE(std::find(v17.begin(), v17.end(), "worker_type"), v17.end());
}

std::vector<prometheus::MetricFamily> EmitFor(
    const std::vector<SubscriptionCells>& rows, bool primary = true,
    int version = 150000) {
  InstanceSnapshot s;
  s.up = true;
  s.recovery = RecoveryInfo{};
  s.recovery->in_recovery = !primary;
  FakeDatabase db(version);
  db.Answer(SubscriptionSql(version), SubscriptionRows(rows));
  PgStatSubscriptionCollector c;
  EXPECT_TRUE(c.Update(db.rows(), PollContext{}, &s).ok());
  EXPECT_EQ(db.asked(), c.Statements(StatementPlan{version, true}));
  MetricSink sink(LabelPairs{{"cluster", "c"}, {"instance", "subscriber"}});
  c.Emit(s, sink);
  return sink.Take();
}

TEST(PgStatSubscription, StreamingApplyWorker) {
  const Labels sub = {{"subscription", "orders_sub"}};
  for (int v : {120000, 160000, 170000}) {
    auto fams = EmitFor({SubscriptionCells{}}, true, v);
    EXPECT_EQ(Value(fams, "pgrepl_subscription_enabled", sub), 1.0) << v;
    EXPECT_EQ(Value(fams, "pgrepl_subscription_worker_up", sub), 1.0);
    EXPECT_EQ(Value(fams, "pgrepl_subscription_received_lsn_bytes", sub),
              static_cast<double>(0x3000148));
    EXPECT_EQ(Value(fams, "pgrepl_subscription_latest_end_lsn_bytes", sub),
              static_cast<double>(0x3000100));
    EXPECT_EQ(Value(fams, "pgrepl_subscription_last_msg_send_age_seconds", sub),
              0.41);
    EXPECT_EQ(
        Value(fams, "pgrepl_subscription_last_msg_receipt_age_seconds", sub),
        0.40);
    EXPECT_EQ(Value(fams, "pgrepl_subscription_latest_end_age_seconds", sub),
              0.39);
  }
}

TEST(PgStatSubscription, DisabledHasNoWorkerAndNoPositions) {
  SubscriptionCells off;
  off.subscription = "archive_sub";
  off.enabled = "f";
  off.pid = off.received_lsn = off.latest_end_lsn = std::nullopt;
  off.last_msg_send_age = off.last_msg_receipt_age = off.latest_end_age =
      std::nullopt;
  auto fams = EmitFor({SubscriptionCells{}, off});
  const Labels l = {{"subscription", "archive_sub"}};
  EXPECT_EQ(Value(fams, "pgrepl_subscription_enabled", l), 0.0);
  EXPECT_EQ(Value(fams, "pgrepl_subscription_worker_up", l), 0.0);
  EXPECT_EQ(Count(fams, "pgrepl_subscription_received_lsn_bytes", l), 0u);
  EXPECT_EQ(Count(fams, "pgrepl_subscription_latest_end_age_seconds", l), 0u);
  EXPECT_EQ(Count(fams, "pgrepl_subscription_worker_up"), 2u);
}

TEST(PgStatSubscription, NothingOnAReplicaOrWithoutSubscriptions) {
  EXPECT_TRUE(EmitFor({SubscriptionCells{}}, false).empty());
  EXPECT_TRUE(EmitFor({}).empty());
}

TEST(PgStatSubscription, NullNameIsAnError) {
  SubscriptionCells bad;
  bad.subscription = std::nullopt;
  EXPECT_FALSE(ParseSubscriptions(SubscriptionRows({bad})).ok());
}

}  // namespace
}  // namespace pgrepl
