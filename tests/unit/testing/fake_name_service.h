// FakeNameService: a NameService of canned answers for unit tests, whose
// "hung" names block until the test releases them.
#ifndef PGREPL_TESTS_UNIT_TESTING_FAKE_NAME_SERVICE_H_
#define PGREPL_TESTS_UNIT_TESTING_FAKE_NAME_SERVICE_H_

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "exporter/base/status.h"
#include "exporter/pg/bounded_resolver.h"

namespace pgrepl {
namespace fixtures {

// Unknown names have no address (NXDOMAIN) and unknown addresses no name.
// A name or address in `hung` blocks its lookup until Release(), like a
// DNS server that drops every query; afterwards it answers normally.
// Thread-safe: BoundedResolver calls it from helper threads, which may
// outlive the test's objects but not this one (they hold a shared_ptr).
class FakeNameService : public NameService {
 public:
  std::map<std::string, std::vector<std::string>> addresses;  // set first
  std::map<std::string, std::string> names;                   // set first
  std::set<std::string> failing;  // temporary failures (kIo), set first
  std::set<std::string> hung;     // set first

  Result<std::vector<std::string>> Addresses(const std::string& host) override {
    Enter(host);
    if (failing.count(host)) return Status::Io("resolving " + host + ": again");
    auto it = addresses.find(host);
    return it == addresses.end() ? std::vector<std::string>{} : it->second;
  }

  Result<std::string> Name(const std::string& address) override {
    Enter(address);
    if (failing.count(address)) return Status::Io("reverse: again");
    auto it = names.find(address);
    return it == names.end() ? std::string() : it->second;
  }

  // Lets every hung lookup, present and future, answer.
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    released_ = true;
    cv_.notify_all();
  }

  // Waits (at most `limit`) until no lookup is inside the service.
  bool WaitIdle(std::chrono::milliseconds limit) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, limit, [this] { return inside_ == 0; });
  }

  // Lookups started for `key` (a name or an address).
  int calls(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_[key];
  }

 private:
  void Enter(const std::string& key) {
    std::unique_lock<std::mutex> lock(mu_);
    calls_[key]++;
    if (hung.count(key)) {
      inside_++;
      cv_.wait(lock, [this] { return released_; });
      inside_--;
      cv_.notify_all();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false;             // GUARDED_BY(mu_)
  int inside_ = 0;                    // GUARDED_BY(mu_)
  std::map<std::string, int> calls_;  // GUARDED_BY(mu_)
};

// Releases the fake's hung lookups when a test ends, and waits for them,
// so no helper thread outlives the test still blocked.
class ReleaseOnExit {
 public:
  explicit ReleaseOnExit(FakeNameService* fake) : fake_(fake) {}
  ~ReleaseOnExit() {
    fake_->Release();
    fake_->WaitIdle(std::chrono::seconds(5));
  }

 private:
  FakeNameService* fake_;  // not own
};

}  // namespace fixtures
}  // namespace pgrepl

#endif  // PGREPL_TESTS_UNIT_TESTING_FAKE_NAME_SERVICE_H_
