// Tests for exporter/http/reload: what SIGHUP does with --web.config.file.
#include "exporter/http/reload.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "exporter/collector/collector.h"
#include "exporter/config/config.h"
#include "exporter/http/http_server.h"
#include "exporter/metrics/exporter_metrics.h"
#include "exporter/model/snapshot_store.h"
#include "tests/unit/testing/bcrypt_hash.h"

namespace pgrepl {
namespace {

class ReloadTest : public ::testing::Test {
 protected:
  ReloadTest() {
    char dir[] = "/tmp/pgrepl_reload_testXXXXXX";
    dir_ = mkdtemp(dir);
    config_.web_config_file = dir_ + "/web.yml";
  }
  ~ReloadTest() override {
    std::remove(config_.web_config_file.c_str());
    rmdir(dir_.c_str());
  }

  void Write(const std::string& text) {
    std::ofstream(config_.web_config_file) << text;
  }

  std::string dir_;
  Config config_;
  SnapshotStore store_;
  std::vector<std::unique_ptr<Collector>> collectors_ = DefaultCollectors();
  ExporterMetrics metrics_{&store_, &collectors_};
  HttpServer http_{HttpOptions{}, &metrics_, &store_};  // never started
};

TEST_F(ReloadTest, WithoutAWebConfigFileThereIsNothingToReload) {
  config_.web_config_file.clear();
  EXPECT_TRUE(ReloadWebConfig(config_, &http_, &store_).ok());
  SnapshotStore::Reloads r = store_.ReloadOutcome();
  EXPECT_TRUE(r.last_ok);
  EXPECT_EQ(r.successes, 1u);
  EXPECT_EQ(r.failures, 0u);
}

TEST_F(ReloadTest, NewUsersAreAppliedAndCounted) {
  Write("basic_auth_users:\n  bob: '" + BcryptHash("pw") + "'\n");
  Status s = ReloadWebConfig(config_, &http_, &store_);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(store_.ReloadOutcome().successes, 1u);
}

TEST_F(ReloadTest, AFileThatDoesNotLoadIsAFailureNamingIt) {
  const auto before = store_.ReloadOutcome().last_success;
  Write("basic_auth_users: [");
  Status s = ReloadWebConfig(config_, &http_, &store_);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find(config_.web_config_file), std::string::npos)
      << s.message();
  SnapshotStore::Reloads r = store_.ReloadOutcome();
  EXPECT_FALSE(r.last_ok);
  EXPECT_EQ(r.failures, 1u);
  EXPECT_EQ(r.last_success, before) << "a failure keeps the old load time";

  std::remove(config_.web_config_file.c_str());
  EXPECT_FALSE(ReloadWebConfig(config_, &http_, &store_).ok());
  EXPECT_EQ(store_.ReloadOutcome().failures, 2u);
}

TEST_F(ReloadTest, SwitchingTlsOnIsRefused) {
  Write("tls_server_config:\n  cert_file: c.pem\n  key_file: k.pem\n");
  Status s = ReloadWebConfig(config_, &http_, &store_);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("needs a restart"), std::string::npos)
      << s.message();
  EXPECT_FALSE(store_.ReloadOutcome().last_ok);
}

}  // namespace
}  // namespace pgrepl
