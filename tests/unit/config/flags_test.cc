// Tests for exporter/config/flags: flags, environment and the config file
// they name, through ParseCommandLine.
#include "exporter/config/flags.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>

namespace pgrepl {
namespace {

using std::chrono::milliseconds;

struct Env {
  std::map<std::string, std::string> vars;
  EnvLookup lookup() const {
    return [this](const char* name) -> const char* {
      auto it = vars.find(name);
      return it == vars.end() ? nullptr : it->second.c_str();
    };
  }
};

Result<CommandLine> Parse(std::vector<std::string> args, const Env& env = {}) {
  args.insert(args.begin(), "pgrepl_exporter");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  return ParseCommandLine(static_cast<int>(argv.size()), argv.data(),
                          env.lookup());
}

std::string TempFile(const std::string& content) {
  char path[] = "/tmp/pgrepl_config_testXXXXXX";
  int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(write(fd, content.data(), content.size()),
            static_cast<ssize_t>(content.size()));
  close(fd);
  return path;
}

TEST(Flags, TargetsMakeOneCluster) {
  auto r =
      Parse({"--primary=host=p port=5432", "--replica=host=r1 port=5433",
             "--replica", "postgresql://u@r2:5434/db", "--cluster=payments",
             "--poll.interval=500ms", "--web.listen-address=127.0.0.1:19999"});
  ASSERT_TRUE(r.ok()) << r.status().message();
  const Config& c = r.value().config;
  ASSERT_EQ(c.clusters.size(), 1u);
  EXPECT_EQ(c.clusters[0].name, "payments");
  ASSERT_EQ(c.clusters[0].instances.size(), 3u);
  EXPECT_EQ(c.clusters[0].instances[0].name, "p:5432");
  EXPECT_TRUE(c.clusters[0].instances[0].configured_primary);
  EXPECT_EQ(c.clusters[0].instances[1].name, "r1:5433");
  EXPECT_FALSE(c.clusters[0].instances[1].configured_primary);
  EXPECT_EQ(c.clusters[0].instances[2].name, "r2:5434");
  EXPECT_EQ(c.poll_interval, milliseconds(500));
  EXPECT_EQ(c.listen_address, "127.0.0.1:19999");
}

TEST(Flags, Defaults) {
  auto r = Parse({"--primary=host=p"});
  ASSERT_TRUE(r.ok());
  const Config& c = r.value().config;
  EXPECT_EQ(c.poll_interval, milliseconds(1000));
  EXPECT_EQ(c.telemetry_path, "/metrics");
  EXPECT_EQ(c.listen_address, "0.0.0.0:9752");
  EXPECT_EQ(c.clusters[0].name, "default");
  EXPECT_EQ(c.log_format, "logfmt");
}

TEST(Flags, HelpAndVersion) {
  auto h = Parse({"--help"});
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h.value().action, CommandLine::Action::kHelp);
  for (const char* documented :
       {"--primary", "--replica", "--cluster", "--config.file",
        "--poll.interval", "--web.listen-address", "--web.telemetry-path",
        "--log.level", "--log.format", "DB_HOST", "DB_REPLICA_HOST",
        "PGREPL_PASSWORD_FILE"}) {
    EXPECT_NE(h.value().text.find(documented), std::string::npos) << documented;
  }
  auto v = Parse({"--version"});
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v.value().action, CommandLine::Action::kVersion);
  EXPECT_NE(v.value().text.find("pgrepl_exporter"), std::string::npos);
}

