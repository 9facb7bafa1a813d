// Fuzz target for the config file parser, ParseConfigJson
// (exporter/config/config_file.cc), followed by Validate on the clusters it
// returns, and the same text through ParseCommandLine
// (exporter/config/flags.cc) as --config.file (an in-memory file).
// Properties:
//  - no crash, leak or undefined behaviour on any text;
//  - ParseCommandLine's errors are one line, as it promises (main prints
//    them as the one line of a startup error);
//  - a parsed config has a conninfo libpq accepts and a non-empty name
//    for every instance, and the primary first;
//  - a replica_discovery port is the number the file gives (checked
//    against nlohmann's own reading), or the parser rejects it.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "exporter/config/config_file.h"
#include "exporter/config/flags.h"
#include "exporter/pg/conninfo.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

// The port the file gives for clusters[index], when it is an integer.
bool FilePort(const std::string& text, size_t index, long double* port) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return false;
  const auto& d = j["clusters"][index]["replica_discovery"];
  if (!d.contains("port") || !d["port"].is_number_integer()) return false;
  *port = d["port"].is_number_unsigned()
              ? static_cast<long double>(d["port"].get<uint64_t>())
              : static_cast<long double>(d["port"].get<int64_t>());
  return true;
}

// ParseCommandLine with `text` as the --config.file and no environment.
void CheckCommandLine(const std::string& text) {
  int fd = memfd_create("pgrepl-fuzz-config", 0);
  FUZZ_CHECK(fd >= 0, "memfd_create");
  FUZZ_CHECK(
      write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()),
      "write");
  std::string flag = "--config.file=/proc/self/fd/" + std::to_string(fd);
  const char* argv[] = {"pgrepl_exporter", flag.c_str()};
  auto cl = pgrepl::ParseCommandLine(
      2, argv, [](const char*) -> const char* { return nullptr; });
  close(fd);
  FUZZ_CHECK(cl.ok() || pgrepl::fuzz::OneLine(cl.status().message()),
             cl.status().message());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto clusters = pgrepl::ParseConfigJson(text, "default");
  // Most mutants are not JSON; that error is fixed text, so the slower
  // ParseCommandLine round is kept for the rest.
  if (clusters.ok() ||
      clusters.status().message() != "config file: not valid JSON") {
    CheckCommandLine(text);
  }
  if (!clusters.ok()) return 0;
  for (size_t i = 0; i < clusters.value().size(); ++i) {
    const pgrepl::ClusterConfig& c = clusters.value()[i];
    for (size_t k = 0; k < c.instances.size(); ++k) {
      const pgrepl::InstanceTarget& t = c.instances[k];
      FUZZ_CHECK(!t.name.empty(), "instance without a name");
      FUZZ_CHECK(pgrepl::ParseConninfo(t.conninfo).ok(),
                 "unparseable conninfo kept");
      FUZZ_CHECK(!t.configured_primary || k == 0, "primary not first");
    }
    long double port = 0;
    if (!c.discovery.host.empty() && FilePort(text, i, &port)) {
      FUZZ_CHECK(port == c.discovery.port,
                 "discovery port " + std::to_string(c.discovery.port) +
                     " is not the file's " +
                     std::to_string(static_cast<double>(port)));
    }
  }
  pgrepl::Config config;
  config.clusters = clusters.value();
  (void)pgrepl::Validate(config);
  return 0;
}
