// Tests for exporter/web_config: the exporter-toolkit YAML format.
#include "exporter/config/web_config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <fstream>

#include "tests/unit/testing/bcrypt_hash.h"

namespace pgrepl {
namespace {

TEST(WebConfig, EmptyDocumentIsPlainHttp) {
  for (const char* text : {"", "# nothing\n", "---\n"}) {
    auto r = ParseWebConfig(text, "");
    ASSERT_TRUE(r.ok()) << text << ": " << r.status().message();
    EXPECT_FALSE(r.value().tls);
    EXPECT_TRUE(r.value().basic_auth_users.empty());
  }
}

TEST(WebConfig, FullTlsAndUsers) {
  std::string hash = BcryptHash("secret");
  auto r = ParseWebConfig(
      "tls_server_config:\n"
      "  cert_file: server.crt\n"
      "  key_file: /abs/server.key\n"
      "  client_ca_file: ca.crt\n"
      "  client_auth_type: RequireAndVerifyClientCert\n"
      "  min_version: TLS13\n"
      "  max_version: TLS13\n"
      "basic_auth_users:\n"
      "  alice: '" +
          hash +
          "'\n"
          "  bob: " +
          hash + "\n",
      "/etc/pgrepl");
  ASSERT_TRUE(r.ok()) << r.status().message();
  const WebConfig& c = r.value();
  ASSERT_TRUE(c.tls);
  EXPECT_EQ(c.tls->cert_file,
            "/etc/pgrepl/server.crt");  // relative to the file
  EXPECT_EQ(c.tls->key_file, "/abs/server.key");
  EXPECT_EQ(c.tls->client_ca_file, "/etc/pgrepl/ca.crt");
  EXPECT_EQ(c.tls->client_auth, ClientAuth::kRequireAndVerifyClientCert);
  EXPECT_EQ(c.tls->min_version, TlsVersion::kTls13);
  EXPECT_EQ(c.tls->max_version, TlsVersion::kTls13);
  ASSERT_EQ(c.basic_auth_users.size(), 2u);
  EXPECT_EQ(c.basic_auth_users.at("alice"), hash);
}

TEST(WebConfig, Defaults) {
  auto r =
      ParseWebConfig("tls_server_config:\n  cert_file: a\n  key_file: b\n", "");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r.value().tls->client_auth, ClientAuth::kNoClientCert);
  EXPECT_EQ(r.value().tls->min_version, TlsVersion::kTls12);
  EXPECT_FALSE(r.value().tls->max_version);
  EXPECT_EQ(r.value().tls->cert_file, "a");
}

TEST(WebConfig, EveryClientAuthType) {
  for (const char* name :
       {"NoClientCert", "RequestClientCert", "RequireAnyClientCert",
        "VerifyClientCertIfGiven", "RequireAndVerifyClientCert"}) {
    std::string ca =
        std::string(name) == "NoClientCert" ? "" : "  client_ca_file: ca\n";
    auto r = ParseWebConfig(std::string("tls_server_config:\n  cert_file: a\n"
                                        "  key_file: b\n  client_auth_type: ") +
                                name + "\n" + ca,
                            "");
    ASSERT_TRUE(r.ok()) << name << ": " << r.status().message();
    EXPECT_STREQ(ClientAuthName(r.value().tls->client_auth), name);
  }
}

TEST(WebConfig, Rejects) {
  const std::string tls = "tls_server_config:\n  cert_file: a\n  key_file: b\n";
  struct Case {
    std::string text;
    const char* message;
  };
  for (const Case& c : std::vector<Case>{
           {"tls_server_config: [1, 2]\n", "expected a mapping"},
           {"tls_server_config:\n  key_file: b\n", "cert_file is required"},
           {"tls_server_config:\n  cert_file: a\n", "key_file is required"},
           {tls + "  client_auth_type: Sometimes\n", "client_auth_type"},
           {tls + "  client_auth_type: RequireAndVerifyClientCert\n",
            "needs client_ca_file"},
           {tls + "  client_auth_type: VerifyClientCertIfGiven\n",
            "needs client_ca_file"},
           {tls + "  client_ca_file: ca\n", "NoClientCert"},
           {tls + "  min_version: TLS14\n", "TLS12"},
           {tls + "  min_version: TLS13\n  max_version: TLS12\n", "below"},
           {tls + "  cipher_suites: [x]\n", "unknown key \"cipher_suites\""},
           {"http_server_config:\n  http2: true\n", "not supported"},
           {"basic_auth_users:\n  alice: plaintext\n", "not a bcrypt hash"},
           {"basic_auth_users:\n  alice: $1$abc$def\n", "not a bcrypt hash"},
           {"basic_auth_users:\n  alice: $2y$10$short\n", "not a bcrypt hash"},
           {"basic_auth_users: [alice]\n", "expected a mapping"},
           {"basic_auth_users:\n  alice: [x]\n", "user: bcrypt-hash"},
           {"tls_server_config: {cert_file: a, key_file: [b]}\n",
            "expected a string"},
           {"key: [unclosed\n", "not valid YAML"},
           {"- a\n- b\n", "expected a mapping"},
           {"42\n", "expected a mapping"},
       }) {
    auto r = ParseWebConfig(c.text, "");
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_NE(r.status().message().find(c.message), std::string::npos)
        << c.text << " -> " << r.status().message();
    EXPECT_EQ(r.status().message().find('\n'), std::string::npos);
  }
}

// Regression (a property of tests/fuzz/fuzz_web_config.cc): errors quote
// keys and user names; a newline in one split the one-line error.
TEST(WebConfig, ControlCharactersKeepErrorsOneLine) {
  for (const char* text :
       {"\"bad\\nkey\": 1\n",
        "basic_auth_users:\n  \"al\\nice\": $2y$10$short\n"}) {
    auto r = ParseWebConfig(text, "");
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.status().message().find_first_of("\r\n"), std::string::npos)
        << r.status().message();
  }
}

