// Tests for exporter/config/config_file: the JSON config file's clusters.
#include "exporter/config/config_file.h"

#include <gtest/gtest.h>

#include <string>

namespace pgrepl {
namespace {

TEST(ConfigFile, TheHeaderSample) {
  auto r = ParseConfigJson(R"({"clusters": [
    {"name": "payments",
     "primary": {"name": "primary", "conninfo": "host=10.0.0.1"},
     "replicas": ["host=10.0.0.2", {"name": "r2", "conninfo": "host=r2"}],
     "replica_discovery": {"host": "replicas.svc", "port": 5432,
                           "conninfo": "user=pgrepl_monitor"}}]})",
                           "default");
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r.value().size(), 1u);
  const ClusterConfig& c = r.value()[0];
  EXPECT_EQ(c.name, "payments");
  ASSERT_EQ(c.instances.size(), 3u);
  EXPECT_EQ(c.instances[0].name, "primary");
  EXPECT_EQ(c.instances[0].conninfo, "host=10.0.0.1");
  EXPECT_TRUE(c.instances[0].configured_primary);
  EXPECT_EQ(c.instances[1].name, "10.0.0.2:5432");
  EXPECT_FALSE(c.instances[1].configured_primary);
  EXPECT_EQ(c.instances[2].name, "r2");
  EXPECT_EQ(c.discovery.host, "replicas.svc");
  EXPECT_EQ(c.discovery.port, 5432);
  EXPECT_EQ(c.discovery.base_conninfo, "user=pgrepl_monitor");
}

TEST(ConfigFile, DefaultClusterNameAndNoValidation) {
  // Validate, not the parser, rejects duplicates and empty clusters.
  auto r = ParseConfigJson(R"({"clusters": [{}, {"primary": "host=x"}]})",
                           "fallback");
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r.value().size(), 2u);
  EXPECT_EQ(r.value()[0].name, "fallback");
  EXPECT_TRUE(r.value()[0].instances.empty());
  EXPECT_EQ(r.value()[1].name, "fallback");
}

TEST(ConfigFile, ErrorsNameThePlace) {
  struct Case {
    const char* text;
    const char* message;
  };
  for (const Case& c : {
           Case{"not json", "config file: not valid JSON"},
           Case{R"([])", "config file: expected {\"clusters\": [...]}"},
           Case{R"({"clusters": [], "x": 1})",
                "config file: unknown key \"x\""},
           Case{R"({"clusters": [5]})",
                "config file: clusters[0]: expected an object"},
           Case{R"({"clusters": [{"name": "a", "extra": 1}]})",
                "config file: clusters[0]: unknown key \"extra\""},
           Case{R"({"clusters": [{"replicas": ["host=x", 5]}]})",
                "config file: clusters[0].replicas[1]: expected a conninfo "
                "string or an object"},
           Case{R"({"clusters": [{"primary": {"name": "p"}}]})",
                "config file: clusters[0].primary: \"conninfo\" must be a "
                "string"},
           Case{R"({"clusters": [{"replica_discovery": {"host": "r",
                                   "port": "5432"}}]})",
                "config file: clusters[0].replica_discovery.port: expected an "
                "integer"},
       }) {
    auto r = ParseConfigJson(c.text, "default");
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.status().message(), c.message) << c.text;
  }
}

// Regression (a property of tests/fuzz/fuzz_config_json.cc): the discovery
// port was narrowed to int unchecked, so 4294975376 silently meant 8080.
TEST(ConfigFile, JsonDiscoveryPortOutOfRange) {
  auto parse = [](const std::string& port) {
    return ParseConfigJson(R"({"clusters": [{"name": "a", "replica_discovery":
                               {"host": "r", "port": )" +
                               port + "}}]}",
                           "default");
  };
  for (const char* port : {"4294975376", "18446744073709551615", "-4294961864",
                           "0", "-1", "65536"}) {
    auto r = parse(port);
    EXPECT_FALSE(r.ok()) << port;
    if (!r.ok())
      EXPECT_NE(r.status().message().find(".port"), std::string::npos);
  }
  auto r = parse("65535");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r.value()[0].discovery.port, 65535);
}

}  // namespace
}  // namespace pgrepl
