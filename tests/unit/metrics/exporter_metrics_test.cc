// Tests for exporter/exporter_metrics: /metrics of fixed snapshots against a
// checked-in golden file, plus behaviour checks on the same snapshots.
#include "exporter/metrics/exporter_metrics.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "exporter/collector/collector.h"
#include "exporter/collector/pg_stat_database_conflicts.h"
#include "exporter/metrics/text_format.h"
#include "exporter/model/snapshot.h"
#include "exporter/model/snapshot_store.h"
#include "exporter/pg/lsn.h"
#include "tests/unit/testing/metric_matchers.h"

#ifndef PGREPL_SOURCE_DIR
#error "tests/CMakeLists.txt must define PGREPL_SOURCE_DIR for unit_tests"
#endif

namespace pgrepl {
namespace {

constexpr const char kGoldenRelPath[] =
    "tests/unit/metrics/golden/metrics.prom";
constexpr const char kUpdateEnv[] = "PGREPL_UPDATE_GOLDEN";
constexpr const char kMasked[] = "<masked>";

using WallClock = InstanceSnapshot::WallClock;

// A fixed wall-clock instant (2024-05-01T12:00:00Z plus `ms` milliseconds),
// so timestamp gauges are the same on every run.
WallClock::time_point At(int64_t ms) {
  return WallClock::time_point(
      std::chrono::milliseconds(int64_t{1714564800} * 1000 + ms));
}

uint64_t Lsn(std::string_view text) { return ParseLsn(text).value(); }

// The primary's pg_current_wal_lsn() at its latest poll.
const uint64_t kPrimaryLsn = Lsn("1/6B374D48");

std::vector<CollectorRun> Runs(bool with_heartbeat) {
  std::vector<CollectorRun> runs = {
      {"pg_is_in_recovery", true, 0.0012},
      {"pg_stat_wal_receiver", true, 0.0021},
      {"pg_stat_replication", true, 0.0009},
      {"pg_replication_slots", true, 0.0011},
      {"replay_blockers", true, 0.0006},
      {"pg_stat_database_conflicts", true, 0.0004}};
  if (with_heartbeat) runs.push_back({"heartbeat", true, 0.0008});
  return runs;
}

SlotRow Slot(const std::string& name, const std::string& type, bool active,
             std::optional<std::string_view> restart_lsn,
             std::optional<std::string> wal_status,
             std::optional<int64_t> safe_wal_size) {
  SlotRow r;
  r.name = name;
  r.type = type;
  r.active = active;
  if (restart_lsn) r.retained_bytes = kPrimaryLsn - Lsn(*restart_lsn);
  r.wal_status = std::move(wal_status);
  r.safe_wal_size = safe_wal_size;
  return r;
}

// Cluster "main", instance pg-primary: up, serving two standbys (one
// streaming with lags, one in catchup whose lags are NULL), with active and
// inactive physical slots, a never-used physical slot (restart_lsn NULL) and
// a logical slot.
InstanceSnapshot Primary() {
  InstanceSnapshot s;
  s.cluster = "main";
  s.instance = "pg-primary";
  s.configured_primary = true;
  s.polled = true;
  s.up = true;
  s.polled_at = At(250);
  s.last_success = s.polled_at;
  s.poll_duration_seconds = 0.0075;
  s.errors = {1, 0, 0};  // one refused connect at start-up
  s.connects = 1;
  s.collectors = Runs(/*with_heartbeat=*/true);
  s.server_version_num = 150004;

  RecoveryInfo r;
  r.in_recovery = false;
  r.server_version_num = 150004;
  r.current_lsn = kPrimaryLsn;
  r.timeline = 2;
  s.recovery = r;

  StandbyRow streaming;
  streaming.application_name = "replica1";
  streaming.client_addr = "10.0.0.11";
  streaming.state = "streaming";
  streaming.sync_state = "sync";
  streaming.slot = "replica1_slot";
  streaming.current_lsn = kPrimaryLsn;
  streaming.sent_lsn = kPrimaryLsn;
  streaming.write_lsn = kPrimaryLsn - 512;
  streaming.flush_lsn = kPrimaryLsn - 1024;
  streaming.replay_lsn = kPrimaryLsn - 32768;
  streaming.write_lag = 0.000912;
  streaming.flush_lag = 0.001536;
  streaming.replay_lag = 0.25;
  streaming.reply_age = 0.412;

  // A fresh clone catching up: PostgreSQL reports NULL lags and no reply.
  StandbyRow catchup;
  catchup.application_name = "replica4";
  catchup.client_addr = "10.0.0.14";
  catchup.state = "catchup";
  catchup.sync_state = "async";
  catchup.slot = "replica4_slot";
  catchup.current_lsn = kPrimaryLsn;
  catchup.sent_lsn = Lsn("1/65000000");
  catchup.write_lsn = Lsn("1/64F00000");
  catchup.flush_lsn = Lsn("1/64F00000");
  catchup.replay_lsn = Lsn("1/64E00000");
  s.standbys = std::vector<StandbyRow>{streaming, catchup};

  s.slots = std::vector<SlotRow>{
      Slot("cdc_debezium", "logical", true, "1/6B200000", "reserved",
           1072193536),
      Slot("replica1_slot", "physical", true, "1/6B36CD48", "reserved",
           1073709056),
      Slot("replica2_slot", "physical", false, "1/69FFE000", "reserved",
           1053332152),
      Slot("replica3_slot", "physical", false, "1/40000000", "extended",
           348697272),
      Slot("replica4_slot", "physical", true, "1/64E00000", "reserved",
           968884224),
      Slot("spare_slot", "physical", false, std::nullopt, std::nullopt,
           std::nullopt),
  };
  // What the standbys' feedback and the decoder hold back.
  (*s.slots)[0].catalog_xmin_age = 52011;
  (*s.slots)[1].xmin_age = 1843;
  (*s.slots)[3].xmin_age = 912004;  // its standby is away

  ReplayBlockers none;  // a primary has no startup process
  none.max_standby_streaming_delay = 30;
  none.apply_delay = 0;
  none.hot_standby_feedback = true;
  s.readings["replay_blockers"] = none;
  s.readings["pg_stat_database_conflicts"] =
      std::vector<DatabaseConflicts>{{"payments", {0, 0, 0, 0, 0, 0}}};

  s.timeline = 2;
  s.role_changes = 0;
  s.timeline_changes = 0;
  return s;
}

// Cluster "main", instance pg-replica-1: streaming, a little behind, with
// lag history, heartbeat lag and one past receiver restart.
InstanceSnapshot StreamingReplica() {
  InstanceSnapshot s;
  s.cluster = "main";
  s.instance = "pg-replica-1";
  s.discovered = true;
  s.polled = true;
  s.up = true;
  s.polled_at = At(500);
  s.last_success = s.polled_at;
  s.poll_duration_seconds = 0.0068;
  s.errors = {0, 1, 1};
  s.connects = 2;
  s.collectors = Runs(/*with_heartbeat=*/true);
  s.server_version_num = 150004;

  RecoveryInfo r;
  r.in_recovery = true;
  r.server_version_num = 150004;
  r.receive_lsn = kPrimaryLsn - 16384;
  r.replay_lsn = kPrimaryLsn - 32768;
  r.replay_paused = false;
  s.recovery = r;

  WalReceiverInfo w;
  w.status = "streaming";
  w.pid = 4711;
  w.postmaster_start = 1714478400.125;
  w.received_tli = 2;
  w.flushed_lsn = kPrimaryLsn - 16384;
  w.written_lsn = kPrimaryLsn - 8192;
  w.last_msg_age = 0.83;
  w.upstream_host = "10.0.0.10";
  w.upstream_port = "5432";
  w.slot = "replica1_slot";
  s.wal_receiver = w;
  s.wal_receiver_read = true;
  s.identity = ReplicaIdentity{"replica1", "replica1_slot"};
  s.standbys = std::vector<StandbyRow>{};  // no cascading standbys
  s.slots = std::vector<SlotRow>{};

  s.replica_lag_seconds = 1.25;
  s.replica_lag_bytes = 32768;
  for (double v :
       {0.0, 0.0, 0.03125, 0.125, 0.375, 1.25, 2.5, 0.0625, 0.0, 1.25}) {
    s.replica_lag_histogram.Observe(v);
  }
  s.heartbeat_lag_seconds = 0.75;

  // Replay is the largest stage and nothing blocks it: replay_cpu.
  ReplayBlockers b;
  b.startup_wait_event_type = "Activity";
  b.startup_wait_event = "RecoveryWalStream";
  b.oldest_xact_age = 3.5;
  b.max_standby_streaming_delay = 30;
  b.apply_delay = 0;
  b.hot_standby_feedback = true;
  s.readings["replay_blockers"] = b;
  s.readings["pg_stat_database_conflicts"] = std::vector<DatabaseConflicts>{
      {"payments", {0, 1, 4, 0, 0, std::nullopt}},
      {"postgres", {0, 0, 0, 0, 0, std::nullopt}}};

  s.timeline = 2;
  s.role_changes = 0;
  s.timeline_changes = 1;  // followed the promotion to timeline 2
  s.wal_receiver_restarts = 1;
  return s;
}

// Cluster "main", instance pg-replica-2: answers and is in recovery, but no
// WAL receiver runs (the stream is broken); lag grows since it was last
// seen healthy.
InstanceSnapshot BrokenStreamReplica() {
  InstanceSnapshot s;
  s.cluster = "main";
  s.instance = "pg-replica-2";
  s.discovered = true;
  s.polled = true;
  s.up = true;
  s.polled_at = At(750);
  s.last_success = s.polled_at;
  s.poll_duration_seconds = 0.0054;
  s.connects = 1;
  s.collectors = Runs(/*with_heartbeat=*/true);
  s.server_version_num = 150003;

  RecoveryInfo r;
  r.in_recovery = true;
  r.server_version_num = 150003;
  r.receive_lsn = Lsn("1/6A000000");
  r.replay_lsn = Lsn("1/6A000000");
  r.replay_paused = false;
  s.recovery = r;

  s.wal_receiver = std::nullopt;
  s.wal_receiver_read = true;
  s.identity = ReplicaIdentity{"replica2", "replica2_slot"};
  s.standbys = std::vector<StandbyRow>{};
  s.slots = std::vector<SlotRow>{};

  s.replica_lag_seconds = 42.5;
  s.replica_lag_bytes = static_cast<double>(kPrimaryLsn - Lsn("1/6A000000"));
  for (double v : {0.0, 0.0625, 5.5, 12.5, 22.5, 32.5, 42.5}) {
    s.replica_lag_histogram.Observe(v);
  }
  s.heartbeat_lag_seconds = 45.5;

  // The stream is down: the lag is WAL that has not arrived.
  ReplayBlockers b;
  b.max_standby_streaming_delay = 30;
  b.apply_delay = 0;
  b.hot_standby_feedback = true;
  s.readings["replay_blockers"] = b;
  s.readings["pg_stat_database_conflicts"] =
      std::vector<DatabaseConflicts>{{"payments", {0, 0, 0, 0, 0, 0}}};

  s.timeline = 2;  // kept from the last receiver reading
  s.role_changes = 2;
  s.timeline_changes = 1;
  s.wal_receiver_restarts = 3;
  return s;
}

// Cluster "main", instance pg-replica-3: down. Role and receiver are
// unread; the identity, timeline and counters stay from earlier polls.
InstanceSnapshot DownReplica() {
  InstanceSnapshot s;
  s.cluster = "main";
  s.instance = "pg-replica-3";
  s.polled = true;
  s.up = false;
  s.last_error =
      "connect: connection to server at \"10.0.0.13\", port 5432 failed: "
      "Connection refused";
  s.polled_at = At(1000);
  s.last_success = At(-89000);
  s.poll_duration_seconds = 0.0031;
  s.errors = {5, 1, 2};
  s.connects = 2;
  // Connecting failed, so no collector ran.
  s.identity = ReplicaIdentity{"replica3", "replica3_slot"};
  for (double v : {0.0, 0.0, 0.5}) s.replica_lag_histogram.Observe(v);
  s.timeline = 2;
  s.role_changes = 0;
  s.timeline_changes = 1;
  s.wal_receiver_restarts = 1;
  return s;
}

// Cluster "reporting", instance pg-reporting-1: configured, never polled.
InstanceSnapshot NeverPolled() {
  InstanceSnapshot s;
  s.cluster = "reporting";
  s.instance = "pg-reporting-1";
  s.configured_primary = true;
  return s;
}

std::vector<InstanceSnapshot> AllSnapshots() {
  return {Primary(), StreamingReplica(), BrokenStreamReplica(), DownReplica(),
          NeverPolled()};
}

// The value of a sample line: the text after its last space (the exposition
// has no timestamps here, and no value contains a space).
std::string MaskValue(const std::string& line) {
  return line.substr(0, line.rfind(' ') + 1) + kMasked;
}

// Replaces the value of label `name` with the mask token.
std::string MaskLabel(std::string line, const std::string& name) {
  const std::string key = name + "=\"";
  size_t at = line.find(key);
  if (at == std::string::npos) return line;
  size_t begin = at + key.size();
  size_t end = line.find('"', begin);
  if (end == std::string::npos) return line;
  return line.replace(begin, end - begin, kMasked);
}

// Masks what depends on the machine or the clock, keeping every line so a
// rename or a vanished series still shows:
//   - process_* samples: the value;
//   - pgrepl_build_info: the version, revision and libpq_version labels;
//   - pgrepl_last_poll_success_age_seconds: the value (computed from now);
//   - pgrepl_config_last_reload_success_timestamp_seconds: the value (the
//     store's construction time).
std::string Mask(const std::string& text) {
  std::istringstream in(text);
  std::string out, line;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] != '#') {
      const std::string name = line.substr(0, line.find_first_of("{ "));
      if (name.rfind("process_", 0) == 0 ||
          name == "pgrepl_last_poll_success_age_seconds" ||
          name == "pgrepl_config_last_reload_success_timestamp_seconds") {
        line = MaskValue(line);
      } else if (name == "pgrepl_build_info") {
        for (const char* label : {"version", "revision", "libpq_version"}) {
          line = MaskLabel(line, label);
        }
      }
    }
    out += line;
    out += '\n';
  }
  return out;
}

