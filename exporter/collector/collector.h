// Collector: one PostgreSQL view's SQL, parser and metrics, as one unit.
#ifndef PGREPL_EXPORTER_COLLECTOR_COLLECTOR_H_
#define PGREPL_EXPORTER_COLLECTOR_COLLECTOR_H_

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "exporter/base/status.h"
#include "exporter/model/replica_state.h"

namespace pgrepl {

class MetricSink;
class RowSource;
struct ClusterHistory;
struct InstanceSnapshot;

// What the poller knows before it sends a poll's statements, and again
// (with the role just read) before each Update().
struct StatementPlan {
  int server_version_num = 0;  // of the current session
  // True on a full poll: every collector reads everything it has. Full
  // polls are a new session's first, the one after a failed poll or a
  // role change, and every Poller::kFullPollEvery-th. The polls between
  // skip what changes slowly or not at all while the server runs
  // (settings, counters behind alerts that wait minutes): a collector
  // that skips keeps its last reading (Collector::Due, CarryForward).
  bool full = true;
  // The instance's role: the previous poll's when the statements are
  // chosen, this poll's when Update() runs; kUnknown when not known (a
  // new session's first poll, or after a poll that did not read it).
  Role role = Role::kUnknown;
  // The previous poll's snapshot when it read the role, in this role: set
  // whenever `full` is false; null on a poll that saw the role change.
  const InstanceSnapshot* last = nullptr;  // not own
};

// What a poll hands every collector besides the database.
struct PollContext {
  // The positions the pollers of this instance's cluster share; null when
  // the poll has none (unit tests of collectors that do not use it).
  ClusterHistory* history = nullptr;  // not own
  // How long a position recorded by one source stays the reference.
  std::chrono::steady_clock::duration keep_source{};
  // The plan of this poll, its role the one just read.
  StatementPlan plan;
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
  // Whether the collector reads this poll (default: every poll). Asked
  // twice with the same plan but for its role: before the statements are
  // sent (the previous poll's role) and before Update() (this poll's). A
  // collector that is not due is not updated; the poller copies its last
  // reading forward instead (CarryForward).
  virtual bool Due(const StatementPlan&) const { return true; }
  // Every statement Update() may run this poll, in order, so that the
  // poller can send them all in one round trip and answer Update()'s
  // queries from the results. Update() must use exactly these texts; a
  // statement not declared here costs a round trip of its own (as when
  // the role changed between two polls). Each must be a read-only
  // SELECT, valid on a primary and on a replica: the batch runs in one
  // transaction. Asked only when Due().
  virtual std::vector<std::string> Statements(const StatementPlan&) const {
    return {};
  }
  // Copies what the collector read in `last` into `s`, for a poll it is
  // not due in. The default copies its entry of InstanceSnapshot::readings.
  virtual void CarryForward(const InstanceSnapshot& last,
                            InstanceSnapshot* s) const;
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
