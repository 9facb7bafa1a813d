// The OpenSSL compatibility libraries for Debian 12's civetweb (see
// ssl_compat.cc and docs/http.md): markers the exporter links against.
#ifndef PGREPL_EXPORTER_SSL_COMPAT_SSL_COMPAT_H_
#define PGREPL_EXPORTER_SSL_COMPAT_SSL_COMPAT_H_

extern "C" {
// Defined in the library whose SONAME is libssl.so; returns 1.
int pgrepl_ssl_compat_present(void);
// Defined in the library whose SONAME is libcrypto.so; returns 1.
int pgrepl_crypto_compat_present(void);
}

#endif  // PGREPL_EXPORTER_SSL_COMPAT_SSL_COMPAT_H_