std::string Render(const std::vector<prometheus::MetricFamily>& families) {
  std::string text;
  EXPECT_TRUE(AppendTextFormat(families, &text));
  return text;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// A unified diff (3 lines of context) of `expected` against `actual`, from
// a longest-common-subsequence table. Golden files are a few hundred lines.
std::string UnifiedDiff(const std::vector<std::string>& expected,
                        const std::vector<std::string>& actual) {
  const size_t n = expected.size(), m = actual.size();
  std::vector<std::vector<uint32_t>> lcs(n + 1, std::vector<uint32_t>(m + 1));
  for (size_t i = n; i-- > 0;) {
    for (size_t j = m; j-- > 0;) {
      lcs[i][j] = expected[i] == actual[j]
                      ? lcs[i + 1][j + 1] + 1
                      : std::max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  struct Op {
    char kind;     // ' ', '-' or '+'
    size_t old_i;  // position in `expected` (next line for '+')
    size_t new_j;  // position in `actual` (next line for '-')
  };
  std::vector<Op> ops;
  size_t i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && expected[i] == actual[j]) {
      ops.push_back({' ', i++, j++});
    } else if (i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1])) {
      ops.push_back({'-', i++, j});
    } else {
      ops.push_back({'+', i, j++});
    }
  }
  constexpr size_t kContext = 3;
  std::string out = "--- expected (golden file)\n+++ actual\n";
  size_t k = 0;
  while (k < ops.size()) {
    while (k < ops.size() && ops[k].kind == ' ') ++k;
    if (k == ops.size()) break;
    size_t begin = k >= kContext ? k - kContext : 0;
    size_t end = k;  // one past the last change of the hunk
    for (size_t t = k; t < ops.size(); ++t) {
      if (ops[t].kind != ' ') {
        end = t + 1;
      } else if (t - end >= 2 * kContext) {
        break;
      }
    }
    end = std::min(ops.size(), end + kContext);
    size_t old_count = 0, new_count = 0;
    for (size_t t = begin; t < end; ++t) {
      if (ops[t].kind != '+') ++old_count;
      if (ops[t].kind != '-') ++new_count;
    }
    out += "@@ -" + std::to_string(ops[begin].old_i + 1) + "," +
           std::to_string(old_count) + " +" +
           std::to_string(ops[begin].new_j + 1) + "," +
           std::to_string(new_count) + " @@\n";
    for (size_t t = begin; t < end; ++t) {
      const Op& op = ops[t];
      out += op.kind;
      out += op.kind == '+' ? actual[op.new_j] : expected[op.old_i];
      out += '\n';
    }
    k = end;
  }
  return out;
}

