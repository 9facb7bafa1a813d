// Tests for exporter/tls_context: building the server's SSL_CTX.
#include "exporter/http/tls_context.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <cstdio>
#include <string>

namespace pgrepl {
namespace {

// A self-signed P-256 certificate and its key, written as PEM files.
class TempCert {
 public:
  // The certificate is valid from now + `not_before` to now + `not_after`
  // seconds.
  explicit TempCert(long not_before = 0, long not_after = 3600) {
    char dir[] = "/tmp/pgrepl_tls_testXXXXXX";
    dir_ = mkdtemp(dir);
    cert_ = dir_ + "/cert.pem";
    key_ = dir_ + "/key.pem";
    other_key_ = dir_ + "/other.pem";
    encrypted_key_ = dir_ + "/encrypted.pem";
    EVP_PKEY* key = EVP_EC_gen("P-256");
    EVP_PKEY* other = EVP_EC_gen("P-256");
    X509* x = X509_new();
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), not_before);
    X509_gmtime_adj(X509_getm_notAfter(x), not_after);
    X509_set_pubkey(x, key);
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("test"),
                               -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509_sign(x, key, EVP_sha256());
    FILE* f = std::fopen(cert_.c_str(), "w");
    PEM_write_X509(f, x);
    std::fclose(f);
    f = std::fopen(key_.c_str(), "w");
    PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
    f = std::fopen(encrypted_key_.c_str(), "w");
    PEM_write_PrivateKey(f, key, EVP_aes_256_cbc(), nullptr, 0, nullptr,
                         const_cast<char*>(kPassphrase));
    std::fclose(f);
    f = std::fopen(other_key_.c_str(), "w");
    PEM_write_PrivateKey(f, other, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
    X509_free(x);
    EVP_PKEY_free(key);
    EVP_PKEY_free(other);
  }
  ~TempCert() {
    for (const auto& p : {cert_, key_, other_key_, encrypted_key_}) {
      unlink(p.c_str());
    }
    rmdir(dir_.c_str());
  }
  TlsServerConfig Config() const {
    TlsServerConfig c;
    c.cert_file = cert_;
    c.key_file = key_;
    return c;
  }
  const std::string& cert() const { return cert_; }
  const std::string& other_key() const { return other_key_; }
  const std::string& encrypted_key() const { return encrypted_key_; }
  static constexpr const char* kPassphrase = "unit-passphrase";

 private:
  std::string dir_, cert_, key_, other_key_, encrypted_key_;
};

SSL_CTX* Ctx(const TlsContext& t) { return static_cast<SSL_CTX*>(t.ssl_ctx()); }

TEST(TlsContext, DefaultsToTls12AndNoClientCert) {
  TempCert cert;
  auto r = TlsContext::Create(cert.Config());
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(SSL_CTX_get_min_proto_version(Ctx(*r.value())), TLS1_2_VERSION);
  EXPECT_EQ(SSL_CTX_get_verify_mode(Ctx(*r.value())), SSL_VERIFY_NONE);
}

TEST(TlsContext, ClientAuthModes) {
  TempCert cert;
  struct Case {
    ClientAuth auth;
    int mode;
  };
  for (const Case& c :
       {Case{ClientAuth::kRequestClientCert, SSL_VERIFY_PEER},
        Case{ClientAuth::kRequireAnyClientCert,
             SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT},
        Case{ClientAuth::kVerifyClientCertIfGiven, SSL_VERIFY_PEER},
        Case{ClientAuth::kRequireAndVerifyClientCert,
             SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT}}) {
    TlsServerConfig config = cert.Config();
    config.client_auth = c.auth;
    config.client_ca_file = cert.cert();  // self-signed: its own CA
    config.min_version = TlsVersion::kTls13;
    auto r = TlsContext::Create(config);
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(SSL_CTX_get_verify_mode(Ctx(*r.value())), c.mode);
    EXPECT_EQ(SSL_CTX_get_min_proto_version(Ctx(*r.value())), TLS1_3_VERSION);
    EXPECT_EQ(sk_X509_NAME_num(SSL_CTX_get_client_CA_list(Ctx(*r.value()))), 1);
  }
}

TEST(TlsContext, ErrorsNameTheFile) {
  TempCert cert;
  TlsServerConfig missing = cert.Config();
  missing.cert_file = "/nonexistent/cert.pem";
  auto r = TlsContext::Create(missing);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("cert_file /nonexistent/cert.pem"),
            std::string::npos)
      << r.status().message();

  TlsServerConfig mismatched = cert.Config();
  mismatched.key_file = cert.other_key();
  r = TlsContext::Create(mismatched);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("key_file"), std::string::npos)
      << r.status().message();

  TlsServerConfig bad_ca = cert.Config();
  bad_ca.client_auth = ClientAuth::kRequireAndVerifyClientCert;
  bad_ca.client_ca_file = "/nonexistent/ca.pem";
  r = TlsContext::Create(bad_ca);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("client_ca_file"), std::string::npos);
  EXPECT_EQ(r.status().message().find('\n'), std::string::npos);
}

TEST(TlsContext, KeyNotMatchingTheCertificateSaysSo) {
  TempCert cert;
  TlsServerConfig mismatched = cert.Config();
  mismatched.key_file = cert.other_key();
  auto r = TlsContext::Create(mismatched);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "tls_server_config.key_file " + cert.other_key() +
                " does not match cert_file " + cert.cert());
}

TEST(TlsContext, RejectsAnExpiredOrNotYetValidCertificate) {
  TempCert expired(-7200, -3600);
  auto r = TlsContext::Create(expired.Config());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("cert_file " + expired.cert() +
                                      ": the certificate expired on "),
            std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find(" GMT"), std::string::npos)
      << r.status().message();

  TempCert future(3600, 7200);
  r = TlsContext::Create(future.Config());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("is not valid before"), std::string::npos)
      << r.status().message();
}

// An encrypted key fails at once with a clear message. Before the
// passphrase callback, OpenSSL prompted for the passphrase and read it
// from the terminal or stdin: stdin here is a pipe holding the right one,
// so a prompt would succeed and this test fail.
TEST(TlsContext, EncryptedKeyFailsWithoutPrompting) {
  TempCert cert;
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  std::string answer = std::string(TempCert::kPassphrase) + "\n";
  ASSERT_EQ(write(fds[1], answer.data(), answer.size()),
            static_cast<ssize_t>(answer.size()));
  close(fds[1]);
  int saved_stdin = dup(0);
  dup2(fds[0], 0);
  close(fds[0]);
  TlsServerConfig config = cert.Config();
  config.key_file = cert.encrypted_key();
  auto r = TlsContext::Create(config);
  dup2(saved_stdin, 0);
  close(saved_stdin);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "tls_server_config.key_file " + cert.encrypted_key() +
                ": the key is encrypted; a passphrase is not supported, "
                "give an unencrypted key");
}

TEST(TlsContext, CivetwebFindsOpenSslThroughTheCompatLibraries) {
  Status s = TlsContext::CheckCivetwebCompat();
  EXPECT_TRUE(s.ok()) << s.message();
}

}  // namespace
}  // namespace pgrepl
