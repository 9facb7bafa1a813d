// libcrypto.so compatibility shim: the companion of ssl_compat.cc.
//
// civetweb also calls dlopen("libcrypto.so"). That unversioned name exists
// on disk only where libssl-dev is installed, so this library carries the
// SONAME "libcrypto.so", depends on libcrypto.so.3 and is linked into the
// exporter: the dlopen() then resolves to it, and dlsym() finds every
// libcrypto function through its dependency. No function is redefined.
#include <openssl/crypto.h>

#include "exporter/ssl_compat/ssl_compat.h"

extern "C" {

__attribute__((visibility("default"))) int pgrepl_crypto_compat_present(void) {
  // Referencing libcrypto keeps libcrypto.so.3 a dependency even when the
  // linker drops unused ones (--as-needed).
  return OpenSSL_version_num() > 0 ? 1 : 0;
}

}  // extern "C"