// "line N: expected X, actual Y" for the first line that differs.
std::string FirstDifference(const std::vector<std::string>& expected,
                            const std::vector<std::string>& actual) {
  size_t i = 0;
  while (i < expected.size() && i < actual.size() && expected[i] == actual[i]) {
    ++i;
  }
  auto at = [](const std::vector<std::string>& v, size_t k) {
    return k < v.size() ? "'" + v[k] + "'" : std::string("<end of file>");
  };
  return "first difference at line " + std::to_string(i + 1) +
         ":\n  expected: " + at(expected, i) + "\n  actual:   " + at(actual, i);
}

bool UpdateRequested() {
  const char* v = std::getenv(kUpdateEnv);
  return v != nullptr && *v != '\0' && std::string_view(v) != "0";
}

class ExporterMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const auto& s : AllSnapshots()) {
      store_.Publish(std::make_shared<const InstanceSnapshot>(s));
    }
  }

  std::vector<prometheus::MetricFamily> Collect() const {
    return metrics_.Collect();
  }

  SnapshotStore store_;
  const std::vector<std::unique_ptr<Collector>> collectors_ =
      DefaultCollectors({.heartbeat = true, .heartbeat_id = "golden"});
  const ExporterMetrics metrics_{&store_, &collectors_};
};

