// BoundedResolver: host name lookups that never block past a deadline.
#ifndef PGREPL_EXPORTER_PG_BOUNDED_RESOLVER_H_
#define PGREPL_EXPORTER_PG_BOUNDED_RESOLVER_H_

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "exporter/base/status.h"

namespace pgrepl {

// The blocking name service: getaddrinfo and getnameinfo in production
// (SystemNameService), a stand-in in unit tests. A call may block for as
// long as the system resolver likes (a DNS server that drops queries holds
// it for attempts x timeout of resolv.conf); BoundedResolver bounds the
// wait for it, not the call. Implementations must be safe to call from
// several threads at once.
class NameService {
 public:
  virtual ~NameService() = default;

  // The numeric addresses of `host`, IPv4 and IPv6, duplicates removed, in
  // the resolver's order. Empty when the name does not exist or has no
  // address; kIo on a temporary failure (the message names the host).
  virtual Result<std::vector<std::string>> Addresses(
      const std::string& host) = 0;

  // The name the numeric `address` resolves back to (its PTR record);
  // empty when it has none. kIo on a temporary failure.
  virtual Result<std::string> Name(const std::string& address) = 0;
};

// getaddrinfo (AF_UNSPEC, SOCK_STREAM) and getnameinfo (NI_NAMEREQD).
std::shared_ptr<NameService> SystemNameService();

// True when `host` is a numeric IPv4 or IPv6 address (no lookup needed).
bool IsIpLiteral(const std::string& host);

// Runs each lookup on a helper thread and waits for it until a deadline.
// getaddrinfo cannot be interrupted: a lookup that outlives its deadline
// finishes on its own later and its answer is dropped. A hung resolver
// never piles up threads: while the previous lookup of a name by this
// BoundedResolver still runs, a new lookup of that name fails at once
// with kTimeout instead of starting another. Safe to call from any thread;
// destroying it never waits for a running lookup.
class BoundedResolver {
 public:
  using Clock = std::chrono::steady_clock;

  explicit BoundedResolver(
      std::shared_ptr<NameService> service = SystemNameService());
  BoundedResolver(const BoundedResolver&) = delete;
  BoundedResolver& operator=(const BoundedResolver&) = delete;

  // NameService::Addresses within `deadline`; an IP literal is its own
  // answer, at once. Errors: kTimeout (deadline passed, or an earlier
  // lookup of `host` still runs), kIo (the service's temporary failure,
  // or no thread could be started).
  Result<std::vector<std::string>> Addresses(const std::string& host,
                                             Clock::time_point deadline);

  // NameService::Name within `deadline`; errors as for Addresses.
  Result<std::string> Name(const std::string& address,
                           Clock::time_point deadline);

 private:
  struct Pending;
  using Lookup = std::function<Result<std::vector<std::string>>()>;

  // Runs `lookup` on a helper thread unless one for `key` still runs, and
  // waits for its answer until `deadline`. `what` names it in errors.
  Result<std::vector<std::string>> Run(const std::string& key,
                                       const std::string& what,
                                       Clock::time_point deadline,
                                       Lookup lookup);

  const std::shared_ptr<NameService> service_;
  std::mutex mu_;
  // Lookups started and not yet collected, by key. GUARDED_BY(mu_)
  std::map<std::string, std::shared_ptr<Pending>> running_;
};

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_PG_BOUNDED_RESOLVER_H_
