// TlsContext: the server's OpenSSL context, built from an exporter-toolkit
// tls_server_config and handed to civetweb.
#ifndef PGREPL_EXPORTER_HTTP_TLS_CONTEXT_H_
#define PGREPL_EXPORTER_HTTP_TLS_CONTEXT_H_

#include <memory>
#include <mutex>

#include "exporter/base/status.h"
#include "exporter/config/web_config.h"

struct ssl_st;

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

  // Certificate rotation without a restart. Call once, on the context
  // handed to civetweb, before it serves. From then on every new handshake
  // takes its certificate chain, key, client CAs, client certificate policy
  // and protocol versions from the context last given to Rotate() (this
  // one until then). Connections already open keep what they have.
  void EnableRotation();
  // Thread-safe. `next` comes from Create(); it lives as long as a
  // handshake or connection uses it.
  void Rotate(std::shared_ptr<const TlsContext> next);

 private:
  explicit TlsContext(void* ctx) : ctx_(ctx) {}
  // OpenSSL's client hello callback: moves the handshake to next_.
  static int SwitchOnClientHello(ssl_st* ssl, int* alert, void* self);

  void* ctx_;  // SSL_CTX*, owned
  mutable std::mutex mu_;
  std::shared_ptr<const TlsContext> next_;  // GUARDED_BY(mu_); null: this
};

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_HTTP_TLS_CONTEXT_H_
