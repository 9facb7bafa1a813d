// ExporterMetrics: renders the latest snapshots as Prometheus families.
#ifndef PGREPL_EXPORTER_METRICS_EXPORTER_METRICS_H_
#define PGREPL_EXPORTER_METRICS_EXPORTER_METRICS_H_

#include <prometheus/collectable.h>

#include <memory>
#include <vector>

#include "exporter/collector/collector.h"

namespace pgrepl {

class SnapshotStore;

// A prometheus::Collectable built from the SnapshotStore on every call:
// nothing is cached between scrapes, so an instance removed from the fleet
// loses its series at once. Collect() never touches a database and never
// throws. Safe to call from several HTTP threads at once.
class ExporterMetrics : public prometheus::Collectable {
 public:
  ExporterMetrics(
      const SnapshotStore* store,                                  // not own
      const std::vector<std::unique_ptr<Collector>>* collectors);  // not own
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const SnapshotStore* const store_;
  const std::vector<std::unique_ptr<Collector>>* const collectors_;
};

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_METRICS_EXPORTER_METRICS_H_
