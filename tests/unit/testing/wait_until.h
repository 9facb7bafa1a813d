// WaitUntil: waits for a condition that another thread makes true, with a
// generous deadline instead of a fixed sleep.
#ifndef PGREPL_TESTS_UNIT_TESTING_WAIT_UNTIL_H_
#define PGREPL_TESTS_UNIT_TESTING_WAIT_UNTIL_H_

#include <chrono>
#include <functional>
#include <thread>

namespace pgrepl {

// Checks `done` every millisecond until it holds or `timeout` has passed;
// returns its last answer, so a test can ASSERT_TRUE(WaitUntil(...)).
inline bool WaitUntil(
    const std::function<bool()>& done,
    std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return done();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

}  // namespace pgrepl

#endif  // PGREPL_TESTS_UNIT_TESTING_WAIT_UNTIL_H_
