// ProcessStats: the exporter's own CPU, memory and file descriptors.
#include "exporter/metrics/process_stats.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <vector>

namespace pgrepl {

// Sample (fields after the parenthesised command name, which may itself
// hold spaces and parentheses):
//   1234 (pgrepl_exporter) S 1 1234 ... 14:utime 15:stime ... 22:starttime
//   23:vsize 24:rss ...
std::optional<ProcessStats> ParseProcStat(const std::string& stat,
                                          long ticks_per_second, long page_size,
                                          double boot_time) {
  size_t close = stat.rfind(')');
  if (close == std::string::npos || ticks_per_second <= 0) return std::nullopt;
  std::istringstream in(stat.substr(close + 1));
  std::vector<std::string> f;  // f[0] is field 3 (state)
  std::string tok;
  while (in >> tok) f.push_back(tok);
  if (f.size() < 22) return std::nullopt;
  try {
    ProcessStats s;
    s.cpu_seconds = (std::stod(f[11]) + std::stod(f[12])) / ticks_per_second;
    s.start_time_seconds = boot_time + std::stod(f[19]) / ticks_per_second;
    s.virtual_bytes = std::stod(f[20]);
    s.resident_bytes = std::stod(f[21]) * page_size;
    return s;
  } catch (...) {
    return std::nullopt;
  }
}

std::optional<ProcessStats> ReadProcessStats() {
  std::ifstream stat_file("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(stat_file)),
                   std::istreambuf_iterator<char>());
  double boot_time = 0;
  std::ifstream proc_stat("/proc/stat");
  for (std::string line; std::getline(proc_stat, line);) {
    if (line.rfind("btime ", 0) == 0) boot_time = std::stod(line.substr(6));
  }
  auto s = ParseProcStat(stat, sysconf(_SC_CLK_TCK), sysconf(_SC_PAGESIZE),
                         boot_time);
  if (!s) return std::nullopt;
  if (DIR* d = opendir("/proc/self/fd")) {
    int n = 0;
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] != '.') ++n;
    }
    closedir(d);
    s->open_fds = n - 1;  // minus the descriptor of the listing itself
  }
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
    s->max_fds = static_cast<double>(rl.rlim_cur);
  return s;
}

}  // namespace pgrepl
