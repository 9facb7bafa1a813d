// Tests for exporter/config/secret_files: which files hold secrets.
#include "exporter/config/secret_files.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace pgrepl {
namespace {

TEST(SecretFiles, WebConfigKeyAndPasswordFileWhenSet) {
  Config c;
  EXPECT_TRUE(SecretFiles(c).empty());
  c.web_config_file = "web.yml";
  c.web.tls =
      TlsServerConfig{.cert_file = "server.crt", .key_file = "server.key"};
  c.password_file = "pw";
  using Files = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(SecretFiles(c), (Files{{"--web.config.file", "web.yml"},
                                   {"tls_server_config.key_file", "server.key"},
                                   {"PGREPL_PASSWORD_FILE", "pw"}}));
}

}  // namespace
}  // namespace pgrepl
