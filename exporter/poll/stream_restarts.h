// StreamRestarts: counts WAL receiver processes that took over a replica's
// stream, even when the break was shorter than a poll interval.
#ifndef PGREPL_EXPORTER_POLL_STREAM_RESTARTS_H_
#define PGREPL_EXPORTER_POLL_STREAM_RESTARTS_H_

#include <optional>

#include "exporter/model/view_rows.h"

namespace pgrepl {

// Counts how often a different receiver process took over the stream: one
// that streams with a (postmaster start, pid) other than the last streaming
// one. The first streaming receiver seen is not counted, and receivers that
// never reach streaming (the failed attempts of an outage) are ignored, so
// an outage of any length counts once.
class StreamRestarts {
 public:
  // Returns true when `w` is a new streaming receiver process.
  bool Observe(const std::optional<WalReceiverInfo>& w);
  // Forget the last receiver (the instance changed role).
  void Reset() { last_.reset(); }

 private:
  struct Process {
    int pid;
    std::optional<double> postmaster_start;
    bool operator==(const Process& o) const {
      return pid == o.pid && postmaster_start == o.postmaster_start;
    }
  };
  std::optional<Process> last_;
};

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_POLL_STREAM_RESTARTS_H_
