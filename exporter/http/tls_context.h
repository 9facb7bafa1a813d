// TlsContext: the server's OpenSSL context, built from an exporter-toolkit
// tls_server_config and handed to civetweb.
#ifndef PGREPL_EXPORTER_HTTP_TLS_CONTEXT_H_
#define PGREPL_EXPORTER_HTTP_TLS_CONTEXT_H_

#include <memory>

#include "exporter/base/status.h"
#include "exporter/config/web_config.h"

namespace pgrepl {

class TlsContext {
 public:
  // Loads the certificate chain (rejecting an expired or not yet valid
  // leaf), the key (and checks they match; an encrypted key fails at once,
  // never prompting for a passphrase), the
  // client CAs, and sets the protocol versions and the client certificate
  // policy of `config.client_auth` (exporter-toolkit's semantics). Errors
  // name the file and OpenSSL's reason on one line.
  static Result<std::unique_ptr<TlsContext>> Create(
      const TlsServerConfig& config);

  // Checks that civetweb's run-time lookup of OpenSSL by name will succeed:
  // dlopen("libssl.so") and dlopen("libcrypto.so") must resolve to the
  // compatibility libraries (exporter/ssl_compat), whose
  // SSL_get_peer_certificate civetweb needs. Call before serving TLS.
  static Status CheckCivetwebCompat();

  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  // The SSL_CTX*, typed as civetweb's callbacks type it. Owned here.
  void* ssl_ctx() const { return ctx_; }

 private:
  explicit TlsContext(void* ctx) : ctx_(ctx) {}
  void* ctx_;  // SSL_CTX*, owned
};

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_HTTP_TLS_CONTEXT_H_
