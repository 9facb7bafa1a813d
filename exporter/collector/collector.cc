// The list of collectors, in poll order.
#include "exporter/collector/collector.h"

#include "exporter/collector/pg_is_in_recovery.h"

namespace pgrepl {

std::vector<std::unique_ptr<Collector>> DefaultCollectors() {
  std::vector<std::unique_ptr<Collector>> out;
  out.push_back(std::make_unique<PgIsInRecoveryCollector>());
  return out;
}

}  // namespace pgrepl
