// Tests for exporter/collector/pg_stat_wal with canned rows: PostgreSQL 14+
// only, absent (not 0) before.
#include "exporter/collector/pg_stat_wal.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "exporter/base/metric_sink.h"
#include "exporter/model/snapshot.h"
#include "tests/unit/testing/canned_rows.h"
#include "tests/unit/testing/fake_session.h"
#include "tests/unit/testing/metric_matchers.h"

namespace pgrepl {
namespace {

using canned::WalStatsCells;
using canned::WalStatsRows;

std::vector<prometheus::MetricFamily> EmitFor(int version,
                                              const WalStatsCells& cells) {
  InstanceSnapshot s;
  s.up = true;
  FakeDatabase db(version);
  db.Answer(WalStatsSql(), WalStatsRows(cells));
  PgStatWalCollector c;
  EXPECT_TRUE(c.Update(db.rows(), PollContext{}, &s).ok());
  EXPECT_EQ(db.asked(), c.Statements(StatementPlan{version, true}));
  MetricSink sink(LabelPairs{{"cluster", "c"}, {"instance", "primary"}});
  c.Emit(s, sink);
  return sink.Take();
}

TEST(PgStatWal, Pg14To17Counters) {
  for (int v : {140000, 150018, 160004, 170002}) {
    auto fams = EmitFor(v, WalStatsCells{});
    EXPECT_EQ(CounterValue(fams, "pgrepl_wal_records_total"), 120418.0) << v;
    EXPECT_EQ(CounterValue(fams, "pgrepl_wal_fpi_total"), 2811.0);
    EXPECT_EQ(CounterValue(fams, "pgrepl_wal_bytes_total"), 40213376.0);
    EXPECT_EQ(CounterValue(fams, "pgrepl_wal_buffers_full_total"), 7.0);
  }
}

TEST(PgStatWal, Pg12And13HaveNoStatementAndNoSeries) {
  for (int v : {120000, 130012, 139999}) {
    auto fams = EmitFor(v, WalStatsCells{});
    EXPECT_TRUE(fams.empty()) << v;
  }
}

TEST(PgStatWal, WalBytesIsNumericAndMayBeLarge) {
  WalStatsCells c;
  c.wal_bytes = "18446744073709551616";  // past 2^64: numeric, not bigint
  auto fams = EmitFor(150000, c);
  EXPECT_EQ(CounterValue(fams, "pgrepl_wal_bytes_total"),
            18446744073709551616.0);
}

TEST(PgStatWal, NullCellIsAbsentNotZero) {
  WalStatsCells c;
  c.wal_buffers_full = std::nullopt;
  auto fams = EmitFor(150000, c);
  EXPECT_EQ(Count(fams, "pgrepl_wal_buffers_full_total"), 0u);
  EXPECT_EQ(Count(fams, "pgrepl_wal_records_total"), 1u);
}

TEST(PgStatWal, NothingWhenDown) {
  InstanceSnapshot s;
  FakeDatabase db(150000);
  db.Answer(WalStatsSql(), WalStatsRows(WalStatsCells{}));
  PgStatWalCollector c;
  ASSERT_TRUE(c.Update(db.rows(), PollContext{}, &s).ok());
  s.up = false;
  MetricSink sink;
  c.Emit(s, sink);
  EXPECT_TRUE(sink.Take().empty());
}

}  // namespace
}  // namespace pgrepl
