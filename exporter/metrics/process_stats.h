// ProcessStats: the exporter's own CPU, memory and file descriptors.
#ifndef PGREPL_EXPORTER_METRICS_PROCESS_STATS_H_
#define PGREPL_EXPORTER_METRICS_PROCESS_STATS_H_

#include <optional>
#include <string>

namespace pgrepl {

struct ProcessStats {
  double cpu_seconds = 0;
  double resident_bytes = 0;
  double virtual_bytes = 0;
  double start_time_seconds = 0;  // Unix time
  double open_fds = 0;
  double max_fds = 0;
};

// Parses the text of /proc/self/stat (see proc(5)). Exposed for tests.
// `ticks_per_second` and `page_size` come from sysconf; `boot_time` is
// btime from /proc/stat.
std::optional<ProcessStats> ParseProcStat(const std::string& stat,
                                          long ticks_per_second, long page_size,
                                          double boot_time);

// Reads the current process's figures; nullopt when /proc is unreadable.
std::optional<ProcessStats> ReadProcessStats();

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_METRICS_PROCESS_STATS_H_
