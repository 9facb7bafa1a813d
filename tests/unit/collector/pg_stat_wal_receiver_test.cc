// Tests for exporter/collector/pg_stat_wal_receiver with canned rows.
#include "exporter/collector/pg_stat_wal_receiver.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "exporter/base/metric_sink.h"
#include "exporter/model/snapshot.h"
#include "tests/unit/testing/canned_rows.h"
#include "tests/unit/testing/fake_session.h"
#include "tests/unit/testing/metric_matchers.h"

namespace pgrepl {
namespace {

using canned::Cell;
using canned::IdentityCells;
using canned::ReceiverCells;
using canned::ReceiverRows;

constexpr char kSecret[] = "s3cr3t-Pa55";

Rows IdentityRows(Cell conninfo, Cell slot, Cell cluster_name) {
  return canned::IdentityRows(IdentityCells{conninfo, slot, cluster_name});
}

ReplicaIdentity Identity(Cell conninfo, Cell slot = "",
                         Cell cluster_name = "") {
  ReplicaIdentity id;
  Status st = ParseIdentity(IdentityRows(conninfo, slot, cluster_name), &id);
  EXPECT_TRUE(st.ok()) << st.message();
  return id;
}

// True when `sql` reads `column` from a relation, i.e. mentions it as a
// whole word other than as an output alias ("... AS column").
InstanceSnapshot Replica(std::optional<WalReceiverInfo> w) {
  InstanceSnapshot s;
  s.up = true;
  s.recovery = RecoveryInfo{};
  s.recovery->in_recovery = true;
  s.wal_receiver = std::move(w);
  s.wal_receiver_read = true;
  s.collectors = {{"pg_is_in_recovery", true, 0},
                  {"pg_stat_wal_receiver", true, 0}};
  return s;
}

TEST(PgStatWalReceiver, EmitNothingWhenTheQueryFailed) {
  // A failed receiver query is unknown, not "receiver down".
  InstanceSnapshot s = Replica(std::nullopt);
  s.collectors[1].ok = false;
  s.wal_receiver_read = false;
  MetricSink sink;
  PgStatWalReceiverCollector().Emit(s, sink);
  EXPECT_TRUE(sink.Take().empty());
}

std::vector<prometheus::MetricFamily> Emit(const InstanceSnapshot& s) {
  MetricSink sink(LabelPairs{{"cluster", "c"}, {"instance", "replica1"}});
  PgStatWalReceiverCollector().Emit(s, sink);
  return sink.Take();
}

WalReceiverInfo Parsed(const ReceiverCells& row) {
  std::optional<WalReceiverInfo> w;
  EXPECT_TRUE(ParseWalReceiver(ReceiverRows({row}), &w).ok());
  EXPECT_TRUE(w.has_value());
  return w.value_or(WalReceiverInfo{});
}

TEST(ParseWalReceiver, NoRowsMeansNoReceiver) {
  std::optional<WalReceiverInfo> w = WalReceiverInfo{};
  w->status = "streaming";
  ASSERT_TRUE(ParseWalReceiver(ReceiverRows({}), &w).ok());
  EXPECT_FALSE(w.has_value());
}

TEST(ParseWalReceiver, StreamingRow) {
  WalReceiverInfo w = Parsed(ReceiverCells{});
  EXPECT_EQ(w.pid, 4711);
  EXPECT_EQ(w.postmaster_start, 1795766400.123456);
  EXPECT_EQ(w.status, "streaming");
  EXPECT_EQ(w.received_tli, 1u);
  EXPECT_EQ(w.flushed_lsn, 0x3000148u);
  EXPECT_EQ(w.written_lsn, 0x3000148u);
  EXPECT_EQ(w.last_msg_age, 0.83);
  EXPECT_EQ(w.upstream_host, "127.0.0.1");
  EXPECT_EQ(w.upstream_port, "5432");
  EXPECT_EQ(w.slot, "replica1");
}

TEST(ParseWalReceiver, Pg12RowHasNoWrittenLsn) {
  ReceiverCells row;
  row.written_lsn = std::nullopt;  // NULL::text AS written_lsn before 13
  row.flushed_lsn = "0/5000000";   // received_lsn AS flushed_lsn
  WalReceiverInfo w = Parsed(row);
  EXPECT_EQ(w.flushed_lsn, 0x5000000u);
  EXPECT_FALSE(w.written_lsn.has_value());
}

TEST(ParseWalReceiver, NullCellsStayUnknown) {
  ReceiverCells row;
  row.pid = std::nullopt;
  row.postmaster_start = std::nullopt;
  row.received_tli = std::nullopt;
  row.flushed_lsn = std::nullopt;
  row.written_lsn = std::nullopt;
  row.last_msg_age = std::nullopt;
  row.upstream_host = std::nullopt;
  row.upstream_port = std::nullopt;
  row.slot = std::nullopt;
  WalReceiverInfo w = Parsed(row);
  EXPECT_FALSE(w.pid.has_value());
  EXPECT_FALSE(w.postmaster_start.has_value());
  EXPECT_EQ(w.status, "streaming");
  EXPECT_FALSE(w.received_tli.has_value());
  EXPECT_FALSE(w.flushed_lsn.has_value());
  EXPECT_FALSE(w.written_lsn.has_value());
  EXPECT_FALSE(w.last_msg_age.has_value());
  EXPECT_EQ(w.upstream_host, "");
  EXPECT_EQ(w.upstream_port, "");
  EXPECT_EQ(w.slot, "");
}

TEST(ParseWalReceiver, NullStatusIsInsufficientPrivilegeNotABrokenStream) {
  // What a role without pg_read_all_stats sees: the row, NULL columns.
  ReceiverCells row;
  row.status = std::nullopt;
  row.flushed_lsn = std::nullopt;
  row.upstream_host = std::nullopt;
  std::optional<WalReceiverInfo> w = WalReceiverInfo{};
  Status st = ParseWalReceiver(ReceiverRows({row}), &w);
  EXPECT_EQ(st.kind(), Status::Kind::kQuery);
  EXPECT_NE(st.message().find("insufficient privilege"), std::string::npos)
      << st.message();
  EXPECT_NE(st.message().find("pg_monitor"), std::string::npos);
}

TEST(ParseWalReceiver, BadTimelineIsUnknown) {
  for (const char* bad : {"-1", "x", ""}) {
    ReceiverCells row;
    row.received_tli = bad;
    EXPECT_FALSE(Parsed(row).received_tli.has_value()) << bad;
  }
  ReceiverCells row;
  row.received_tli = "12";
  EXPECT_EQ(Parsed(row).received_tli, 12u);
}

TEST(WalReceiverSql, VersionChoice) {
  // pg_stat_wal_receiver.received_lsn became flushed_lsn in PostgreSQL 13,
  // which also added written_lsn.
  for (int v : {120000, 120017, 129999}) {
    std::string sql = WalReceiverSql(v);
    EXPECT_TRUE(ReadsColumn(sql, "received_lsn")) << v;
    EXPECT_FALSE(ReadsColumn(sql, "flushed_lsn")) << v;
    EXPECT_FALSE(ReadsColumn(sql, "written_lsn")) << v;
  }
  for (int v : {130000, 150018, 170000}) {
    std::string sql = WalReceiverSql(v);
    EXPECT_FALSE(ReadsColumn(sql, "received_lsn")) << v;
    EXPECT_TRUE(ReadsColumn(sql, "flushed_lsn")) << v;
    EXPECT_TRUE(ReadsColumn(sql, "written_lsn")) << v;
  }
}

TEST(ParseIdentity, ApplicationNameInConninfoWins) {
  ReplicaIdentity id =
      Identity("host=10.0.0.1 user=replicator application_name=replica1",
               "slot1", "cluster-name");
  EXPECT_EQ(id.standby_name, "replica1");
  EXPECT_EQ(id.slot, "slot1");
}

TEST(ParseIdentity, UriConninfo) {
  ReplicaIdentity id = Identity(
      "postgresql://replicator@10.0.0.1:5432/postgres?application_name=r2", "",
      "cluster-name");
  EXPECT_EQ(id.standby_name, "r2");
  EXPECT_EQ(id.slot, "");
}

TEST(ParseIdentity, ClusterNameFallback) {
  EXPECT_EQ(
      Identity("host=10.0.0.1 user=replicator", "", "node-b").standby_name,
      "node-b");
  // application_name='' is unset for libpq, which then uses the fallback.
  EXPECT_EQ(
      Identity("host=10.0.0.1 application_name=''", "", "node-b").standby_name,
      "node-b");
  EXPECT_EQ(Identity("", "", "node-b").standby_name, "node-b");
  EXPECT_EQ(Identity(std::nullopt, "", "node-b").standby_name, "node-b");
}

TEST(ParseIdentity, WalreceiverLastResort) {
  EXPECT_EQ(Identity("host=10.0.0.1", "", "").standby_name, "walreceiver");
  EXPECT_EQ(Identity("", "", "").standby_name, "walreceiver");
  ReplicaIdentity id = Identity(std::nullopt, std::nullopt, std::nullopt);
  EXPECT_EQ(id.standby_name, "walreceiver");
  EXPECT_EQ(id.slot, "");
}

TEST(ParseIdentity, PasswordNeverLeaks) {
  for (std::string conninfo :
       {std::string("host=p user=r password=") + kSecret,
        std::string("host=p password=") + kSecret +
            " application_name=replica1",
        std::string("postgresql://r:") + kSecret + "@p/db",
        std::string("postgresql://r:") + kSecret + "@p/db?application_name=r9",
        // Malformed (unterminated quote): falls back, still no leak.
        std::string("host=p password='") + kSecret}) {
    ReplicaIdentity id = Identity(conninfo, "slot1", "");
    EXPECT_EQ(id.standby_name.find(kSecret), std::string::npos)
        << id.standby_name;
    EXPECT_EQ(id.standby_name.find("password"), std::string::npos);
    EXPECT_EQ(id.slot, "slot1");
  }
  EXPECT_EQ(Identity(std::string("host=p password=") + kSecret +
                     " application_name=replica1")
                .standby_name,
            "replica1");
  EXPECT_EQ(Identity(std::string("host=p password='") + kSecret, "", "node-c")
                .standby_name,
            "node-c");
}

TEST(ParseIdentity, NeedsExactlyOneRow) {
  ReplicaIdentity id;
  Rows none;
  none.columns = {"primary_conninfo", "primary_slot_name", "cluster_name"};
  EXPECT_FALSE(ParseIdentity(none, &id).ok());
  Rows two = IdentityRows("", "", "a");
  two.values.push_back(two.values[0]);
  EXPECT_FALSE(ParseIdentity(two, &id).ok());
}

TEST(PgStatWalReceiver, UpdateOnPrimaryRunsNoQuery) {
  FakeDatabase db;
  InstanceSnapshot s;
  s.recovery = RecoveryInfo{};
  s.recovery->in_recovery = false;
  s.wal_receiver = WalReceiverInfo{};
  s.identity = ReplicaIdentity{"old-name", "old-slot"};
  ASSERT_TRUE(
      PgStatWalReceiverCollector().Update(db.rows(), PollContext{}, &s).ok());
  EXPECT_TRUE(db.asked().empty());
  EXPECT_FALSE(s.wal_receiver.has_value());
  // The identity is sticky: a promoted replica keeps its last names.
  ASSERT_TRUE(s.identity.has_value());
  EXPECT_EQ(s.identity->standby_name, "old-name");
}

TEST(PgStatWalReceiver, UpdateWithoutRoleRunsNoQuery) {
  FakeDatabase db;
  InstanceSnapshot s;
  s.wal_receiver = WalReceiverInfo{};
  ASSERT_TRUE(
      PgStatWalReceiverCollector().Update(db.rows(), PollContext{}, &s).ok());
  EXPECT_TRUE(db.asked().empty());
  EXPECT_FALSE(s.wal_receiver.has_value());
}

TEST(PgStatWalReceiver, UpdateOnReplica) {
  FakeDatabase db(150018);
  db.Answer(WalReceiverSql(150018), ReceiverRows({ReceiverCells{}}));
  db.Answer(IdentitySql(),
            IdentityRows("host=p application_name=replica1", "replica1", ""));
  InstanceSnapshot s = Replica(std::nullopt);
  ASSERT_TRUE(
      PgStatWalReceiverCollector().Update(db.rows(), PollContext{}, &s).ok());
  ASSERT_EQ(db.asked().size(), 2u);
  EXPECT_EQ(db.asked()[0], WalReceiverSql(150018));
  EXPECT_EQ(db.asked()[1], IdentitySql());
  EXPECT_TRUE(ReadsColumn(db.asked()[0], "written_lsn"));
  ASSERT_TRUE(s.wal_receiver.has_value());
  EXPECT_EQ(s.wal_receiver->status, "streaming");
  ASSERT_TRUE(s.identity.has_value());
  EXPECT_EQ(s.identity->standby_name, "replica1");
  EXPECT_EQ(s.identity->slot, "replica1");
}

TEST(PgStatWalReceiver, UpdateUsesTheConnectionsServerVersion) {
  FakeDatabase db(120005);
  db.Answer(WalReceiverSql(120005), ReceiverRows({}));
  db.Answer(IdentitySql(), IdentityRows("", "", "node-a"));
  InstanceSnapshot s = Replica(WalReceiverInfo{});
  ASSERT_TRUE(
      PgStatWalReceiverCollector().Update(db.rows(), PollContext{}, &s).ok());
  ASSERT_EQ(db.asked().size(), 2u);
  EXPECT_EQ(db.asked()[0], WalReceiverSql(120005));
  EXPECT_TRUE(ReadsColumn(db.asked()[0], "received_lsn"));
  EXPECT_FALSE(ReadsColumn(db.asked()[0], "flushed_lsn"));
  EXPECT_FALSE(ReadsColumn(db.asked()[0], "written_lsn"));
  // No receiver row: the stream is down, the identity is still read.
  EXPECT_FALSE(s.wal_receiver.has_value());
  ASSERT_TRUE(s.identity.has_value());
  EXPECT_EQ(s.identity->standby_name, "node-a");
}

TEST(PgStatWalReceiver, UpdateErrorsPropagate) {
  {
    FakeDatabase db;
    db.TimeOut(WalReceiverSql(db.server_version()));
    db.Answer(IdentitySql(), IdentityRows("", "", "node-a"));
    InstanceSnapshot s = Replica(std::nullopt);
    EXPECT_EQ(PgStatWalReceiverCollector()
                  .Update(db.rows(), PollContext{}, &s)
                  .kind(),
              Status::Kind::kTimeout);
    EXPECT_EQ(db.asked().size(), 1u);
    EXPECT_FALSE(s.identity.has_value());
  }
  {
    FakeDatabase db;
    db.Answer(WalReceiverSql(db.server_version()),
              ReceiverRows({ReceiverCells{}}));
    db.Answer(IdentitySql(), Status::Query("permission denied"));
    InstanceSnapshot s = Replica(std::nullopt);
    s.identity = ReplicaIdentity{"kept", "kept"};
    EXPECT_EQ(PgStatWalReceiverCollector()
                  .Update(db.rows(), PollContext{}, &s)
                  .kind(),
              Status::Kind::kQuery);
    ASSERT_TRUE(s.identity.has_value());
    EXPECT_EQ(s.identity->standby_name, "kept");
  }
}

TEST(PgStatWalReceiver, EmitAbsentReceiverIsDown) {
  auto fams = Emit(Replica(std::nullopt));
  EXPECT_EQ(Value(fams, "pgrepl_wal_receiver_up"), 0.0);
  EXPECT_TRUE(Matches(fams, "pgrepl_wal_receiver_info", {}).empty());
  EXPECT_TRUE(Matches(fams, "pgrepl_wal_receiver_last_message_age_seconds", {})
                  .empty());
  EXPECT_TRUE(Matches(fams, "pgrepl_wal_receiver_timeline_id", {}).empty());
}

TEST(PgStatWalReceiver, EmitStreaming) {
  ReceiverCells row;
  row.received_tli = "3";
  auto fams = Emit(Replica(Parsed(row)));
  EXPECT_EQ(Value(fams, "pgrepl_wal_receiver_up",
                  {{"cluster", "c"}, {"instance", "replica1"}}),
            1.0);
  EXPECT_EQ(Value(fams, "pgrepl_wal_receiver_info",
                  {{"status", "streaming"},
                   {"upstream_host", "127.0.0.1"},
                   {"upstream_port", "5432"},
                   {"slot", "replica1"}}),
            1.0);
  EXPECT_EQ(Value(fams, "pgrepl_wal_receiver_last_message_age_seconds"), 0.83);
  EXPECT_EQ(Value(fams, "pgrepl_wal_receiver_timeline_id"), 3.0);
}

TEST(PgStatWalReceiver, EmitRestartsEvenWithoutAReceiver) {
  InstanceSnapshot s = Replica(std::nullopt);
  s.wal_receiver_restarts = 4;
  EXPECT_EQ(CounterValue(Emit(s), "pgrepl_wal_receiver_restarts_total",
                         {{"instance", "replica1"}}),
            4.0);
  s.wal_receiver = Parsed(ReceiverCells{});
  s.wal_receiver_restarts = 5;
  EXPECT_EQ(CounterValue(Emit(s), "pgrepl_wal_receiver_restarts_total"), 5.0);
}

TEST(PgStatWalReceiver, EmitWaitingIsDown) {
  for (const char* status :
       {"waiting", "starting", "restarting", "stopping", ""}) {
    ReceiverCells row;
    row.status = status;
    auto fams = Emit(Replica(Parsed(row)));
    EXPECT_EQ(Value(fams, "pgrepl_wal_receiver_up"), 0.0) << status;
    EXPECT_EQ(Value(fams, "pgrepl_wal_receiver_info", {{"status", status}}),
              1.0);
  }
}

TEST(PgStatWalReceiver, EmitSkipsNullAgeAndTimeline) {
  ReceiverCells row;
  row.received_tli = std::nullopt;
  row.last_msg_age = std::nullopt;
  auto fams = Emit(Replica(Parsed(row)));
  EXPECT_EQ(Value(fams, "pgrepl_wal_receiver_up"), 1.0);
  EXPECT_TRUE(Matches(fams, "pgrepl_wal_receiver_last_message_age_seconds", {})
                  .empty());
  EXPECT_TRUE(Matches(fams, "pgrepl_wal_receiver_timeline_id", {}).empty());
}

TEST(PgStatWalReceiver, EmitNothingOnPrimaryOrWhenDown) {
  InstanceSnapshot primary = Replica(std::nullopt);
  primary.recovery->in_recovery = false;
  EXPECT_TRUE(Emit(primary).empty());

  InstanceSnapshot down = Replica(Parsed(ReceiverCells{}));
  down.up = false;
  EXPECT_TRUE(Emit(down).empty());

  InstanceSnapshot unknown_role = Replica(Parsed(ReceiverCells{}));
  unknown_role.recovery.reset();
  EXPECT_TRUE(Emit(unknown_role).empty());
}

}  // namespace
}  // namespace pgrepl
