// Collector for pg_stat_wal_receiver: a replica's stream from its upstream,
// and the names it uses there (application_name, slot).
#ifndef PGREPL_EXPORTER_COLLECTOR_PG_STAT_WAL_RECEIVER_H_
#define PGREPL_EXPORTER_COLLECTOR_PG_STAT_WAL_RECEIVER_H_

#include <cstdint>
#include <optional>
#include <string>

#include "exporter/collector/collector.h"
#include "exporter/pg/rows.h"

namespace pgrepl {

// The WAL receiver's row. Absent (nullopt in the snapshot) when no WAL
// receiver process runs, which on a replica means the stream is down.
struct WalReceiverInfo {
  std::string status;  // streaming, starting, waiting, restarting, stopping
  std::optional<int> pid;
  // pg_postmaster_start_time() as epoch seconds: with the pid, it names the
  // receiver process even across a container restart that reuses pids.
  std::optional<double> postmaster_start;
  std::optional<uint32_t> received_tli;
  std::optional<uint64_t> flushed_lsn;  // received_lsn before PostgreSQL 13
  std::optional<uint64_t> written_lsn;  // PostgreSQL 13+
  std::optional<double> last_msg_age;   // seconds, replica clock only
  std::string upstream_host;
  std::string upstream_port;
  std::string slot;
};

// How the replica names itself to its upstream, read from its settings.
struct ReplicaIdentity {
  std::string standby_name;  // application_name the upstream will show
  std::string slot;          // primary_slot_name, "" when none
};

std::string WalReceiverSql(int server_version_num);
std::string IdentitySql();

// Parses at most one receiver row; `out` is reset when there is none.
Status ParseWalReceiver(const Rows& rows, std::optional<WalReceiverInfo>* out);

// The standby name the upstream sees: application_name in
// primary_conninfo, else cluster_name, else "walreceiver" (PostgreSQL's
// rule). `primary_conninfo` may hold a password: it is parsed here and
// dropped, never stored or logged.
Status ParseIdentity(const Rows& rows, ReplicaIdentity* out);

// Counts how often a different receiver process took over the stream: one
// that streams with a (postmaster start, pid) other than the last streaming
// one. The first streaming receiver seen is not counted, and receivers that
// never reach streaming (the failed attempts of an outage) are ignored, so
// an outage of any length counts once.
class StreamRestarts {
 public:
  // Returns true when `w` is a new streaming receiver process.
  bool Observe(const std::optional<WalReceiverInfo>& w);
  // Forget the last receiver (the instance changed role).
  void Reset() { last_.reset(); }

 private:
  struct Process {
    int pid;
    std::optional<double> postmaster_start;
    bool operator==(const Process& o) const {
      return pid == o.pid && postmaster_start == o.postmaster_start;
    }
  };
  std::optional<Process> last_;
};

class PgStatWalReceiverCollector : public Collector {
 public:
  const char* name() const override { return "pg_stat_wal_receiver"; }
  // Runs on replicas only; on a primary it clears the receiver state.
  Status Update(RowSource& db, InstanceSnapshot* s) const override;
  void Emit(const InstanceSnapshot& s, MetricSink& sink) const override;
};

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_COLLECTOR_PG_STAT_WAL_RECEIVER_H_
