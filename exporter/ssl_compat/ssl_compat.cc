// libssl.so compatibility shim: lets Debian 12's civetweb 1.15, built for
// the OpenSSL 1.1 API, use OpenSSL 3.
//
// civetweb loads OpenSSL at run time with dlopen("libssl.so") and looks up
// every function it needs by name with dlsym(). OpenSSL 3 renamed
// SSL_get_peer_certificate to SSL_get1_peer_certificate (the old name is
// only a macro now), so the lookup fails and civetweb's TLS does not work.
//
// This library's SONAME is "libssl.so" and it is linked against
// libssl.so.3. The exporter links it (found through an $ORIGIN-relative
// RPATH), so when civetweb later calls dlopen("libssl.so"), the dynamic
// loader matches that name to this already-loaded library instead of
// searching the disk; dlsym() on it then finds the function below here and
// every other OpenSSL function in its dependency libssl.so.3. Both the
// exporter and civetweb thereby use the one libssl.so.3 in the process.
#include "exporter/ssl_compat/ssl_compat.h"

#include <openssl/ssl.h>

#undef SSL_get_peer_certificate

extern "C" {

// OpenSSL 1.1 semantics: the caller owns a reference to the certificate,
// exactly what SSL_get1_peer_certificate hands out.
__attribute__((visibility("default"))) X509* SSL_get_peer_certificate(
    const SSL* ssl);
X509* SSL_get_peer_certificate(const SSL* ssl) {
  return SSL_get1_peer_certificate(ssl);
}

__attribute__((visibility("default"))) int pgrepl_ssl_compat_present(void) {
  return 1;
}

}  // extern "C"