TEST_F(ExporterMetricsTest, MatchesGoldenFile) {
  const std::string actual = Mask(Render(Collect()));
  const std::filesystem::path path =
      std::filesystem::path(PGREPL_SOURCE_DIR) / kGoldenRelPath;
  const std::string how_to_update =
      std::string("To accept the new output, run\n  ") + kUpdateEnv +
      "=1 ./build/tests/unit_tests --gtest_filter='ExporterMetrics*'\n"
      "and review the change to " +
      kGoldenRelPath + " with git diff.";

  if (UpdateRequested()) {
    std::filesystem::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << actual;
    ASSERT_TRUE(out.good()) << "cannot write " << kGoldenRelPath;
    std::cout << "[ UPDATED  ] " << kGoldenRelPath << "\n";
    return;
  }

  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in.good()) << kGoldenRelPath << " is missing.\n" << how_to_update;
  std::ostringstream golden;
  golden << in.rdbuf();
  if (golden.str() == actual) return;
  const auto expected_lines = Lines(golden.str());
  const auto actual_lines = Lines(actual);
  ADD_FAILURE() << "/metrics differs from " << kGoldenRelPath << "\n"
                << FirstDifference(expected_lines, actual_lines) << "\n"
                << UnifiedDiff(expected_lines, actual_lines) << how_to_update;
}

