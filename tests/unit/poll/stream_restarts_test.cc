// Tests for exporter/poll/stream_restarts: which receiver processes count as
// a new stream.
#include "exporter/poll/stream_restarts.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace pgrepl {
namespace {

std::optional<WalReceiverInfo> Receiver(int pid, const char* status,
                                        double start = 100.5) {
  WalReceiverInfo w;
  w.pid = pid;
  w.status = status;
  w.postmaster_start = start;
  return w;
}

TEST(StreamRestarts, FirstStreamingReceiverIsNotARestart) {
  StreamRestarts r;
  EXPECT_FALSE(r.Observe(std::nullopt));
  EXPECT_FALSE(r.Observe(Receiver(10, "streaming")));
  EXPECT_FALSE(r.Observe(Receiver(10, "streaming")));  // same process
}

TEST(StreamRestarts, NewPidIsARestart) {
  StreamRestarts r;
  r.Observe(Receiver(10, "streaming"));
  EXPECT_TRUE(r.Observe(Receiver(11, "streaming")));
  EXPECT_FALSE(r.Observe(Receiver(11, "streaming")));
  EXPECT_TRUE(r.Observe(Receiver(10, "streaming")));
}

TEST(StreamRestarts, SamePidAfterAPostmasterRestartIsARestart) {
  // A container restart can hand the new receiver the old pid.
  StreamRestarts r;
  r.Observe(Receiver(42, "streaming", 100.5));
  EXPECT_TRUE(r.Observe(Receiver(42, "streaming", 900.25)));
}

TEST(StreamRestarts, AnOutageCountsOnce) {
  StreamRestarts r;
  r.Observe(Receiver(10, "streaming"));
  // Failed attempts while the upstream is away: each a new process.
  EXPECT_FALSE(r.Observe(std::nullopt));
  EXPECT_FALSE(r.Observe(Receiver(11, "starting")));
  EXPECT_FALSE(r.Observe(Receiver(12, "waiting")));
  EXPECT_FALSE(r.Observe(std::nullopt));
  EXPECT_TRUE(r.Observe(Receiver(13, "streaming")));
  EXPECT_FALSE(r.Observe(Receiver(13, "streaming")));
}

TEST(StreamRestarts, UnknownPidIsIgnored) {
  StreamRestarts r;
  r.Observe(Receiver(10, "streaming"));
  WalReceiverInfo no_pid;
  no_pid.status = "streaming";
  EXPECT_FALSE(r.Observe(no_pid));
  EXPECT_FALSE(r.Observe(Receiver(10, "streaming")));
}

TEST(StreamRestarts, ResetForgetsTheLastReceiver) {
  StreamRestarts r;
  r.Observe(Receiver(10, "streaming"));
  r.Reset();  // promoted, later re-attached as a replica
  EXPECT_FALSE(r.Observe(Receiver(20, "streaming")));
  EXPECT_TRUE(r.Observe(Receiver(21, "streaming")));
}

}  // namespace
}  // namespace pgrepl
