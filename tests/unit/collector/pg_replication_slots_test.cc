// Tests for exporter/collector/pg_replication_slots with canned rows.
#include "exporter/collector/pg_replication_slots.h"

#include <gtest/gtest.h>

#include <cctype>
#include <map>
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

using canned::SlotCells;
using canned::SlotRows;

// The shape PostgreSQL 12 returns: wal_status and safe_wal_size are NULL.
SlotCells Pg12Slot() {
  SlotCells c;
  c.wal_status = std::nullopt;
  c.safe_wal_size = std::nullopt;
  return c;
}

std::vector<SlotRow> Parse(const std::vector<SlotCells>& rows) {
  std::vector<SlotRow> out;
  EXPECT_TRUE(ParseReplicationSlots(SlotRows(rows), &out).ok());
  return out;
}

std::vector<prometheus::MetricFamily> EmitFor(
    const std::vector<SlotCells>& rows, int version = 150000) {
  InstanceSnapshot s;
  s.up = true;
  FakeDatabase db(version);
  db.Answer(ReplicationSlotsSql(version), SlotRows(rows));
  EXPECT_TRUE(
      PgReplicationSlotsCollector().Update(db.rows(), PollContext{}, &s).ok());
  MetricSink sink(LabelPairs{{"cluster", "c"}, {"instance", "primary"}});
  PgReplicationSlotsCollector().Emit(s, sink);
  return sink.Take();
}

TEST(ParseReplicationSlots, Pg13Rows) {
  SlotCells logical;
  logical.slot_name = "cdc";
  logical.slot_type = "logical";
  logical.active = "f";
  logical.retained_bytes = "16777216";
  logical.wal_status = "extended";
  logical.safe_wal_size = "1073741824";
  auto out = Parse({SlotCells{}, logical});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].name, "replica1");
  EXPECT_EQ(out[1].type, "physical");
  EXPECT_TRUE(out[1].active);
  EXPECT_EQ(out[1].retained_bytes, 0u);
  EXPECT_EQ(out[1].wal_status, "reserved");
  EXPECT_FALSE(out[1].safe_wal_size.has_value());
  EXPECT_EQ(out[0].name, "cdc");
  EXPECT_EQ(out[0].type, "logical");
  EXPECT_FALSE(out[0].active);
  EXPECT_EQ(out[0].retained_bytes, 16777216u);
  EXPECT_EQ(out[0].wal_status, "extended");
  EXPECT_EQ(out[0].safe_wal_size, 1073741824);
}

// The statement has no ORDER BY (a sort node the server would set up on
// every poll): the parser sorts by name, whatever order the rows came in.
TEST(ParseReplicationSlots, RowsComeOutSortedByName) {
  std::vector<SlotCells> rows(3);
  rows[0].slot_name = "replica2";
  rows[1].slot_name = "cdc";
  rows[2].slot_name = "replica1";
  rows[2].active_pid = "4343";
  auto out = Parse(rows);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].name, "cdc");
  EXPECT_EQ(out[1].name, "replica1");
  EXPECT_EQ(out[1].active_pid, 4343);  // the row moved whole
  EXPECT_EQ(out[2].name, "replica2");
}

TEST(ParseReplicationSlots, Pg12RowsHaveNoWalStatus) {
  auto out = Parse({Pg12Slot()});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].wal_status.has_value());
  EXPECT_FALSE(out[0].safe_wal_size.has_value());
  EXPECT_EQ(out[0].retained_bytes, 0u);
}

TEST(ParseReplicationSlots, NegativeRetainedClampsToZero) {
  // restart_lsn ahead of the replay position on a standby.
  SlotCells c;
  c.retained_bytes = "-8192";
  auto out = Parse({c});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].retained_bytes, 0u);
}

TEST(ParseReplicationSlots, NullRestartLsnMeansNoRetainedValue) {
  SlotCells c;
  c.retained_bytes = std::nullopt;
  auto out = Parse({c});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].retained_bytes.has_value());
}

TEST(ParseReplicationSlots, NegativeSafeWalSizeIsKept) {
  // safe_wal_size goes negative once the slot is past the limit.
  SlotCells c;
  c.wal_status = "unreserved";
  c.safe_wal_size = "-1048576";
  auto out = Parse({c});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].safe_wal_size, -1048576);
}

TEST(ParseReplicationSlots, ReplacesPreviousContents) {
  std::vector<SlotRow> out(4);
  ASSERT_TRUE(ParseReplicationSlots(SlotRows({}), &out).ok());
  EXPECT_TRUE(out.empty());
}

TEST(ReplicationSlotsSql, VersionChoice) {
  for (int v : {120000, 120017, 129999}) {
    std::string sql = ReplicationSlotsSql(v);
    EXPECT_FALSE(ReadsColumn(sql, "wal_status")) << v;
    EXPECT_FALSE(ReadsColumn(sql, "safe_wal_size")) << v;
  }
  for (int v : {130000, 150018, 170000}) {
    std::string sql = ReplicationSlotsSql(v);
    EXPECT_TRUE(ReadsColumn(sql, "wal_status")) << v;
    EXPECT_TRUE(ReadsColumn(sql, "safe_wal_size")) << v;
  }
}