TEST_F(ExporterMetricsTest, OutputIsStableAcrossCollects) {
  EXPECT_EQ(Mask(Render(Collect())), Mask(Render(Collect())));
}

TEST_F(ExporterMetricsTest, MaskKeepsLinesAndHidesOnlyVariableParts) {
  const std::string text = Mask(Render(Collect()));
  EXPECT_NE(text.find("pgrepl_build_info{version=\"<masked>\",revision=\""
                      "<masked>\",libpq_version=\"<masked>\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("pgrepl_last_poll_success_age_seconds{cluster=\"main\","
                      "instance=\"pg-replica-3\"} <masked>\n"),
            std::string::npos);
  EXPECT_NE(text.find("\nprocess_open_fds <masked>\n"), std::string::npos);
  // Timestamps come from the snapshots, not the clock: never masked.
  EXPECT_NE(text.find("pgrepl_last_poll_success_timestamp_seconds{cluster=\""
                      "main\",instance=\"pg-replica-3\"} 1714564711\n"),
            std::string::npos);
}

TEST_F(ExporterMetricsTest, BrokenStreamReplicaIsDownButShowsGrowingLag) {
  const auto fams = Collect();
  const Labels me = {{"cluster", "main"}, {"instance", "pg-replica-2"}};
  EXPECT_EQ(Value(fams, "pgrepl_up", me), 1);
  EXPECT_EQ(Value(fams, "pgrepl_wal_receiver_up", me), 0);
  EXPECT_EQ(CounterValue(fams, "pgrepl_wal_receiver_restarts_total", me), 3);
  EXPECT_EQ(Count(fams, "pgrepl_wal_receiver_info", me), 0u);
  EXPECT_EQ(Count(fams, "pgrepl_wal_receiver_last_message_age_seconds", me),
            0u);
  auto lag = Value(fams, "pgrepl_replica_lag_seconds", me);
  ASSERT_TRUE(lag.has_value());
  EXPECT_GT(*lag, 0);  // never a reassuring 0 while the stream is broken
  EXPECT_EQ(*lag, 42.5);
  EXPECT_EQ(Value(fams, "pgrepl_timeline_id", me), 2);
  // Not counted as streaming by the cluster view.
  EXPECT_EQ(
      Value(fams, "pgrepl_cluster_replicas_streaming", {{"cluster", "main"}}),
      1);
}

TEST_F(ExporterMetricsTest, DownInstanceHasNoRoleDerivedSeries) {
  const auto fams = Collect();
  const Labels me = {{"cluster", "main"}, {"instance", "pg-replica-3"}};
  EXPECT_EQ(Value(fams, "pgrepl_up", me), 0);
  for (const char* name :
       {"pgrepl_in_recovery", "pgrepl_role", "pgrepl_server_version_num",
        "pgrepl_replica_receive_lsn_bytes", "pgrepl_replica_replay_lsn_bytes",
        "pgrepl_wal_receiver_up", "pgrepl_wal_receiver_restarts_total",
        "pgrepl_replica_lag_seconds", "pgrepl_replica_lag_bytes",
        "pgrepl_replica_lag_poll_seconds", "pgrepl_heartbeat_lag_seconds",
        "pgrepl_collector_success"}) {
    EXPECT_EQ(Count(fams, name, me), 0u) << name;
  }
  EXPECT_EQ(CounterValue(fams, "pgrepl_poll_errors_total",
                         {{"instance", "pg-replica-3"}, {"kind", "connect"}}),
            5);
  EXPECT_EQ(CounterValue(fams, "pgrepl_poll_errors_total",
                         {{"instance", "pg-replica-3"}, {"kind", "timeout"}}),
            2);
  // Kept while down, so a restarted replica's timeline is comparable.
  EXPECT_EQ(Value(fams, "pgrepl_timeline_id", me), 2);
  // Still an expected standby of the primary, and not connected.
  EXPECT_EQ(Value(fams, "pgrepl_standby_connected",
                  {{"instance", "pg-primary"}, {"standby", "replica3"}}),
            0);
}

TEST_F(ExporterMetricsTest, NullStandbyLagsAreUnknownNotZero) {
  const auto fams = Collect();
  for (const char* stage : {"write", "flush", "replay"}) {
    auto v = Value(fams, "pgrepl_standby_lag_seconds",
                   {{"standby", "replica4"}, {"stage", stage}});
    ASSERT_TRUE(v.has_value()) << stage;
    EXPECT_TRUE(std::isnan(*v)) << stage << " is " << *v;
  }
  EXPECT_EQ(Count(fams, "pgrepl_standby_reply_age_seconds",
                  {{"standby", "replica4"}}),
            0u);
  EXPECT_EQ(Value(fams, "pgrepl_standby_lag_seconds",
                  {{"standby", "replica1"}, {"stage", "replay"}}),
            0.25);
}

TEST_F(ExporterMetricsTest, NeverPolledInstanceShowsOnlyPollerSeries) {
  const auto fams = Collect();
  const Labels me = {{"cluster", "reporting"}, {"instance", "pg-reporting-1"}};
  EXPECT_EQ(Value(fams, "pgrepl_up", me), 0);
  EXPECT_EQ(Count(fams, "pgrepl_poll_duration_seconds", me), 0u);
  EXPECT_EQ(Count(fams, "pgrepl_last_poll_success_timestamp_seconds", me), 0u);
  EXPECT_EQ(Count(fams, "pgrepl_timeline_id", me), 0u);
  EXPECT_EQ(Value(fams, "pgrepl_cluster_instances", {{"cluster", "reporting"}}),
            1);
  EXPECT_EQ(Value(fams, "pgrepl_cluster_primaries", {{"cluster", "reporting"}}),
            0);
}

TEST_F(ExporterMetricsTest, RemovedInstanceLosesItsSeriesOnNextCollect) {
  const Labels me = {{"instance", "pg-replica-1"}};
  auto before = Collect();
  ASSERT_GT(Count(before, "pgrepl_up", me), 0u);
  EXPECT_EQ(Value(before, "pgrepl_cluster_instances", {{"cluster", "main"}}),
            4);

  store_.Remove("main", "pg-replica-1");
  auto after = Collect();
  for (const auto& f : after) {
    EXPECT_EQ(Count(after, f.name, me), 0u) << f.name;
  }
  EXPECT_EQ(Value(after, "pgrepl_cluster_instances", {{"cluster", "main"}}), 3);
  EXPECT_EQ(
      Value(after, "pgrepl_cluster_replicas_streaming", {{"cluster", "main"}}),
      0);
  EXPECT_NE(Render(before), Render(after));
}

TEST_F(ExporterMetricsTest, ReloadOutcomeKeepsLastSuccessTimeThroughAFailure) {
  auto fams = Collect();
  EXPECT_EQ(Value(fams, "pgrepl_config_last_reload_successful", {}), 1);
  EXPECT_EQ(CounterValue(fams, "pgrepl_config_reloads_total",
                         {{"result", "success"}}),
            0);

  const auto ok_at = InstanceSnapshot::WallClock::time_point(
      std::chrono::seconds(1'800'000'000));
  store_.RecordReload(true, ok_at);
  store_.RecordReload(false, ok_at + std::chrono::seconds(90));
  fams = Collect();
  EXPECT_EQ(Value(fams, "pgrepl_config_last_reload_successful", {}), 0);
  EXPECT_EQ(
      Value(fams, "pgrepl_config_last_reload_success_timestamp_seconds", {}),
      1'800'000'000);
  EXPECT_EQ(CounterValue(fams, "pgrepl_config_reloads_total",
                         {{"result", "success"}}),
            1);
  EXPECT_EQ(CounterValue(fams, "pgrepl_config_reloads_total",
                         {{"result", "failure"}}),
            1);

  store_.RecordReload(true, ok_at + std::chrono::seconds(120));
  EXPECT_EQ(Value(Collect(), "pgrepl_config_last_reload_successful", {}), 1);
}

TEST_F(ExporterMetricsTest, SidecarPrimaryReachAndServingWithoutPrimary) {
  const Labels me = {{"instance", "pg-replica-1"}};
  EXPECT_EQ(Count(Collect(), "pgrepl_primary_reachable"), 0u)
      << "only with --sidecar.primary";
  InstanceSnapshot s = StreamingReplica();
  s.primary_reachable = false;
  s.serving_without_primary = true;
  store_.Publish(std::make_shared<const InstanceSnapshot>(s));
  auto fams = Collect();
  EXPECT_EQ(Value(fams, "pgrepl_primary_reachable", me), 0);
  EXPECT_EQ(Value(fams, "pgrepl_replica_serving_without_primary", me), 1);
  EXPECT_EQ(Count(fams, "pgrepl_replica_serving_without_primary"), 1u);
}

}  // namespace
}  // namespace pgrepl
