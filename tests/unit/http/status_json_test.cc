// Tests for exporter/status_json: the /status schema, nulls, escaping.
#include "exporter/http/status_json.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace pgrepl {
namespace {

using WallClock = InstanceSnapshot::WallClock;

StatusReport Report() {
  StatusReport r;
  r.generated_at = WallClock::time_point(std::chrono::seconds(1700000000));
  r.last_poll = r.generated_at;
  ClusterStatus c;
  c.name = "it";
  c.primaries = 1;
  InstanceStatus p;
  p.name = "primary";
  p.role = Role::kPrimary;
  p.configured_role = Role::kPrimary;
  p.up = true;
  p.last_poll = r.generated_at;
  SlotRow slot;
  slot.name = "s1";
  slot.type = "physical";
  slot.active = false;
  slot.wal_status = "lost";
  p.slots.push_back(slot);
  p.primary_check = {true, "it/primary: writable primary"};
  c.instances.push_back(p);
  InstanceStatus r1;
  r1.name = "replica1";
  r1.role = Role::kReplica;
  r1.up = true;
  r1.lag_seconds = 0.25;
  r1.lag_bytes = 4096;
  r1.lag_band = LagBand::kGood;
  r1.wal_receiver = WalReceiverInfo{};
  r1.wal_receiver->status = "streaming";
  c.instances.push_back(r1);
  InstanceStatus down;
  down.name = "bad\xff<name>";
  down.role = Role::kUnknown;
  down.last_error = "connect: \"refused\"";
  c.instances.push_back(down);
  r.clusters.push_back(c);
  return r;
}

TEST(StatusJson, Schema) {
  auto j = nlohmann::json::parse(RenderStatusJson(Report()));
  EXPECT_EQ(j["version"], 1);
  EXPECT_EQ(j["generated_at"], "2023-11-14T22:13:20.000Z");
  EXPECT_EQ(j["last_poll"], "2023-11-14T22:13:20.000Z");
  EXPECT_EQ(j["replica_max_lag"], "5s");
  ASSERT_EQ(j["clusters"].size(), 1u);
  const auto& c = j["clusters"][0];
  EXPECT_EQ(c["name"], "it");
  EXPECT_EQ(c["primaries"], 1);
  ASSERT_EQ(c["instances"].size(), 3u);
  const auto& p = c["instances"][0];
  for (const char* key :
       {"name", "role", "configured_role", "discovered", "up", "lag_seconds",
        "lag_bytes", "lag_state", "wal_receiver", "replay_paused",
        "server_version_num", "timeline", "last_poll", "last_success",
        "aliases", "last_error", "slots", "standbys", "health"}) {
    EXPECT_TRUE(p.contains(key)) << key;
  }
  EXPECT_EQ(p["role"], "primary");
  EXPECT_EQ(p["configured_role"], "primary") << "a name, not a number";
  EXPECT_EQ(p["aliases"], nlohmann::json::array());
  EXPECT_TRUE(p["lag_seconds"].is_null());
  EXPECT_TRUE(p["wal_receiver"].is_null());
  EXPECT_EQ(p["slots"][0]["wal_status"], "lost");
  EXPECT_EQ(p["slots"][0]["active"], false);
  EXPECT_TRUE(p["slots"][0]["retained_bytes"].is_null());
  EXPECT_EQ(p["health"]["primary"]["ok"], true);
  EXPECT_EQ(p["health"]["primary"]["reason"], "it/primary: writable primary");
  const auto& r1 = c["instances"][1];
  EXPECT_DOUBLE_EQ(r1["lag_seconds"].get<double>(), 0.25);
  EXPECT_DOUBLE_EQ(r1["lag_bytes"].get<double>(), 4096);
  EXPECT_EQ(r1["lag_state"], "ok");
  EXPECT_EQ(r1["wal_receiver"]["status"], "streaming");
  EXPECT_TRUE(r1["last_poll"].is_null());
}

TEST(StatusJson, InvalidUtf8IsReplacedNotThrown) {
  std::string text;
  ASSERT_NO_THROW(text = RenderStatusJson(Report()));
  auto j = nlohmann::json::parse(text);
  EXPECT_NE(j["clusters"][0]["instances"][2]["name"].get<std::string>().find(
                "<name>"),
            std::string::npos);
  EXPECT_EQ(j["clusters"][0]["instances"][2]["last_error"],
            "connect: \"refused\"");
}

TEST(StatusJson, VersionComesFirst) {
  std::string text = RenderStatusJson(Report());
  EXPECT_LT(text.find("\"version\""), text.find("\"clusters\""));
}

}  // namespace
}  // namespace pgrepl
