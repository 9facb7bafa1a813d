// TlsContext: the server's OpenSSL context, built from an exporter-toolkit
// tls_server_config and handed to civetweb.
#include "exporter/http/tls_context.h"

#include <dlfcn.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <unistd.h>

#include "exporter/ssl_compat/ssl_compat.h"

namespace pgrepl {
namespace {

// OpenSSL's reason for the latest error; clears the error queue.
std::string OpenSslError() {
  unsigned long code = ERR_peek_last_error();
  std::string out = "unknown error";
  if (code != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    out = buf;
  }
  ERR_clear_error();
  return out;
}

int ProtocolVersion(TlsVersion v) {
  switch (v) {
    case TlsVersion::kTls10:
      return TLS1_VERSION;
    case TlsVersion::kTls11:
      return TLS1_1_VERSION;
    case TlsVersion::kTls12:
      return TLS1_2_VERSION;
    case TlsVersion::kTls13:
      return TLS1_3_VERSION;
  }
  return TLS1_2_VERSION;
}

// Accepts any presented certificate: RequestClientCert and
// RequireAnyClientCert ask for one but do not verify it.
int AcceptAnyCertificate(int, X509_STORE_CTX*) { return 1; }

// The passphrase callback: a key that needs a passphrase fails to load
// instead of OpenSSL prompting on the terminal, which would block startup.
// `userdata` points to a bool set when a passphrase was asked for.
int NoPassphrase(char*, int, int, void* userdata) {
  if (userdata != nullptr) *static_cast<bool*>(userdata) = true;
  return 0;
}

// True when the latest OpenSSL error says the key and certificate differ.
bool IsKeyMismatch() {
  unsigned long code = ERR_peek_last_error();
  return ERR_GET_LIB(code) == ERR_LIB_X509 &&
         ERR_GET_REASON(code) == X509_R_KEY_VALUES_MISMATCH;
}

// "Jan  2 03:04:05 2026 GMT", OpenSSL's rendering of a certificate time.
std::string TimeText(const ASN1_TIME* t) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio == nullptr) return "?";
  std::string out = "?";
  if (ASN1_TIME_print(bio, t) == 1) {
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    if (n > 0) out.assign(data, n);
  }
  BIO_free(bio);
  return out;
}

struct CtxDeleter {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};

}  // namespace

Result<std::unique_ptr<TlsContext>> TlsContext::Create(
    const TlsServerConfig& config) {
  ERR_clear_error();
  std::unique_ptr<SSL_CTX, CtxDeleter> ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx)
    return Status::Invalid("TLS: cannot create a context: " + OpenSslError());
  SSL_CTX* c = ctx.get();
  const std::string where = "tls_server_config.";
  for (auto [key, path] :
       {std::pair{"cert_file", &config.cert_file},
        std::pair{"key_file", &config.key_file},
        std::pair{"client_ca_file", &config.client_ca_file}}) {
    if (!path->empty() && access(path->c_str(), R_OK) != 0) {
      return Status::Invalid(where + key + " " + *path + ": cannot read");
    }
  }
  if (SSL_CTX_use_certificate_chain_file(c, config.cert_file.c_str()) != 1) {
    return Status::Invalid(where + "cert_file " + config.cert_file + ": " +
                           OpenSslError());
  }
  if (X509* cert = SSL_CTX_get0_certificate(c); cert != nullptr) {
    if (X509_cmp_current_time(X509_get0_notAfter(cert)) < 0) {
      return Status::Invalid(where + "cert_file " + config.cert_file +
                             ": the certificate expired on " +
                             TimeText(X509_get0_notAfter(cert)));
    }
    if (X509_cmp_current_time(X509_get0_notBefore(cert)) > 0) {
      return Status::Invalid(where + "cert_file " + config.cert_file +
                             ": the certificate is not valid before " +
                             TimeText(X509_get0_notBefore(cert)));
    }
  }
  bool passphrase_asked = false;
  SSL_CTX_set_default_passwd_cb(c, NoPassphrase);
  SSL_CTX_set_default_passwd_cb_userdata(c, &passphrase_asked);
  int loaded =
      SSL_CTX_use_PrivateKey_file(c, config.key_file.c_str(), SSL_FILETYPE_PEM);
  SSL_CTX_set_default_passwd_cb_userdata(c, nullptr);
  if (loaded != 1) {
    if (passphrase_asked) {
      ERR_clear_error();
      return Status::Invalid(where + "key_file " + config.key_file +
                             ": the key is encrypted; a passphrase is not "
                             "supported, give an unencrypted key");
    }
    if (IsKeyMismatch()) {
      ERR_clear_error();
      return Status::Invalid(where + "key_file " + config.key_file +
                             " does not match cert_file " + config.cert_file);
    }
    return Status::Invalid(where + "key_file " + config.key_file + ": " +
                           OpenSslError());
  }
  if (SSL_CTX_check_private_key(c) != 1) {
    return Status::Invalid(where + "key_file " + config.key_file +
                           " does not match cert_file " + config.cert_file);
  }
  if (SSL_CTX_set_min_proto_version(c, ProtocolVersion(config.min_version)) !=
          1 ||
      (config.max_version &&
       SSL_CTX_set_max_proto_version(c, ProtocolVersion(*config.max_version)) !=
           1)) {
    return Status::Invalid("TLS: unsupported protocol version: " +
                           OpenSslError());
  }
  SSL_CTX_set_options(c, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                             SSL_OP_CIPHER_SERVER_PREFERENCE);
  // Needed for session resumption when client certificates are asked for.
  static const unsigned char kSessionContext[] = "pgrepl_exporter";
  SSL_CTX_set_session_id_context(c, kSessionContext,
                                 sizeof kSessionContext - 1);

  if (!config.client_ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(c, config.client_ca_file.c_str(),
                                      nullptr) != 1) {
      return Status::Invalid(where + "client_ca_file " + config.client_ca_file +
                             ": " + OpenSslError());
    }
    STACK_OF(X509_NAME)* names =
        SSL_load_client_CA_file(config.client_ca_file.c_str());
    if (names == nullptr) {
      return Status::Invalid(where + "client_ca_file " + config.client_ca_file +
                             ": no certificates");
    }
    SSL_CTX_set_client_CA_list(c, names);  // takes ownership
  }
  switch (config.client_auth) {
    case ClientAuth::kNoClientCert:
      SSL_CTX_set_verify(c, SSL_VERIFY_NONE, nullptr);
      break;
    case ClientAuth::kRequestClientCert:
      SSL_CTX_set_verify(c, SSL_VERIFY_PEER, AcceptAnyCertificate);
      break;
    case ClientAuth::kRequireAnyClientCert:
      SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                         AcceptAnyCertificate);
      break;
    case ClientAuth::kVerifyClientCertIfGiven:
      SSL_CTX_set_verify(c, SSL_VERIFY_PEER, nullptr);
      break;
    case ClientAuth::kRequireAndVerifyClientCert:
      SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                         nullptr);
      break;
  }
  ERR_clear_error();
  return std::unique_ptr<TlsContext>(new TlsContext(ctx.release()));
}

