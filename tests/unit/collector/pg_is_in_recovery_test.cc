// Tests for exporter/collector/pg_is_in_recovery with canned rows.
#include "exporter/collector/pg_is_in_recovery.h"

#include <gtest/gtest.h>

#include "exporter/base/metric_sink.h"
#include "exporter/model/snapshot.h"
#include "tests/unit/testing/fake_session.h"

namespace pgrepl {
namespace {

// Answers the role query of `db`'s server version with `answer`.
void AnswerRole(FakeDatabase* db, Result<Rows> answer) {
  db->Answer(RecoverySql(db->server_version()), std::move(answer));
}

Rows RoleRow(std::optional<std::string> rec, std::optional<std::string> ver) {
  Rows r;
  r.columns = {"in_recovery", "server_version_num"};
  r.values = {{rec, ver}};
  return r;
}

// Value of the sample of `name` whose labels include `label`=`value`.
std::optional<double> Sample(const std::vector<prometheus::MetricFamily>& fams,
                             const std::string& name,
                             const std::string& label = "",
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
  FakeDatabase db;
  AnswerRole(&db, RoleRow("t", "150018"));
  ASSERT_TRUE(
      PgIsInRecoveryCollector().Update(db.rows(), PollContext{}, &s).ok());
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
  FakeDatabase db;
  AnswerRole(&db, RoleRow("f", "120003"));
  ASSERT_TRUE(
      PgIsInRecoveryCollector().Update(db.rows(), PollContext{}, &s).ok());
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
    FakeDatabase db;
    AnswerRole(&db, row);
    EXPECT_FALSE(
        PgIsInRecoveryCollector().Update(db.rows(), PollContext{}, &s).ok());
    EXPECT_FALSE(s.recovery.has_value());
  }
  InstanceSnapshot s;
  FakeDatabase empty;
  AnswerRole(&empty, Rows{});
  EXPECT_FALSE(
      PgIsInRecoveryCollector().Update(empty.rows(), PollContext{}, &s).ok());
}

TEST(PgIsInRecovery, QueryErrorPropagates) {
  InstanceSnapshot s;
  FakeDatabase db;
  db.TimeOut(RecoverySql(db.server_version()));
  Status st = PgIsInRecoveryCollector().Update(db.rows(), PollContext{}, &s);
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
    EXPECT_EQ(sql.find("pg_get_wal_replay_pause_state"), std::string::npos)
        << v;
  }
  for (int v : {140000, 150018, 170000}) {
    std::string sql = RecoverySql(v);
    EXPECT_NE(sql.find("pg_get_wal_replay_pause_state"), std::string::npos)
        << v;
    EXPECT_EQ(sql.find("pg_is_wal_replay_paused"), std::string::npos) << v;
  }
}

TEST(PgIsInRecovery, UpdateUsesTheConnectionsServerVersion) {
  // Each server answers only the role query of its own version.
  FakeDatabase pg13(130011);
  AnswerRole(&pg13, RoleRow("t", "130011"));
  InstanceSnapshot s;
  ASSERT_TRUE(
      PgIsInRecoveryCollector().Update(pg13.rows(), PollContext{}, &s).ok());
  ASSERT_EQ(pg13.asked().size(), 1u);
  EXPECT_NE(pg13.asked()[0].find("pg_is_wal_replay_paused"), std::string::npos);
  EXPECT_EQ(s.server_version_num, 130011);
  FakeDatabase pg14(140000);
  AnswerRole(&pg14, RoleRow("t", "140000"));
  ASSERT_TRUE(
      PgIsInRecoveryCollector().Update(pg14.rows(), PollContext{}, &s).ok());
  ASSERT_EQ(pg14.asked().size(), 1u);
  EXPECT_NE(pg14.asked()[0].find("pg_get_wal_replay_pause_state"),
            std::string::npos);
  EXPECT_EQ(s.server_version_num, 140000);
}

}  // namespace
}  // namespace pgrepl
