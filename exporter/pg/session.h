// Session: one database session whose every call is bounded by a deadline,
// the seam through which unit tests drive a Poller with canned rows.
#ifndef PGREPL_EXPORTER_PG_SESSION_H_
#define PGREPL_EXPORTER_PG_SESSION_H_

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "exporter/base/status.h"
#include "exporter/pg/rows.h"

namespace pgrepl {

// The libpq implementation is Connection (pg/connection.h). Not
// thread-safe: one owner thread.
class Session {
 public:
  using Clock = std::chrono::steady_clock;

  virtual ~Session() = default;

  virtual bool connected() const = 0;

  // Opens the session and applies the session settings (read-only,
  // statement_timeout, lock_timeout). Errors are kConnect or kTimeout.
  virtual Status Connect(Clock::time_point deadline,
                         std::chrono::milliseconds statement_timeout) = 0;

  // Runs one SQL statement. Errors are kQuery or kTimeout; on kTimeout or
  // a lost connection the session is closed.
  virtual Result<Rows> Query(const std::string& sql,
                             Clock::time_point deadline) = 0;

  // Runs `statements` as one batch and returns one result per statement,
  // in order. Each fails or succeeds on its own: a statement that fails
  // does not stop the others. A timeout or a lost connection closes the
  // session; the statements not answered by then get that error. This
  // default runs them one by one (a round trip each); Connection sends
  // them all in one round trip, each prepared once per session.
  virtual std::vector<Result<Rows>> Batch(
      const std::vector<std::string>& statements, Clock::time_point deadline) {
    std::vector<Result<Rows>> out;
    out.reserve(statements.size());
    batch_round_trips_ = 0;
    Status lost;
    for (const auto& sql : statements) {
      if (!lost.ok()) {
        out.emplace_back(lost);
        continue;
      }
      ++batch_round_trips_;
      out.push_back(Query(sql, deadline));
      if (!connected()) {
        lost = out.back().ok() ? Status::Query("connection lost")
                               : out.back().status();
      }
    }
    return out;
  }

  // The server's version as server_version_num (e.g. 150004), 0 if closed.
  virtual int server_version() const = 0;

  // The backend pid of the session, 0 if closed.
  virtual int backend_pid() const = 0;

  virtual void Close() = 0;

  // The round trips the latest Batch() took.
  int batch_round_trips() const { return batch_round_trips_; }

 protected:
  int batch_round_trips_ = 0;  // set by each Batch()
};

// Makes a closed session to `conninfo`. `password` is used only when the
// conninfo sets none; may be empty.
using SessionFactory = std::function<std::unique_ptr<Session>(
    const std::string& conninfo, const std::string& password)>;

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_PG_SESSION_H_