TEST(Flags, BadInputIsOneLineError) {
  const std::vector<std::vector<std::string>> cases = {
      {"--no-such-flag"},
      {"--primary=host=p bogus_keyword=1"},
      {"--primary=host=p", "--poll.interval=fast"},
      {"--primary=host=p", "--poll.interval=10ms"},
      {"--primary=host=p", "--log.format=xml"},
      {"--primary=host=p", "--log.level=loud"},
      {"--primary=host=p", "--web.telemetry-path=metrics"},
      {"--config.file=/nonexistent/pgrepl.json"},
      {},  // no targets at all
  };
  for (const auto& args : cases) {
    auto r = Parse(args);
    ASSERT_FALSE(r.ok()) << (args.empty() ? "<none>" : args[0]);
    EXPECT_EQ(r.status().kind(), Status::Kind::kInvalid);
    EXPECT_FALSE(r.status().message().empty());
    EXPECT_EQ(r.status().message().find('\n'), std::string::npos)
        << r.status().message();
  }
}

TEST(Flags, MalformedConninfoDoesNotLeakPassword) {
  auto r = Parse({"--primary=host=p password='hunter2-secret"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().find("hunter2-secret"), std::string::npos);
  EXPECT_NE(r.status().message().find("--primary"), std::string::npos);
}

// CLI11 quotes unexpected arguments verbatim; a URI among them must not
// carry its password into the message.
TEST(Flags, CliErrorsDoNotLeakUriPasswords) {
  const std::string s = "hunter2-secret";
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{
           {"postgresql://mon:" + s + "@db/postgres"},
           {"--primray=postgresql://mon:" + s + "@db/postgres"},
           {"--primray", "postgresql://mon:" + s + "@db/postgres"},
           {"--primray=postgresql://mon:a " + s + "@db/postgres"},
           {"--primray=host=db sslpassword=" + s},
           {"--primary=host=db", "host=db password='" + s + " x'"},
           {"--primary=postgresql://mon:" + s + "@db/postgres?port=x&y"},
       }) {
    auto r = Parse(args);
    ASSERT_FALSE(r.ok()) << args.back();
    EXPECT_EQ(r.status().message().find(s), std::string::npos)
        << r.status().message();
    EXPECT_EQ(r.status().message().find('\n'), std::string::npos);
  }
  // The message still names what was wrong.
  auto r = Parse({"--primray=postgresql://mon:" + s + "@db/postgres"});
  EXPECT_NE(r.status().message().find("--primray=postgresql://mon:*****@db"),
            std::string::npos)
      << r.status().message();
}

TEST(Flags, JsonFileDescribesSeveralClusters) {
  std::string path = TempFile(R"({"clusters": [
    {"name": "a", "primary": {"name": "pa", "conninfo": "host=h1 port=1"},
     "replicas": ["host=h2 port=2", {"name": "ra2", "conninfo": "host=h3"}]},
    {"name": "b", "primary": "host=h4",
     "replica_discovery": {"host": "rep.svc", "port": 6432,
                           "conninfo": "user=m"}}
  ]})");
  auto r = Parse({"--config.file=" + path});
  std::remove(path.c_str());
  ASSERT_TRUE(r.ok()) << r.status().message();
  const auto& cl = r.value().config.clusters;
  ASSERT_EQ(cl.size(), 2u);
  EXPECT_EQ(cl[0].name, "a");
  ASSERT_EQ(cl[0].instances.size(), 3u);
  EXPECT_EQ(cl[0].instances[0].name, "pa");
  EXPECT_TRUE(cl[0].instances[0].configured_primary);
  EXPECT_EQ(cl[0].instances[1].name, "h2:2");
  EXPECT_EQ(cl[0].instances[2].name, "ra2");
  EXPECT_EQ(cl[1].discovery.host, "rep.svc");
  EXPECT_EQ(cl[1].discovery.port, 6432);
  EXPECT_EQ(cl[1].discovery.base_conninfo, "user=m");
}