// "$2y$31$" once hung startup: checking the hash ran 2^31 bcrypt rounds.
// Above kMaxBcryptCost it is refused at once, naming the user and the cost.
TEST(WebConfig, RejectsABcryptCostAboveTheCap) {
  std::string hash = BcryptHash("secret", "$2y$", 4);
  for (const char* cost : {"31", "15"}) {
    std::string dear = hash.substr(0, 4) + cost + hash.substr(6);
    auto start = std::chrono::steady_clock::now();
    auto r = ParseWebConfig("basic_auth_users:\n  alice: '" + dear + "'\n", "");
    EXPECT_LT(std::chrono::steady_clock::now() - start,
              std::chrono::seconds(5));
    ASSERT_FALSE(r.ok()) << cost;
    const std::string& m = r.status().message();
    EXPECT_NE(m.find("basic_auth_users.alice: bcrypt cost " +
                     std::string(cost) + " is above the maximum of 14"),
              std::string::npos)
        << m;
    EXPECT_EQ(m.find(dear.substr(7)), std::string::npos) << "echoes the hash";
  }
}

TEST(WebConfig, ErrorsNeverEchoAHash) {
  auto r = ParseWebConfig(
      "basic_auth_users:\n  alice: $2y$10$notreallyahashatall\n", "");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().find("notreally"), std::string::npos);
}

TEST(WebConfig, LoadResolvesRelativeToTheFile) {
  char dir[] = "/tmp/pgrepl_webcfg_XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string path = std::string(dir) + "/web.yml";
  std::ofstream(path)
      << "tls_server_config:\n  cert_file: s.crt\n  key_file: s.key\n";
  auto r = LoadWebConfig(path);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r.value().tls->cert_file, std::string(dir) + "/s.crt");
  unlink(path.c_str());
  rmdir(dir);
  auto missing = LoadWebConfig(path);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("--web.config.file"),
            std::string::npos);
}

}  // namespace
}  // namespace pgrepl
