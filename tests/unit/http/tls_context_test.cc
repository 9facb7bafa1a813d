// Tests for exporter/tls_context: building the server's SSL_CTX.
#include "exporter/http/tls_context.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <utility>

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

// One in-memory handshake of a fresh client (no verification, TLS 1.2 at
// most when `client_max_tls12`) against a server SSL made from `server`.
// Returns the certificate the client saw (owned by the caller), or nullptr
// when the handshake failed.
X509* HandshakeServerCert(const TlsContext& server,
                          bool client_max_tls12 = false) {
  SSL_CTX* client_ctx = SSL_CTX_new(TLS_client_method());
  if (client_max_tls12)
    SSL_CTX_set_max_proto_version(client_ctx, TLS1_2_VERSION);
  SSL_CTX_set_verify(client_ctx, SSL_VERIFY_NONE, nullptr);
  SSL* client = SSL_new(client_ctx);
  SSL* srv = SSL_new(Ctx(server));
  BIO *client_io = nullptr, *server_io = nullptr;
  BIO_new_bio_pair(&client_io, 0, &server_io, 0);
  SSL_set_bio(client, client_io, client_io);
  SSL_set_bio(srv, server_io, server_io);
  SSL_set_connect_state(client);
  SSL_set_accept_state(srv);
  bool client_done = false, server_done = false, failed = false;
  for (int round = 0; round < 20 && !(client_done && server_done) && !failed;
       ++round) {
    for (auto [ssl, done] :
         {std::pair{client, &client_done}, std::pair{srv, &server_done}}) {
      if (*done) continue;
      int rc = SSL_do_handshake(ssl);
      if (rc == 1) {
        *done = true;
      } else {
        int err = SSL_get_error(ssl, rc);
        if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
          failed = true;
        }
      }
    }
  }
  X509* seen = (client_done && server_done && !failed)
                   ? SSL_get1_peer_certificate(client)
                   : nullptr;
  ERR_clear_error();
  SSL_free(client);
  SSL_free(srv);
  SSL_CTX_free(client_ctx);
  return seen;
}

// True when `seen` is the certificate `context` was loaded with.
bool Serves(X509* seen, const TlsContext& context) {
  return seen != nullptr &&
         X509_cmp(seen, SSL_CTX_get0_certificate(Ctx(context))) == 0;
}

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

TEST(TlsContext, RotationMovesNewHandshakesToTheNextCertificate) {
  TempCert first, second;
  auto front = TlsContext::Create(first.Config());
  auto next = TlsContext::Create(second.Config());
  ASSERT_TRUE(front.ok() && next.ok());
  TlsContext& f = *front.value();
  const TlsContext& n = *next.value();
  f.EnableRotation();

  X509* seen = HandshakeServerCert(f);
  EXPECT_TRUE(Serves(seen, f)) << "before any rotation";
  X509_free(seen);

  f.Rotate(std::move(next).value());
  seen = HandshakeServerCert(f);
  EXPECT_TRUE(Serves(seen, n)) << "after the rotation";
  EXPECT_FALSE(Serves(seen, f));
  X509_free(seen);
}

TEST(TlsContext, RotationAppliesTheNextVersionAndClientCertPolicy) {
  TempCert first, second;
  auto front = TlsContext::Create(first.Config());
  ASSERT_TRUE(front.ok());
  TlsContext& f = *front.value();
  f.EnableRotation();

  TlsServerConfig tls13 = second.Config();
  tls13.min_version = TlsVersion::kTls13;
  auto next = TlsContext::Create(tls13);
  ASSERT_TRUE(next.ok());
  X509* seen = HandshakeServerCert(f, /*client_max_tls12=*/true);
  EXPECT_NE(seen, nullptr) << "TLS 1.2 is accepted before the rotation";
  X509_free(seen);
  f.Rotate(std::move(next).value());
  EXPECT_EQ(HandshakeServerCert(f, /*client_max_tls12=*/true), nullptr)
      << "the rotated context's min_version TLS13 refuses a TLS 1.2 client";

  TlsServerConfig require = second.Config();
  require.client_auth = ClientAuth::kRequireAnyClientCert;
  auto requiring = TlsContext::Create(require);
  ASSERT_TRUE(requiring.ok());
  f.Rotate(std::move(requiring).value());
  EXPECT_EQ(HandshakeServerCert(f), nullptr)
      << "a client without a certificate is refused after the rotation";
}

}  // namespace
}  // namespace pgrepl