TEST(Flags, JsonErrors) {
  const std::vector<std::string> bad = {
      "not json",
      R"({"clusterz": []})",
      R"({"clusters": [{"name": "a", "primary": 5}]})",
      R"({"clusters": [{"name": "a", "primary": "host=x", "extra": 1}]})",
      R"({"clusters": [{"name": "a", "replicas": "host=x"}]})",
      R"({"clusters": [{"name": "a", "primary": "host=x"},
                       {"name": "a", "primary": "host=y"}]})",
      R"({"clusters": [{"name": "a",
                        "primary": {"name": "x", "conninfo": "host=x"},
                        "replicas": [{"name": "x", "conninfo": "host=y"}]}]})",
      R"({"clusters": [{"name": "a"}]})",
  };
  for (const auto& text : bad) {
    std::string path = TempFile(text);
    auto r = Parse({"--config.file=" + path});
    std::remove(path.c_str());
    EXPECT_FALSE(r.ok()) << text;
    if (!r.ok()) EXPECT_EQ(r.status().message().find('\n'), std::string::npos);
  }
}

// Regression (a property of tests/fuzz/fuzz_config_json.cc): errors quote
// keys and names from the file (and values from flags); a newline in one
// split the one-line startup error.
TEST(Flags, ControlCharactersKeepErrorsOneLine) {
  for (const std::string text : {
           R"({"clusters": [{"name": "a", "bad\nkey": 1}]})",
           R"({"clusters\r": []})",
           R"({"clusters": [{"name": "a\nb", "primary": "host=x"},
                            {"name": "a\nb", "primary": "host=y"}]})",
       }) {
    std::string path = TempFile(text);
    auto r = Parse({"--config.file=" + path});
    std::remove(path.c_str());
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.status().message().find_first_of("\r\n"), std::string::npos)
        << r.status().message();
  }
  auto r = Parse({"--primary=host=p", "--poll.interval=1s\nx"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().find('\n'), std::string::npos)
      << r.status().message();
}

// A malformed value libpq accepts when parsing but refuses when connecting
// stops startup instead of polling forever.
TEST(Flags, BadConninfoValuesFailAtStartup) {
  auto r = Parse({"--primary=host=127.0.0.1 port=notaport password=pw-S3c"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "cluster \"default\": instance \"127.0.0.1:notaport\": bad port "
            "\"notaport\": expected integers 1 to 65535, comma-separated");
  r = Parse({"--replica=postgresql://u:pw-S3c@h/d?sslmode=requir"});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("bad sslmode \"requir\""),
            std::string::npos)
      << r.status().message();
  EXPECT_EQ(r.status().message().find("pw-S3c"), std::string::npos);

  Env env;
  env.vars = {{"DB_HOST", "db"}, {"DB_PORT", "notaport"}};
  r = Parse({}, env);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("bad port"), std::string::npos);
  env.vars = {{"DB_REPLICA_HOST", "replicas"}, {"DB_PORT", "5432x"}};
  r = Parse({}, env);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("DB_PORT"), std::string::npos);
}

TEST(Flags, KubernetesEnvironment) {
  Env env;
  env.vars = {{"DB_HOST", "postgres-primary"},
              {"DB_REPLICA_HOST", "postgres-replica-headless"},
              {"PGREPL_USER", "monitor"},
              {"PGREPL_CLUSTER", "payments"}};
  auto r = Parse({}, env);
  ASSERT_TRUE(r.ok()) << r.status().message();
  const auto& c = r.value().config.clusters;
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].name, "payments");
  ASSERT_EQ(c[0].instances.size(), 1u);
  EXPECT_EQ(c[0].instances[0].name, "postgres-primary");
  EXPECT_NE(c[0].instances[0].conninfo.find("user=monitor"), std::string::npos);
  EXPECT_EQ(c[0].discovery.host, "postgres-replica-headless");
  EXPECT_EQ(c[0].discovery.port, 5432);
}

