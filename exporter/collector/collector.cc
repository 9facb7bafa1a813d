// Collector: the default carry-forward of a reading between full polls.
#include "exporter/collector/collector.h"

#include "exporter/model/snapshot.h"

namespace pgrepl {

void Collector::CarryForward(const InstanceSnapshot& last,
                             InstanceSnapshot* s) const {
  auto it = last.readings.find(name());
  if (it != last.readings.end()) s->readings[name()] = it->second;
}

}  // namespace pgrepl
