// The JSON config file (--config.file): clusters with named instances and
// replica discovery, as documented in README.md ("Running the exporter").
#ifndef PGREPL_EXPORTER_CONFIG_CONFIG_FILE_H_
#define PGREPL_EXPORTER_CONFIG_CONFIG_FILE_H_

#include <string>
#include <vector>

#include "exporter/base/status.h"
#include "exporter/config/config.h"

namespace pgrepl {

// Parses the config file's text into clusters. `default_cluster` names
// clusters that give no name. A sample:
//   {"clusters": [
//     {"name": "payments",
//      "primary": {"name": "primary", "conninfo": "host=10.0.0.1"},
//      "replicas": ["host=10.0.0.2", {"name": "r2", "conninfo": "host=r2"}],
//      "replica_discovery": {"host": "replicas.svc", "port": 5432,
//                            "conninfo": "user=pgrepl_monitor"}}]}
// An instance given as a bare conninfo is named host:port. Unknown keys
// are errors. Errors start with "config file: " and may quote keys and
// names from the text (ParseCommandLine makes them one line); they never
// quote a conninfo. Does not Validate (duplicates, empty clusters).
Result<std::vector<ClusterConfig>> ParseConfigJson(
    const std::string& text, const std::string& default_cluster);

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_CONFIG_CONFIG_FILE_H_
