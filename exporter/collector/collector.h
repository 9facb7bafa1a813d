// Collector: one PostgreSQL view's SQL, parser and metrics, as one unit.
#ifndef PGREPL_EXPORTER_COLLECTOR_COLLECTOR_H_
#define PGREPL_EXPORTER_COLLECTOR_COLLECTOR_H_

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "exporter/base/status.h"

namespace pgrepl {

class MetricSink;
class RowSource;
struct ClusterHistory;
struct InstanceSnapshot;

// What a poll hands every collector besides the database.
struct PollContext {
  // The positions the pollers of this instance's cluster share; null when
  // the poll has none (unit tests of collectors that do not use it).
  ClusterHistory* history = nullptr;  // not own
  // How long a position recorded by one source stays the reference.
  std::chrono::steady_clock::duration keep_source{};
  // True on a new session and every few polls: statements that read what
  // cannot change while the server runs (settings, version) are due. A
  // collector that skips them keeps its last answer in a sticky reading.
  bool refresh_static = true;
};

// What the poller knows before it sends a poll's statements.
struct StatementPlan {
  int server_version_num = 0;  // of the current session
  bool refresh_static = true;  // as PollContext::refresh_static
};

// Update() runs on the instance's poller thread and fills its part of the
// snapshot; Emit() runs on an HTTP thread and renders that part. Emit()
// must not touch a database, throw, or keep state: it only reads `s`.
class Collector {
 public:
  virtual ~Collector() = default;
  virtual const char* name() const = 0;
  // True for the one collector that reads the instance's role. It runs
  // first; `up` is its success, and when it fails no other collector runs.
  virtual bool ReadsRole() const { return false; }
  // Every statement Update() may run this poll, in order, so that the
  // poller can send them all in one round trip and answer Update()'s
  // queries from the results. Update() must use exactly these texts; a
  // statement not declared here costs a round trip of its own. Each must
  // be valid on a primary and on a replica.
  virtual std::vector<std::string> Statements(const StatementPlan&) const {
    return {};
  }
  virtual Status Update(RowSource& db, const PollContext& ctx,
                        InstanceSnapshot* s) const = 0;
  // `sink` carries the cluster and instance labels already.
  virtual void Emit(const InstanceSnapshot& s, MetricSink& sink) const = 0;
};

// Which optional collectors run (from Config).
struct CollectorOptions {
  bool heartbeat = false;    // --heartbeat
  std::string heartbeat_id;  // --heartbeat.id, already validated
};

// Every enabled collector, in poll order: the role collector first.
std::vector<std::unique_ptr<Collector>> DefaultCollectors(
    const CollectorOptions& options = {});

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_COLLECTOR_COLLECTOR_H_
