// A libpq connection whose every operation is bounded by a deadline.
#ifndef PGREPL_EXPORTER_PG_CONNECTION_H_
#define PGREPL_EXPORTER_PG_CONNECTION_H_

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "exporter/base/status.h"
#include "exporter/pg/bounded_resolver.h"
#include "exporter/pg/host_list.h"
#include "exporter/pg/prepared_statements.h"
#include "exporter/pg/rows.h"
#include "exporter/pg/session.h"

typedef struct pg_conn PGconn;

namespace pgrepl {

// One persistent session to one instance. Connect and Query never block
// past their deadline, whatever the server does (even when it is stopped
// with SIGSTOP): they drive libpq's asynchronous API with poll(2).
// After a timeout or a broken socket the session is closed, so the next
// call starts from a clean state. Not thread-safe: one owner thread.
//
// libpq resolves host names synchronously inside PQconnectStartParams,
// where no deadline reaches, so Connect resolves them first, bounded by
// its deadline (BoundedResolver), and hands libpq the addresses as
// hostaddr beside the names (see PinHostAddresses). Host names that come
// from a service file are still resolved by libpq.
class Connection : public Session {
 public:
  // `password` is used only when the conninfo sets none; may be empty.
  // `names` resolves host names (the system resolver by default).
  Connection(std::string conninfo, std::string password,
             std::shared_ptr<NameService> names = SystemNameService());
  ~Connection() override;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  bool connected() const override { return conn_ != nullptr; }

  // Opens the session and applies the session settings (read-only,
  // statement_timeout, lock_timeout). Errors are kConnect or kTimeout; a
  // host name lookup that outlives the deadline (or whose previous lookup
  // still runs) is kTimeout, one that fails is kConnect.
  Status Connect(Clock::time_point deadline,
                 std::chrono::milliseconds statement_timeout) override;

  // Runs one SQL statement. Errors are kQuery or kTimeout; on kTimeout or
  // a lost connection the session is closed.
  Result<Rows> Query(const std::string& sql,
                     Clock::time_point deadline) override;

  // Sends every statement in one round trip with libpq's pipeline mode:
  // each is prepared once per session (a Parse the first time, under a
  // name PreparedStatements gives it) and executed, and one Sync ends the
  // batch, so the statements run in one implicit transaction (one
  // transaction start and end, and one copy of the backends' status for
  // every statement that reads pg_stat_activity). A statement that fails
  // aborts the ones after it: those are sent again in a second round trip
  // (and so on), so one failing statement still fails only itself.
  // Non-blocking and bounded by `deadline`; on a timeout or a lost
  // connection the session is closed and the statements not answered get
  // that error.
  std::vector<Result<Rows>> Batch(const std::vector<std::string>& statements,
                                  Clock::time_point deadline) override;

  // The server's version as server_version_num (e.g. 150004), 0 if closed.
  int server_version() const override;

  // The backend pid of the session, 0 if closed.
  int backend_pid() const override;

  void Close() override;

 private:
  // Waits for the socket to be readable/writable. False on timeout.
  bool WaitSocket(bool for_write, Clock::time_point deadline) const;
  // Pushes out what libpq has queued, reading input meanwhile so a server
  // blocked on its own output cannot deadlock us. Errors close the session.
  Status FlushOut(Clock::time_point deadline);
  // Reads until PQgetResult would not block. Errors close the session.
  Status AwaitResult(Clock::time_point deadline);
  // One pipeline of Batch; `out` holds an answer per statement answered,
  // `aborted` marks those an earlier error in the pipeline aborted.
  Status RunPipeline(const std::vector<std::string>& statements,
                     Clock::time_point deadline,
                     std::vector<std::optional<Result<Rows>>>* out,
                     std::vector<bool>* aborted);

  // The host list libpq would use, with its names resolved by `deadline`;
  // nullopt when libpq has nothing to resolve or the conninfo does not
  // parse (libpq reports that).
  Result<std::optional<HostList>> ResolveHosts(Clock::time_point deadline);

  const std::string conninfo_;
  const std::string password_;
  BoundedResolver resolver_;
  PGconn* conn_ = nullptr;       // owned
  PreparedStatements prepared_;  // of the session conn_ is; reset on Close
};

// The SessionFactory of production: libpq Connections.
std::unique_ptr<Session> MakeConnection(const std::string& conninfo,
                                        const std::string& password);

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_PG_CONNECTION_H_