Status TlsContext::CheckCivetwebCompat() {
  // A direct reference, so the linker keeps both libraries as dependencies.
  if (pgrepl_ssl_compat_present() != 1 || pgrepl_crypto_compat_present() != 1) {
    return Status::Invalid("TLS: OpenSSL compatibility libraries not loaded");
  }
  struct Lookup {
    const char* library;
    const char* symbol;
  };
  for (const Lookup& l : {Lookup{"libssl.so", "SSL_get_peer_certificate"},
                          Lookup{"libssl.so", "SSL_CTX_new"},
                          Lookup{"libcrypto.so", "ERR_get_error"}}) {
    void* handle = dlopen(l.library, RTLD_LAZY);
    void* symbol = handle != nullptr ? dlsym(handle, l.symbol) : nullptr;
    if (handle != nullptr) dlclose(handle);
    if (symbol == nullptr) {
      return Status::Invalid(std::string("TLS: civetweb would not find ") +
                             l.symbol + " in " + l.library +
                             ": the OpenSSL compatibility library is missing "
                             "(see docs/http.md)");
    }
  }
  return Status::Ok();
}

TlsContext::~TlsContext() { SSL_CTX_free(static_cast<SSL_CTX*>(ctx_)); }

void TlsContext::EnableRotation() {
  SSL_CTX_set_client_hello_cb(static_cast<SSL_CTX*>(ctx_), SwitchOnClientHello,
                              this);
}

void TlsContext::Rotate(std::shared_ptr<const TlsContext> next) {
  std::lock_guard<std::mutex> lock(mu_);
  next_ = std::move(next);
}

int TlsContext::SwitchOnClientHello(SSL* ssl, int* alert, void* self) {
  std::shared_ptr<const TlsContext> next;
  {
    auto* front = static_cast<TlsContext*>(self);
    std::lock_guard<std::mutex> lock(front->mu_);
    next = front->next_;
  }
  if (!next) return SSL_CLIENT_HELLO_SUCCESS;
  // Called before the version is negotiated and the certificate chosen.
  // SSL_set_SSL_CTX takes the chain, key and client CAs of `ctx` and a
  // reference to it; the verify mode and versions were copied from the
  // first context when the SSL was made, so they are set again here.
  SSL_CTX* ctx = static_cast<SSL_CTX*>(next->ssl_ctx());
  if (SSL_set_SSL_CTX(ssl, ctx) != ctx ||
      SSL_set_min_proto_version(ssl, SSL_CTX_get_min_proto_version(ctx)) != 1 ||
      SSL_set_max_proto_version(ssl, SSL_CTX_get_max_proto_version(ctx)) != 1) {
    *alert = SSL_AD_INTERNAL_ERROR;
    return SSL_CLIENT_HELLO_ERROR;
  }
  SSL_set_verify(ssl, SSL_CTX_get_verify_mode(ctx),
                 SSL_CTX_get_verify_callback(ctx));
  return SSL_CLIENT_HELLO_SUCCESS;
}

}  // namespace pgrepl
