// Tests for exporter/ssl_compat: dlopen("libssl.so") / ("libcrypto.so"),
// as civetweb calls them, resolve to the compatibility libraries and
// expose the OpenSSL 1.1 names civetweb looks up, with their 1.1 semantics
// (checked on a real in-process TLS handshake).
#include "exporter/ssl_compat/ssl_compat.h"

#include <dlfcn.h>
#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>
#include <utility>

namespace pgrepl {
namespace {

TEST(SslCompat, LinkedIn) {
  EXPECT_EQ(pgrepl_ssl_compat_present(), 1);
  EXPECT_EQ(pgrepl_crypto_compat_present(), 1);
}

TEST(SslCompat, LibsslByNameIsTheShim) {
  // RTLD_NOLOAD: the name must match a library that is already loaded.
  void* handle = dlopen("libssl.so", RTLD_LAZY | RTLD_NOLOAD);
  ASSERT_NE(handle, nullptr) << dlerror();
  EXPECT_NE(dlsym(handle, "pgrepl_ssl_compat_present"), nullptr);
  // The renamed function, and the real ones through the dependency.
  void* old_name = dlsym(handle, "SSL_get_peer_certificate");
  EXPECT_NE(old_name, nullptr);
  EXPECT_NE(dlsym(handle, "SSL_get1_peer_certificate"), nullptr);
  EXPECT_NE(dlsym(handle, "SSL_CTX_new"), nullptr);
  EXPECT_NE(dlsym(handle, "OPENSSL_init_ssl"), nullptr);
  // Same libssl.so.3 as the exporter's own calls.
  EXPECT_EQ(dlsym(handle, "SSL_CTX_new"),
            reinterpret_cast<void*>(&SSL_CTX_new));
  dlclose(handle);
}

TEST(SslCompat, LibcryptoByNameIsTheShim) {
  void* handle = dlopen("libcrypto.so", RTLD_LAZY | RTLD_NOLOAD);
  ASSERT_NE(handle, nullptr) << dlerror();
  EXPECT_NE(dlsym(handle, "pgrepl_crypto_compat_present"), nullptr);
  EXPECT_NE(dlsym(handle, "ERR_get_error"), nullptr);
  EXPECT_NE(dlsym(handle, "X509_free"), nullptr);
  dlclose(handle);
}

// The old name as civetweb finds it: dlsym() on dlopen("libssl.so").
using GetPeerFn = X509* (*)(const SSL*);

// A self-signed P-256 certificate for CN=compat-test, with its key.
struct SelfSigned {
  SelfSigned()
      : key(EVP_EC_gen("P-256"), EVP_PKEY_free), cert(X509_new(), X509_free) {
    X509* x = cert.get();
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key.get());
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(
        name, "CN", MBSTRING_ASC,
        reinterpret_cast<const unsigned char*>("compat-test"), -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509_sign(x, key.get(), EVP_sha256());
  }
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key;
  std::unique_ptr<X509, decltype(&X509_free)> cert;
};

// Drives both ends of an in-memory connection (a BIO pair) until the TLS
// handshake is done on both; false on an error on either side.
bool Handshake(SSL* client, SSL* server) {
  SSL_set_connect_state(client);
  SSL_set_accept_state(server);
  bool client_done = false, server_done = false;
  for (int round = 0; round < 50 && !(client_done && server_done); ++round) {
    for (auto [ssl, done] :
         {std::pair{client, &client_done}, std::pair{server, &server_done}}) {
      if (*done) continue;
      int r = SSL_do_handshake(ssl);
      if (r == 1) {
        *done = true;
        continue;
      }
      int e = SSL_get_error(ssl, r);
      if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) return false;
    }
  }
  return client_done && server_done;
}

// CRYPTO_EX_free for the test's X509 ex_data index: OpenSSL calls it when
// a certificate's last reference is released; the test stores a flag.
void MarkFreed(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
  if (ptr != nullptr) *static_cast<bool*>(ptr) = true;
}

// civetweb calls SSL_get_peer_certificate() and X509_free()s the result
// (OpenSSL 1.1 semantics). After a real handshake, the old name must hand
// out the peer certificate with a reference of the caller's own: the
// certificate outlives the SSL that holds it and goes with the caller's
// X509_free(), no earlier (a use after free) and no later (a leak).
TEST(SslCompat, OldNameHasGet1Semantics) {
  void* handle = dlopen("libssl.so", RTLD_LAZY | RTLD_NOLOAD);
  ASSERT_NE(handle, nullptr) << dlerror();
  auto get =
      reinterpret_cast<GetPeerFn>(dlsym(handle, "SSL_get_peer_certificate"));
  ASSERT_NE(get, nullptr);

  SelfSigned server_id;
  ASSERT_NE(server_id.key, nullptr);
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> server_ctx(
      SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
  ASSERT_EQ(SSL_CTX_use_certificate(server_ctx.get(), server_id.cert.get()), 1);
  ASSERT_EQ(SSL_CTX_use_PrivateKey(server_ctx.get(), server_id.key.get()), 1);
  // The client trusts exactly that certificate and verifies it.
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> client_ctx(
      SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
  ASSERT_EQ(X509_STORE_add_cert(SSL_CTX_get_cert_store(client_ctx.get()),
                                server_id.cert.get()),
            1);
  SSL_CTX_set_verify(client_ctx.get(), SSL_VERIFY_PEER, nullptr);

  std::unique_ptr<SSL, decltype(&SSL_free)> client(SSL_new(client_ctx.get()),
                                                   SSL_free);
  std::unique_ptr<SSL, decltype(&SSL_free)> server(SSL_new(server_ctx.get()),
                                                   SSL_free);
  BIO* client_bio = nullptr;
  BIO* server_bio = nullptr;
  ASSERT_EQ(BIO_new_bio_pair(&client_bio, 0, &server_bio, 0), 1);
  SSL_set_bio(client.get(), client_bio, client_bio);  // each SSL owns its end
  SSL_set_bio(server.get(), server_bio, server_bio);

  // No handshake yet, no peer certificate.
  EXPECT_EQ(get(client.get()), nullptr);
  ASSERT_TRUE(Handshake(client.get(), server.get()))
      << ERR_error_string(ERR_get_error(), nullptr);
  EXPECT_EQ(SSL_get_verify_result(client.get()), X509_V_OK);

  // The client's certificate object, decoded from the handshake.
  X509* held = SSL_get0_peer_certificate(client.get());
  ASSERT_NE(held, nullptr);
  EXPECT_NE(held, server_id.cert.get());
  EXPECT_EQ(X509_cmp(held, server_id.cert.get()), 0);
  const int index =
      X509_get_ex_new_index(0, nullptr, nullptr, nullptr, MarkFreed);
  ASSERT_GE(index, 0);
  bool freed = false;
  ASSERT_EQ(X509_set_ex_data(held, index, &freed), 1);

  X509* peer = get(client.get());
  ASSERT_EQ(peer, held);  // the same certificate, not a copy
  client.reset();         // SSL_free(): drops the session's references
  ASSERT_FALSE(freed) << "freed with the SSL: the old name returned no "
                         "reference of the caller's own (get0 semantics)";
  EXPECT_EQ(X509_cmp(peer, server_id.cert.get()), 0);  // still whole
  X509_free(peer);
  EXPECT_TRUE(freed) << "still referenced after the caller's X509_free: "
                        "the old name took more than one reference";
  CRYPTO_free_ex_index(CRYPTO_EX_INDEX_X509, index);
  dlclose(handle);
}

}  // namespace
}  // namespace pgrepl
