// Tests for exporter/collector/pg_is_in_recovery with canned rows.
#include "exporter/collector/pg_is_in_recovery.h"

#include <gtest/gtest.h>

#include "exporter/base/metric_sink.h"
#include "exporter/pg/row_source.h"
#include "exporter/model/snapshot.h"

namespace pgrepl {
namespace {

class CannedRows : public RowSource {
 public:
  explicit CannedRows(Result<Rows> rows) : rows_(std::move(rows)) {}
  Result<Rows> Query(const std::string&) override { return rows_; }
  int server_version() const override { return 150000; }

 private:
  Result<Rows> rows_;
};

Rows RoleRow(std::optional<std::string> rec, std::optional<std::string> ver) {
  Rows r;
  r.columns = {"in_recovery", "server_version_num"};
  r.values = {{rec, ver}};
  return r;
}

// Value of the sample of `name` whose labels include `label`=`value`.
std::optional<double> Sample(const std::vector<prometheus::MetricFamily>& fams,
                             const std::string& name, const std::string& label = "",
                             const std::string& value = "") {
  for (const auto& f : fams) {
    if (f.name != name) continue;
    for (const auto& m : f.metric) {
      bool match = label.empty();
      for (const auto& l : m.label) {
        if (l.name == label && l.value == value) match = true;
      }
      if (match) return m.gauge.value;
    }
  }
  return std::nullopt;
}

TEST(PgIsInRecovery, ReplicaRow) {
  InstanceSnapshot s;
  CannedRows db(RoleRow("t", "150018"));
  ASSERT_TRUE(PgIsInRecoveryCollector().Update(db, PollContext{}, &s).ok());
  ASSERT_TRUE(s.recovery.has_value());
  EXPECT_TRUE(s.recovery->in_recovery);
  EXPECT_EQ(s.server_version_num, 150018);

  s.up = true;
  MetricSink sink(LabelPairs{{"cluster", "c"}, {"instance", "i"}});
  PgIsInRecoveryCollector().Emit(s, sink);
  auto fams = sink.Take();
  EXPECT_EQ(Sample(fams, "pgrepl_in_recovery"), 1.0);
  EXPECT_EQ(Sample(fams, "pgrepl_role", "role", "replica"), 1.0);
  EXPECT_EQ(Sample(fams, "pgrepl_role", "role", "primary"), 0.0);
  EXPECT_EQ(Sample(fams, "pgrepl_server_version_num"), 150018.0);
}

TEST(PgIsInRecovery, PrimaryRow) {
  InstanceSnapshot s;
  CannedRows db(RoleRow("f", "120003"));
  ASSERT_TRUE(PgIsInRecoveryCollector().Update(db, PollContext{}, &s).ok());
  s.up = true;
  MetricSink sink;
  PgIsInRecoveryCollector().Emit(s, sink);
  auto fams = sink.Take();
  EXPECT_EQ(Sample(fams, "pgrepl_in_recovery"), 0.0);
  EXPECT_EQ(Sample(fams, "pgrepl_role", "role", "primary"), 1.0);
}

TEST(PgIsInRecovery, NullsAreErrorsNotZero) {
  for (auto row : {RoleRow(std::nullopt, "150000"), RoleRow("t", std::nullopt),
                   RoleRow("maybe", "150000"), RoleRow("t", "abc")}) {
    InstanceSnapshot s;
    CannedRows db(row);
    EXPECT_FALSE(PgIsInRecoveryCollector().Update(db, PollContext{}, &s).ok());
    EXPECT_FALSE(s.recovery.has_value());
  }
  InstanceSnapshot s;
  CannedRows empty(Rows{});
  EXPECT_FALSE(PgIsInRecoveryCollector().Update(empty, PollContext{}, &s).ok());
}

TEST(PgIsInRecovery, QueryErrorPropagates) {
  InstanceSnapshot s;
  CannedRows db(Status::Timeout("query timed out"));
  Status st = PgIsInRecoveryCollector().Update(db, PollContext{}, &s);
  EXPECT_EQ(st.kind(), Status::Kind::kTimeout);
}

TEST(PgIsInRecovery, DownInstanceHasNoRole) {
  InstanceSnapshot s;
  s.up = false;
  s.recovery = RecoveryInfo{true, 150000};
  MetricSink sink;
  PgIsInRecoveryCollector().Emit(s, sink);
  EXPECT_TRUE(sink.Take().empty());
}

// Pause state moved from pg_is_wal_replay_paused() to
// pg_get_wal_replay_pause_state() in PostgreSQL 14.
TEST(RecoverySql, VersionChoice) {
  for (int v : {120000, 130011, 139999}) {
    std::string sql = RecoverySql(v);
    EXPECT_NE(sql.find("pg_is_wal_replay_paused"), std::string::npos) << v;
    EXPECT_EQ(sql.find("pg_get_wal_replay_pause_state"), std::string::npos) << v;
  }
  for (int v : {140000, 150018, 170000}) {
    std::string sql = RecoverySql(v);
    EXPECT_NE(sql.find("pg_get_wal_replay_pause_state"), std::string::npos) << v;
    EXPECT_EQ(sql.find("pg_is_wal_replay_paused"), std::string::npos) << v;
  }
}

TEST(PgIsInRecovery, UpdateUsesTheConnectionsServerVersion) {
  class Recording : public RowSource {
   public:
    explicit Recording(int v) : v_(v) {}
    Result<Rows> Query(const std::string& sql) override {
      asked = sql;
      return RoleRow("t", std::to_string(v_));
    }
    int server_version() const override { return v_; }
    std::string asked;

   private:
    int v_;
  };
  Recording pg13(130011);
  InstanceSnapshot s;
  ASSERT_TRUE(PgIsInRecoveryCollector().Update(pg13, PollContext{}, &s).ok());
  EXPECT_NE(pg13.asked.find("pg_is_wal_replay_paused"), std::string::npos);
  Recording pg14(140000);
  ASSERT_TRUE(PgIsInRecoveryCollector().Update(pg14, PollContext{}, &s).ok());
  EXPECT_NE(pg14.asked.find("pg_get_wal_replay_pause_state"), std::string::npos);
}

}  // namespace
}  // namespace pgrepl
