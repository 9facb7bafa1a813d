// bcrypt password hashes through libcrypt (libxcrypt): checking a hash and
// verifying a password against it.
#ifndef PGREPL_EXPORTER_BASE_BCRYPT_H_
#define PGREPL_EXPORTER_BASE_BCRYPT_H_

#include <string>
#include <string_view>

namespace pgrepl {

// The highest bcrypt cost accepted in a configured hash. Every request
// with credentials not yet cached pays one bcrypt at the hash's cost: 14 is
// about 1 s on one core, and each step above doubles it; cost 31 would take
// days. exporter-toolkit's documentation suggests 10 (htpasswd -B -C 10).
inline constexpr int kMaxBcryptCost = 14;

// The cost of a bcrypt hash: 10 for "$2b$10$...". -1 when `hash` does not
// start with "$2a$", "$2b$" or "$2y$" and two digits and '$'. Costs nothing.
int BcryptCost(const std::string& hash);

// A bcrypt hash of `cost` (4..31) with a random salt that no password is
// expected to match: VerifyBcrypt against it costs what a real hash of the
// same cost does. Empty when libcrypt cannot make a salt.
std::string BcryptDummyHash(int cost);

// True for a bcrypt hash ($2a$, $2b$, $2y$) that libcrypt can use. Costs
// one bcrypt computation at the hash's cost. Safe to call from any thread.
bool IsSupportedBcryptHash(const std::string& hash);

// True when crypt(password, hash) reproduces `hash`, compared in constant
// time. False for a password holding '\0' and for a hash libcrypt rejects.
// Safe to call from any thread.
bool VerifyBcrypt(std::string_view password, const std::string& hash);

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_BASE_BCRYPT_H_
