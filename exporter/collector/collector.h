// Collector: one PostgreSQL view's SQL, parser and metrics, as one unit.
#ifndef PGREPL_EXPORTER_COLLECTOR_COLLECTOR_H_
#define PGREPL_EXPORTER_COLLECTOR_COLLECTOR_H_

#include <memory>
#include <vector>

#include "exporter/base/status.h"

namespace pgrepl {

class MetricSink;
class RowSource;
struct InstanceSnapshot;

// Update() runs on the instance's poller thread and fills its part of the
// snapshot; Emit() runs on an HTTP thread and renders that part. Emit()
// must not touch a database, throw, or keep state: it only reads `s`.
class Collector {
 public:
  virtual ~Collector() = default;
  virtual const char* name() const = 0;
  virtual Status Update(RowSource& db, InstanceSnapshot* s) const = 0;
  // `sink` carries the cluster and instance labels already.
  virtual void Emit(const InstanceSnapshot& s, MetricSink& sink) const = 0;
};

// Every collector, in poll order. The first one decides `up`.
std::vector<std::unique_ptr<Collector>> DefaultCollectors();

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_COLLECTOR_COLLECTOR_H_
