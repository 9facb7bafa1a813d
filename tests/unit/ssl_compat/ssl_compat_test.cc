// Tests for exporter/ssl_compat: dlopen("libssl.so") / ("libcrypto.so"),
// as civetweb calls them, resolve to the compatibility libraries and
// expose the OpenSSL 1.1 names civetweb looks up.
#include "exporter/ssl_compat/ssl_compat.h"

#include <dlfcn.h>
#include <gtest/gtest.h>
#include <openssl/ssl.h>

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

TEST(SslCompat, OldNameHasGet1Semantics) {
  using Fn = X509* (*)(const SSL*);
  void* handle = dlopen("libssl.so", RTLD_LAZY | RTLD_NOLOAD);
  ASSERT_NE(handle, nullptr);
  auto get = reinterpret_cast<Fn>(dlsym(handle, "SSL_get_peer_certificate"));
  ASSERT_NE(get, nullptr);
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL* ssl = SSL_new(ctx);
  EXPECT_EQ(get(ssl), nullptr);  // no handshake, no peer certificate
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  dlclose(handle);
}

}  // namespace
}  // namespace pgrepl