TEST(Flags, PasswordFromFileWinsAndIsTrimmed) {
  std::string path = TempFile("from-file\n");
  Env env;
  env.vars = {{"PGREPL_PASSWORD", "from-env"}, {"PGREPL_PASSWORD_FILE", path}};
  auto r = Parse({"--primary=host=p"}, env);
  std::remove(path.c_str());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value().config.password, "from-file");
  EXPECT_EQ(r.value().config.password_file, path);  // for the mode warning

  Env env2;
  env2.vars = {{"PGREPL_PASSWORD", "from-env"}};
  EXPECT_EQ(Parse({"--primary=host=p"}, env2).value().config.password,
            "from-env");
  EXPECT_EQ(Parse({"--primary=host=p"}, env2).value().config.password_file, "");

  Env env3;
  env3.vars = {{"PGREPL_PASSWORD_FILE", "/nonexistent/pw"}};
  EXPECT_FALSE(Parse({"--primary=host=p"}, env3).ok());
}

TEST(Flags, SidecarNeedsExactlyOneInstance) {
  auto one = Parse({"--replica=host=localhost port=5432", "--sidecar"});
  ASSERT_TRUE(one.ok()) << one.status().message();
  EXPECT_TRUE(one.value().config.sidecar);
  auto two = Parse({"--primary=host=a", "--replica=host=b", "--sidecar"});
  ASSERT_FALSE(two.ok());
  EXPECT_NE(two.status().message().find("--sidecar"), std::string::npos);
  Env env;
  env.vars["DB_REPLICA_HOST"] = "replicas.example";
  EXPECT_FALSE(Parse({"--sidecar"}, env).ok());
  EXPECT_FALSE(Parse({"--primary=host=a"}).value().config.sidecar);
}

TEST(Flags, SidecarPrimaryIsTheWatchedWriteEndpoint) {
  auto ok = Parse({"--replica=host=127.0.0.1 port=5432", "--sidecar",
                   "--sidecar.primary=host=postgres-primary port=5432 "
                   "user=mon password=s3cret dbname=postgres"});
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  const InstanceTarget& p = ok.value().config.sidecar_primary;
  EXPECT_EQ(p.name, "postgres-primary:5432");
  EXPECT_TRUE(p.configured_primary);
  EXPECT_EQ(ok.value().config.clusters.size(), 1u) << "not a second target";

  auto no_sidecar = Parse({"--replica=host=a", "--sidecar.primary=host=p"});
  ASSERT_FALSE(no_sidecar.ok());
  EXPECT_EQ(no_sidecar.status().message(), "--sidecar.primary needs --sidecar");

  auto bad = Parse({"--replica=host=a", "--sidecar",
                    "--sidecar.primary=host=p port=x password=s3cret"});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("--sidecar.primary"), std::string::npos)
      << bad.status().message();
  EXPECT_EQ(bad.status().message().find("s3cret"), std::string::npos)
      << bad.status().message();
}

TEST(Flags, HealthReplicaMaxLag) {
  auto def = Parse({"--primary=host=a"});
  ASSERT_TRUE(def.ok());
  EXPECT_EQ(def.value().config.health_replica_max_lag.text, "5s");
  auto size = Parse({"--primary=host=a", "--health.replica-max-lag=16MB"});
  ASSERT_TRUE(size.ok()) << size.status().message();
  EXPECT_EQ(size.value().config.health_replica_max_lag.kind,
            LagLimit::Kind::kBytes);
  auto bad = Parse({"--primary=host=a", "--health.replica-max-lag=soon"});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("--health.replica-max-lag"),
            std::string::npos);
}

TEST(Flags, WebConfigFile) {
  std::string path = TempFile("basic_auth_users:\n  alice: not-a-hash\n");
  auto bad = Parse({"--primary=host=a", "--web.config.file=" + path});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("not a bcrypt hash"),
            std::string::npos);
  EXPECT_EQ(bad.status().message().find("not-a-hash"), std::string::npos);
  std::string empty = TempFile("");
  auto ok = Parse({"--primary=host=a", "--web.config.file=" + empty});
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_FALSE(ok.value().config.web.tls);
  EXPECT_FALSE(
      Parse({"--primary=host=a", "--web.config.file=/nonexistent.yml"}).ok());
  unlink(path.c_str());
  unlink(empty.c_str());
}

}  // namespace
}  // namespace pgrepl
