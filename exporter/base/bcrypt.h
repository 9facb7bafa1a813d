// bcrypt password hashes through libcrypt (libxcrypt): checking a hash and
// verifying a password against it.
#ifndef PGREPL_EXPORTER_BASE_BCRYPT_H_
#define PGREPL_EXPORTER_BASE_BCRYPT_H_

#include <string>
#include <string_view>

namespace pgrepl {

// True for a bcrypt hash ($2a$, $2b$, $2y$) that libcrypt can use. Costs
// one bcrypt computation at the hash's cost. Safe to call from any thread.
bool IsSupportedBcryptHash(const std::string& hash);

// True when crypt(password, hash) reproduces `hash`, compared in constant
// time. False for a password holding '\0' and for a hash libcrypt rejects.
// Safe to call from any thread.
bool VerifyBcrypt(std::string_view password, const std::string& hash);

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_BASE_BCRYPT_H_