TEST(PgReplicationSlots, UpdateUsesTheConnectionsServerVersion) {
  InstanceSnapshot s;
  FakeDatabase db(120010);
  db.Answer(ReplicationSlotsSql(120010), SlotRows({Pg12Slot()}));
  ASSERT_TRUE(
      PgReplicationSlotsCollector().Update(db.rows(), PollContext{}, &s).ok());
  ASSERT_EQ(db.asked().size(), 1u);
  EXPECT_FALSE(ReadsColumn(db.asked()[0], "wal_status"));
  ASSERT_TRUE(s.slots.has_value());
  EXPECT_EQ(s.slots->size(), 1u);
}

TEST(PgReplicationSlots, UpdateErrorLeavesSlotsUnset) {
  InstanceSnapshot s;
  FakeDatabase db(150000);
  db.TimeOut(ReplicationSlotsSql(150000));
  EXPECT_EQ(
      PgReplicationSlotsCollector().Update(db.rows(), PollContext{}, &s).kind(),
      Status::Kind::kTimeout);
  EXPECT_FALSE(s.slots.has_value());
}

TEST(PgReplicationSlots, Pg12SlotHasNoWalStatusSamples) {
  auto fams = EmitFor({Pg12Slot()}, 120000);
  EXPECT_EQ(Value(fams, "pgrepl_slot_active", {{"slot", "replica1"}}), 1.0);
  EXPECT_EQ(
      Value(fams, "pgrepl_slot_retained_wal_bytes", {{"slot", "replica1"}}),
      0.0);
  EXPECT_EQ(Count(fams, "pgrepl_slot_wal_status"), 0u);
  EXPECT_EQ(Count(fams, "pgrepl_slot_safe_wal_size_bytes"), 0u);
}

TEST(PgReplicationSlots, WalStatusIsOneHot) {
  for (const char* current : kWalStatuses) {
    SlotCells c;
    c.wal_status = current;
    auto fams = EmitFor({c});
    ASSERT_EQ(Count(fams, "pgrepl_slot_wal_status"), 4u) << current;
    double total = 0;
    for (const char* status : kWalStatuses) {
      auto v = Value(fams, "pgrepl_slot_wal_status",
                     {{"slot", "replica1"},
                      {"slot_type", "physical"},
                      {"wal_status", status}});
      ASSERT_TRUE(v.has_value()) << status;
      EXPECT_EQ(*v, std::string(status) == current ? 1.0 : 0.0)
          << current << " / " << status;
      total += *v;
    }
    EXPECT_EQ(total, 1.0);
  }
}

TEST(PgReplicationSlots, RetainedAndSafeSizeSamples) {
  SlotCells a;
  a.retained_bytes = "-100";  // clamped
  a.safe_wal_size = "4096";
  SlotCells b;
  b.slot_name = "gone";
  b.active = "f";
  b.retained_bytes = std::nullopt;  // NULL restart_lsn: holds nothing
  b.wal_status = "lost";
  auto fams = EmitFor({a, b});
  EXPECT_EQ(
      Value(fams, "pgrepl_slot_retained_wal_bytes", {{"slot", "replica1"}}),
      0.0);
  EXPECT_EQ(
      Value(fams, "pgrepl_slot_safe_wal_size_bytes", {{"slot", "replica1"}}),
      4096.0);
  EXPECT_EQ(Count(fams, "pgrepl_slot_retained_wal_bytes", {{"slot", "gone"}}),
            0u);
  EXPECT_EQ(Count(fams, "pgrepl_slot_safe_wal_size_bytes", {{"slot", "gone"}}),
            0u);
  EXPECT_EQ(Value(fams, "pgrepl_slot_active", {{"slot", "gone"}}), 0.0);
  EXPECT_EQ(Value(fams, "pgrepl_slot_wal_status",
                  {{"slot", "gone"}, {"wal_status", "lost"}}),
            1.0);
}

TEST(PgReplicationSlots, LabelsAreSlotAndType) {
  SlotCells c;
  c.slot_name = "cdc";
  c.slot_type = "logical";
  c.retained_bytes = "123";
  auto fams = EmitFor({c});
  auto m = Matches(fams, "pgrepl_slot_retained_wal_bytes", {});
  ASSERT_EQ(m.size(), 1u);
  Labels got;
  for (const auto& l : m[0]->label) got[l.name] = l.value;
  EXPECT_EQ(got, (Labels{{"cluster", "c"},
                         {"instance", "primary"},
                         {"slot", "cdc"},
                         {"slot_type", "logical"}}));
  EXPECT_EQ(m[0]->gauge.value, 123.0);
}

