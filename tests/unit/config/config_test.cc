// Tests for exporter/config/config: Validate and ValidHeartbeatId.
#include "exporter/config/config.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace pgrepl {
namespace {

using std::chrono::milliseconds;

// One cluster "a" with one primary: valid.
Config OneTarget() {
  Config c;
  ClusterConfig cluster;
  cluster.name = "a";
  cluster.instances.push_back({"p:5432", "host=p port=5432", true});
  c.clusters.push_back(cluster);
  return c;
}

// Validate's message for `config`; "" when it is valid.
std::string Problem(const Config& config) {
  Status s = Validate(config);
  if (!s.ok()) EXPECT_EQ(s.kind(), Status::Kind::kInvalid);
  return s.ok() ? "" : s.message();
}

// Values libpq rejects only when it connects are rejected at startup, with
// the cluster, the instance and the keyword named, never the password.
TEST(Validate, RejectsConninfoValuesLibpqWouldRefuse) {
  struct Case {
    std::string conninfo;
    std::string keyword;
  };
  for (const Case& c : std::vector<Case>{
           {"host=p port=notaport password=pw-S3cret", "port"},
           {"host=p,q port=5432,0 password=pw-S3cret", "port"},
           {"host=p connect_timeout=x password=pw-S3cret", "connect_timeout"},
           {"host=p sslmode=on password=pw-S3cret", "sslmode"},
           {"host=p target_session_attrs=master password=pw-S3cret",
            "target_session_attrs"},
           {"host=p nosuchkey=1 password=pw-S3cret", "nosuchkey"},
       }) {
    Config config = OneTarget();
    config.clusters[0].instances[0].conninfo = c.conninfo;
    std::string problem = Problem(config);
    EXPECT_TRUE(problem.starts_with("cluster \"a\": instance \"p:5432\": "))
        << problem;
    EXPECT_NE(problem.find(c.keyword), std::string::npos) << problem;
    EXPECT_EQ(problem.find("pw-S3cret"), std::string::npos) << problem;
  }
  Config discovery = OneTarget();
  discovery.clusters[0].discovery.host = "replicas";
  discovery.clusters[0].discovery.base_conninfo = "sslmode=sometimes";
  EXPECT_NE(Problem(discovery).find("discovery: bad sslmode"),
            std::string::npos)
      << Problem(discovery);
}

TEST(ValidHeartbeatId, AcceptsNamesOfTheAllowedCharacters) {
  for (const std::string& id :
       {std::string("host-1.example_x"), std::string("a"), std::string("A9"),
        std::string("exporter-01"), std::string("..."), std::string("-_."),
        std::string(63, 'x')}) {
    EXPECT_TRUE(ValidHeartbeatId(id)) << id;
  }
}

TEST(ValidHeartbeatId, RejectsUnsafeOrOversizedNames) {
  for (const std::string& id :
       {std::string(""), std::string("a'b"), std::string("a b"),
        std::string(64, 'x'), std::string("a\"b"), std::string("a;b"),
        std::string("a\\b"), std::string("a/b"), std::string("a\nb"),
        std::string("a\tb"), std::string("x'); DROP TABLE t; --"),
        std::string("caf\xc3\xa9"), std::string("a\0b", 3)}) {
    EXPECT_FALSE(ValidHeartbeatId(id)) << id;
  }
}

TEST(Validate, OneTargetWithDefaultsIsValid) {
  EXPECT_EQ(Problem(OneTarget()), "");
  Config discovery_only = OneTarget();
  discovery_only.clusters[0].instances.clear();
  discovery_only.clusters[0].discovery.host = "replicas.svc";
  EXPECT_EQ(Problem(discovery_only), "");
}

TEST(Validate, Targets) {
  EXPECT_EQ(Problem(Config{}),
            "no targets: give --primary/--replica, --config.file or DB_HOST");
  Config twice = OneTarget();
  twice.clusters.push_back(twice.clusters[0]);
  EXPECT_EQ(Problem(twice), "cluster \"a\" is defined twice");
  Config empty = OneTarget();
  empty.clusters[0].instances.clear();
  EXPECT_EQ(Problem(empty), "cluster \"a\" has no instances");
  Config same_name = OneTarget();
  same_name.clusters[0].instances.push_back({"p:5432", "host=q", false});
  EXPECT_EQ(Problem(same_name),
            "cluster \"a\": instance \"p:5432\" is defined twice");
  Config bad_port = OneTarget();
  bad_port.clusters[0].discovery.host = "replicas.svc";
  bad_port.clusters[0].discovery.port = 70000;
  EXPECT_EQ(Problem(bad_port), "cluster \"a\": bad replica port");
}

TEST(Validate, IntervalsPathAndLogSettings) {
  Config c = OneTarget();
  c.poll_interval = milliseconds(99);
  EXPECT_EQ(Problem(c), "--poll.interval must be at least 100ms");
  c = OneTarget();
  c.poll_timeout = milliseconds(10);
  EXPECT_EQ(Problem(c), "--poll.timeout must be at least 100ms");
  c = OneTarget();
  c.connect_timeout = milliseconds(0);
  EXPECT_EQ(Problem(c), "--pg.connect-timeout must be at least 100ms");
  c = OneTarget();
  c.telemetry_path = "metrics";
  EXPECT_EQ(Problem(c), "--web.telemetry-path must start with '/'");
  c = OneTarget();
  c.log_level = "loud";
  EXPECT_EQ(Problem(c),
            "--log.level must be one of trace, debug, info, warn, error");
  c = OneTarget();
  c.log_format = "xml";
  EXPECT_EQ(Problem(c), "--log.format must be logfmt or json");
}

TEST(Validate, HeartbeatIdOnlyWhenHeartbeatIsOn) {
  Config c = OneTarget();
  c.heartbeat_id = "a b";
  EXPECT_EQ(Problem(c), "");
  c.heartbeat = true;
  EXPECT_EQ(Problem(c),
            "--heartbeat.id must be 1-63 letters, digits, '.', '_' or '-'");
  c.heartbeat_id = "exporter-1";
  EXPECT_EQ(Problem(c), "");
}

TEST(Validate, SidecarNeedsOneInstanceAndNoDiscovery) {
  Config c = OneTarget();
  c.sidecar = true;
  EXPECT_EQ(Problem(c), "");
  c.clusters[0].discovery.host = "replicas.svc";
  EXPECT_EQ(Problem(c),
            "--sidecar needs exactly one configured instance, got 1 plus "
            "replica discovery");
}

}  // namespace
}  // namespace pgrepl
