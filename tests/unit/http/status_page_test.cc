// Tests for exporter/status_page: structure, escaping, no external assets.
#include "exporter/http/status_page.h"

#include <gtest/gtest.h>

namespace pgrepl {
namespace {

using WallClock = InstanceSnapshot::WallClock;

InstanceStatus Instance(const std::string& name, const std::string& role) {
  InstanceStatus i;
  i.name = name;
  i.role = role == "primary"   ? Role::kPrimary
           : role == "replica" ? Role::kReplica
                               : Role::kUnknown;
  i.configured_role = role == "primary" ? Role::kPrimary : Role::kReplica;
  if (i.role == Role::kReplica) i.replica_state = ReplicaState::kStreaming;
  i.up = role != "unknown";
  return i;
}

StatusReport Report() {
  StatusReport r;
  r.generated_at = WallClock::time_point(std::chrono::seconds(1700000000));
  r.last_poll = r.generated_at;
  ClusterStatus c;
  c.name = "it";
  c.primaries = 1;
  c.instances.push_back(Instance("primary", "primary"));
  InstanceStatus r1 = Instance("replica1", "replica");
  r1.lag_seconds = 0.5;
  r1.lag_bytes = 1024;
  r1.lag_band = LagBand::kWarn;
  r1.lag_fraction = 0.9;
  r1.wal_receiver = WalReceiverInfo{};
  r1.wal_receiver->status = "streaming";
  c.instances.push_back(r1);
  c.instances.push_back(Instance("replica2", "replica"));
  r.clusters.push_back(c);
  return r;
}

TEST(HtmlEscape, EscapesEverySpecialCharacter) {
  EXPECT_EQ(HtmlEscape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  EXPECT_EQ(HtmlEscape("plain"), "plain");
}

TEST(StatusPage, MergedInstanceNamesItsAliases) {
  StatusReport r = Report();
  r.clusters[0].instances[0].aliases = {"postgres-primary", "<b>"};
  std::string html = RenderStatusPage(r, "/metrics");
  EXPECT_NE(html.find("also reached as postgres-primary, &lt;b&gt;"),
            std::string::npos);
  EXPECT_EQ(RenderStatusPage(Report(), "/metrics").find("also reached as"),
            std::string::npos)
      << "nothing without aliases";
}

TEST(StatusPage, EveryInstanceWithItsRole) {
  std::string html = RenderStatusPage(Report(), "/metrics");
  EXPECT_NE(html.find("data-instance=\"primary\" data-role=\"primary\""),
            std::string::npos);
  EXPECT_NE(html.find("data-instance=\"replica1\" data-role=\"replica\""),
            std::string::npos);
  EXPECT_NE(html.find("data-instance=\"replica2\" data-role=\"replica\""),
            std::string::npos);
  EXPECT_NE(html.find("data-lag-state=\"warn\""), std::string::npos);
  EXPECT_NE(html.find("#e0a100"), std::string::npos);  // amber bar
  EXPECT_NE(html.find("<svg class=\"topology\""), std::string::npos);
}

TEST(StatusPage, SelfContainedAndRefreshing) {
  std::string html = RenderStatusPage(Report(), "/custom-metrics");
  EXPECT_NE(html.find("<meta http-equiv=\"refresh\" content=\"5\">"),
            std::string::npos);
  EXPECT_NE(html.find("href=\"/custom-metrics\""), std::string::npos);
  EXPECT_NE(html.find("href=\"/status\""), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_NE(html.find("2023-11-14T22:13:20.000Z"), std::string::npos);
}

TEST(StatusPage, EscapesNamesAndErrors) {
  StatusReport r = Report();
  r.clusters[0].name = "<c>";
  InstanceStatus evil = Instance("<img src=x onerror=alert(1)>", "unknown");
  evil.last_error = "connect: <b>\"boom\"</b>";
  SlotRow slot;
  slot.name = "<slot>";
  slot.wal_status = "<lost>";
  evil.slots.push_back(slot);
  evil.replica_check.reason = "x\" onmouseover=\"alert(1)";
  r.clusters[0].instances.push_back(evil);
  std::string html = RenderStatusPage(r, "/metrics");
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(html.find("<b>\"boom"), std::string::npos);
  EXPECT_EQ(html.find("<slot>"), std::string::npos);
  EXPECT_EQ(html.find("<lost>"), std::string::npos);
  EXPECT_EQ(html.find("<c>"), std::string::npos);
  EXPECT_EQ(html.find("\" onmouseover"), std::string::npos);
  EXPECT_NE(html.find("&lt;img src=x onerror=alert(1)&gt;"), std::string::npos);
}

TEST(StatusPage, WarnsWithoutExactlyOnePrimary) {
  StatusReport r = Report();
  r.clusters[0].primaries = 2;
  EXPECT_NE(RenderStatusPage(r, "/metrics").find("split brain"),
            std::string::npos);
  r.clusters[0].primaries = 0;
  EXPECT_NE(RenderStatusPage(r, "/metrics").find("no primary"),
            std::string::npos);
}

TEST(StatusPage, ManyReplicasWrapIntoRows) {
  StatusReport r = Report();
  for (int i = 3; i <= 13; ++i) {
    r.clusters[0].instances.push_back(
        Instance("replica" + std::to_string(i), "replica"));
  }
  std::string html = RenderStatusPage(r, "/metrics");
  size_t nodes = 0;
  for (size_t at = 0;
       (at = html.find("<g class=\"node\"", at)) != std::string::npos; ++at) {
    ++nodes;
  }
  EXPECT_EQ(nodes, 14u);
  EXPECT_NE(html.find("<svg class=\"topology\" width=\"1220\" height=\"430\""),
            std::string::npos);  // 6 columns, 3 rows of replicas
}

TEST(StatusPage, EmptyReport) {
  StatusReport r;
  std::string html = RenderStatusPage(r, "/metrics");
  EXPECT_NE(html.find("No instances yet"), std::string::npos);
  EXPECT_NE(html.find("none yet"), std::string::npos);
}

}  // namespace
}  // namespace pgrepl
