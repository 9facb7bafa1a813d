// BoundedResolver: host name lookups that never block past a deadline.
#include "exporter/pg/bounded_resolver.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <condition_variable>
#include <set>
#include <system_error>
#include <thread>
#include <utility>

namespace pgrepl {
namespace {

class SystemNames : public NameService {
 public:
  Result<std::vector<std::string>> Addresses(const std::string& host) override {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    int rc = getaddrinfo(host.c_str(), nullptr, &hints, &res);
    if (rc == EAI_NONAME || rc == EAI_NODATA) {
      return std::vector<std::string>{};
    }
    if (rc != 0) {
      return Status::Io("resolving " + host + ": " + gai_strerror(rc));
    }
    std::set<std::string> seen;
    std::vector<std::string> out;
    for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
      char addr[NI_MAXHOST];
      if (getnameinfo(a->ai_addr, a->ai_addrlen, addr, sizeof addr, nullptr, 0,
                      NI_NUMERICHOST) != 0) {
        continue;
      }
      if (seen.insert(addr).second) out.push_back(addr);
    }
    freeaddrinfo(res);
    return out;
  }

  Result<std::string> Name(const std::string& address) override {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST;
    addrinfo* res = nullptr;
    if (getaddrinfo(address.c_str(), nullptr, &hints, &res) != 0) {
      return std::string();  // not an address: it has no name
    }
    char name[NI_MAXHOST];
    int rc = getnameinfo(res->ai_addr, res->ai_addrlen, name, sizeof name,
                         nullptr, 0, NI_NAMEREQD);
    freeaddrinfo(res);
    if (rc == 0) return std::string(name);
    // "Try again": the name may well exist. Anything else: it has none.
    if (rc == EAI_AGAIN) {
      return Status::Io("reverse lookup of " + address + ": " +
                        gai_strerror(rc));
    }
    return std::string();
  }
};

}  // namespace

std::shared_ptr<NameService> SystemNameService() {
  return std::make_shared<SystemNames>();
}

bool IsIpLiteral(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 ||
         inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

// One lookup's answer, shared by the helper thread and its waiter, so
// either may finish last.
struct BoundedResolver::Pending {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;  // GUARDED_BY(mu)
  Result<std::vector<std::string>> answer = Status::Io("no answer");
};

BoundedResolver::BoundedResolver(std::shared_ptr<NameService> service)
    : service_(std::move(service)) {}

Result<std::vector<std::string>> BoundedResolver::Addresses(
    const std::string& host, Clock::time_point deadline) {
  if (IsIpLiteral(host)) return std::vector<std::string>{host};
  return Run("addr:" + host, "resolving " + host, deadline,
             [service = service_, host] { return service->Addresses(host); });
}

Result<std::string> BoundedResolver::Name(const std::string& address,
                                          Clock::time_point deadline) {
  auto r =
      Run("name:" + address, "reverse lookup of " + address, deadline,
          [service = service_, address]() -> Result<std::vector<std::string>> {
            auto name = service->Name(address);
            if (!name.ok()) return name.status();
            return std::vector<std::string>{name.value()};
          });
  if (!r.ok()) return r.status();
  return r.value().empty() ? std::string() : r.value().front();
}

Result<std::vector<std::string>> BoundedResolver::Run(
    const std::string& key, const std::string& what, Clock::time_point deadline,
    Lookup lookup) {
  std::shared_ptr<Pending> pending;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Forget lookups that finished after their callers gave up.
    std::erase_if(running_, [](const auto& entry) {
      std::lock_guard<std::mutex> l(entry.second->mu);
      return entry.second->done;
    });
    if (running_.count(key) != 0) {
      return Status::Timeout(what +
                             " timed out: the previous lookup still runs");
    }
    if (Clock::now() >= deadline) return Status::Timeout(what + " timed out");
    pending = std::make_shared<Pending>();
    try {
      std::thread([pending, lookup = std::move(lookup)] {
        auto answer = lookup();
        std::lock_guard<std::mutex> l(pending->mu);
        pending->answer = std::move(answer);
        pending->done = true;
        pending->cv.notify_all();
      }).detach();
    } catch (const std::system_error&) {
      return Status::Io(what + ": cannot start a lookup thread");
    }
    running_[key] = pending;
  }
  std::unique_lock<std::mutex> l(pending->mu);
  if (!pending->cv.wait_until(l, deadline, [&] { return pending->done; })) {
    return Status::Timeout(what + " timed out");  // it stays in running_
  }
  auto answer = std::move(pending->answer);
  l.unlock();
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = running_.find(key);
      it != running_.end() && it->second == pending) {
    running_.erase(it);
  }
  return answer;
}

}  // namespace pgrepl
