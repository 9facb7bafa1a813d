// A libpq connection whose every operation is bounded by a deadline.
#ifndef PGREPL_EXPORTER_PG_CONNECTION_H_
#define PGREPL_EXPORTER_PG_CONNECTION_H_

#include <chrono>
#include <string>

#include "exporter/pg/rows.h"
#include "exporter/pg/session.h"
#include "exporter/base/status.h"

typedef struct pg_conn PGconn;

namespace pgrepl {

// One persistent session to one instance. Connect and Query never block
// past their deadline, whatever the server does (even when it is stopped
// with SIGSTOP): they drive libpq's asynchronous API with poll(2).
// After a timeout or a broken socket the session is closed, so the next
// call starts from a clean state. Not thread-safe: one owner thread.
class Connection : public Session {
 public:

  // `password` is used only when the conninfo sets none; may be empty.
  Connection(std::string conninfo, std::string password);
  ~Connection() override;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  bool connected() const override { return conn_ != nullptr; }

  // Opens the session and applies the session settings (read-only,
  // statement_timeout, lock_timeout). Errors are kConnect or kTimeout.
  Status Connect(Clock::time_point deadline,
                 std::chrono::milliseconds statement_timeout) override;

  // Runs one SQL statement. Errors are kQuery or kTimeout; on kTimeout or
  // a lost connection the session is closed.
  Result<Rows> Query(const std::string& sql,
                     Clock::time_point deadline) override;

  // The server's version as server_version_num (e.g. 150004), 0 if closed.
  int server_version() const override;

  // The backend pid of the session, 0 if closed.
  int backend_pid() const override;

  void Close() override;

 private:
  // Waits for the socket to be readable/writable. False on timeout.
  bool WaitSocket(bool for_write, Clock::time_point deadline) const;

  const std::string conninfo_;
  const std::string password_;
  PGconn* conn_ = nullptr;  // owned
};

// The SessionFactory of production: libpq Connections.
std::unique_ptr<Session> MakeConnection(const std::string& conninfo,
                                        const std::string& password);

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_PG_CONNECTION_H_