TEST(PgReplicationSlots, XminAgesInTransactions) {
  // A physical slot fed by hot_standby_feedback holds xmin; a logical
  // slot holds catalog_xmin (and usually no xmin); NULL means none held.
  SlotCells physical;
  physical.xmin_age = "1234567";
  SlotCells logical;
  logical.slot_name = "app_sub";
  logical.slot_type = "logical";
  logical.xmin_age = std::nullopt;
  logical.catalog_xmin_age = "89";
  auto fams = EmitFor({physical, logical});
  EXPECT_EQ(Value(fams, "pgrepl_slot_xmin_age_xids", {{"slot", "replica1"}}),
            1234567);
  EXPECT_EQ(
      Count(fams, "pgrepl_slot_catalog_xmin_age_xids", {{"slot", "replica1"}}),
      0u);
  EXPECT_EQ(Value(fams, "pgrepl_slot_catalog_xmin_age_xids",
                  {{"slot", "app_sub"}, {"slot_type", "logical"}}),
            89);
  EXPECT_EQ(Count(fams, "pgrepl_slot_xmin_age_xids", {{"slot", "app_sub"}}),
            0u);
}

TEST(ReplicationSlotsSql, ReadsXminAndCatalogXminOnEveryVersion) {
  for (int v : {120000, 130000, 150000, 170000}) {
    EXPECT_TRUE(ReadsColumn(ReplicationSlotsSql(v), "xmin")) << v;
    EXPECT_TRUE(ReadsColumn(ReplicationSlotsSql(v), "catalog_xmin")) << v;
  }
}

TEST(PgReplicationSlots, LogicalSlotConfirmedFlushLag) {
  SlotCells logical;
  logical.slot_name = "orders_sub";
  logical.slot_type = "logical";
  logical.active = "f";
  logical.confirmed_flush_lag_bytes = "5242880";
  SlotCells ahead = logical;  // confirmed past the replay position
  ahead.slot_name = "ahead";
  ahead.confirmed_flush_lag_bytes = "-16";
  auto fams = EmitFor({SlotCells{}, logical, ahead});
  EXPECT_EQ(Value(fams, "pgrepl_slot_confirmed_flush_lag_bytes",
                  {{"slot", "orders_sub"}, {"slot_type", "logical"}}),
            5242880.0);
  EXPECT_EQ(
      Value(fams, "pgrepl_slot_confirmed_flush_lag_bytes", {{"slot", "ahead"}}),
      0.0);
  // A physical slot has no confirmed_flush_lsn: no sample, not 0.
  EXPECT_EQ(Count(fams, "pgrepl_slot_confirmed_flush_lag_bytes",
                  {{"slot", "replica1"}}),
            0u);
}

TEST(PgReplicationSlots, NothingWhenDownOrUnread) {
  InstanceSnapshot s;
  s.up = false;
  s.slots = Parse({SlotCells{}});
  MetricSink sink;
  PgReplicationSlotsCollector().Emit(s, sink);
  EXPECT_TRUE(sink.Take().empty());

  InstanceSnapshot unread;
  unread.up = true;
  PgReplicationSlotsCollector().Emit(unread, sink);
  EXPECT_TRUE(sink.Take().empty());

  EXPECT_TRUE(EmitFor({}).empty());  // no slots: no samples
}

TEST(NameStandbySlots, EachWalsenderGetsTheSlotItHolds) {
  SlotCells held;  // replica1, active_pid 4242
  SlotCells other;
  other.slot_name = "replica2";
  other.active_pid = "4243";
  SlotCells idle;
  idle.slot_name = "spare";
  idle.active = "f";
  idle.active_pid = std::nullopt;
  auto slots = Parse({held, other, idle});
  std::vector<StandbyRow> standbys(3);
  standbys[0].pid = 4243;
  standbys[1].pid = 4242;
  standbys[2].pid = 4300;  // streams without a slot
  standbys[2].slot = "stale";
  NameStandbySlots(slots, &standbys);
  EXPECT_EQ(standbys[0].slot, "replica2");
  EXPECT_EQ(standbys[1].slot, "replica1");
  EXPECT_EQ(standbys[2].slot, "");
}

TEST(PgReplicationSlots, AFailedReadKeepsTheLatestSlotNames) {
  // The previous poll saw walsender 4242 on slot replica1; this poll's
  // slot read times out: the standby keeps its slot label.
  InstanceSnapshot last;
  last.up = true;
  last.slots = Parse({SlotCells{}});
  InstanceSnapshot s;
  s.standbys = std::vector<StandbyRow>(1);
  (*s.standbys)[0].pid = 4242;
  FakeDatabase db(150000);
  db.TimeOut(ReplicationSlotsSql(150000));
  PollContext ctx;
  ctx.plan.last = &last;
  EXPECT_FALSE(PgReplicationSlotsCollector().Update(db.rows(), ctx, &s).ok());
  EXPECT_EQ((*s.standbys)[0].slot, "replica1");
}

TEST(PgReplicationSlots, ACarriedReadingNamesTheStandbysToo) {
  InstanceSnapshot last;
  last.slots = Parse({SlotCells{}});
  InstanceSnapshot s;
  s.standbys = std::vector<StandbyRow>(1);
  (*s.standbys)[0].pid = 4242;
  PgReplicationSlotsCollector().CarryForward(last, &s);
  EXPECT_EQ((*s.standbys)[0].slot, "replica1");
}

}  // namespace
}  // namespace pgrepl
