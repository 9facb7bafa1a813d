// Test double of a PostgreSQL server: canned answers keyed by the exact SQL
// the collectors send, seen as Sessions (for pollers) or as a RowSource.
#ifndef PGREPL_TESTS_UNIT_TESTING_FAKE_SESSION_H_
#define PGREPL_TESTS_UNIT_TESTING_FAKE_SESSION_H_

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "exporter/base/status.h"
#include "exporter/pg/prepared_statements.h"
#include "exporter/pg/row_source.h"
#include "exporter/pg/rows.h"
#include "exporter/pg/session.h"

namespace pgrepl {

class FakeDatabase;

// The RowSource view of a FakeDatabase, for collector tests: no session,
// no deadline. A query set to time out or hang fails at once with
// Status::Timeout.
class FakeRows : public RowSource {
 public:
  explicit FakeRows(FakeDatabase* db) : db_(db) {}
  Result<Rows> Query(const std::string& sql) override;
  int server_version() const override;

 private:
  FakeDatabase* const db_;  // not own
};

// One server's behaviour, shared by every FakeSession made on it. A query
// whose text was never given an answer fails with Status::Query. All
// methods are safe to call from any thread, so a test may change the
// answers while pollers run. It must outlive its sessions.
class FakeDatabase {
 public:
  using Clock = std::chrono::steady_clock;

  explicit FakeDatabase(int server_version = 150000);
  FakeDatabase(const FakeDatabase&) = delete;
  FakeDatabase& operator=(const FakeDatabase&) = delete;

  // What a query of exactly `sql` returns from now on: rows, or an error
  // Status (a failed query; the session stays open).
  void Answer(const std::string& sql, Result<Rows> answer);
  // A query of `sql` times out: Status::Timeout, and the session closes,
  // as Connection does when a query passes its deadline.
  void TimeOut(const std::string& sql);
  // A query of `sql` never answers: it blocks until its deadline, then
  // times out as above (a frozen server).
  void Hang(const std::string& sql);
  // The server ends the session at `sql` (a shutdown): a query error, and
  // the session closes.
  void Terminate(const std::string& sql);
  // `sql` is unknown again.
  void Forget(const std::string& sql);

  // The result of every later Connect() (initially OK): Status::Connect
  // for a refused connection, Status::Timeout for one that timed out.
  void SetConnectResult(Status result);
  // The result of the next Connect() not yet scripted, before the default.
  void QueueConnectResult(Status result);
  // While held, Connect() blocks until ReleaseConnects(), then returns its
  // result, or until its deadline, then returns Status::Timeout.
  void HoldConnects();
  void ReleaseConnects();

  // The server_version_num a session reads when it connects.
  void set_server_version(int version);
  int server_version() const;

  // Counters and logs, in call order.
  int connects() const;  // Connect() calls, whatever their result
  int queries() const;   // queries run, whatever their answer
  int queries(const std::string& sql) const;  // queries of exactly `sql`
  std::vector<std::string> asked() const;     // the SQL of every query
  // Every conninfo the factory made a session for, and every conninfo a
  // Connect() was called on.
  std::vector<std::string> sessions_made() const;
  std::vector<std::string> connect_conninfos() const;
  // Batches run (each one round trip), and the statements sessions
  // prepared (in order; once per session each, as Connection does).
  int batches() const;
  std::vector<std::string> prepared() const;
  int prepares(const std::string& sql) const;
  int open_sessions() const;  // sessions connected now
  int blocked() const;        // calls waiting in Hang() or HoldConnects()

  // The RowSource view of this database (queries count as above).
  RowSource& rows() { return rows_; }

 private:
  friend class FakeSession;
  friend class FakeRows;
  friend SessionFactory FakeSessionFactory(FakeDatabase* db);

  enum class Behaviour { kAnswer, kTimeOut, kHang, kTerminate };
  struct Canned {
    Behaviour behaviour;
    Result<Rows> answer;
  };
  // What a query did: its result, and whether the session must close.
  struct Outcome {
    Result<Rows> result;
    bool close = false;
  };

  // Runs one query; `deadline` is null for the RowSource view.
  Outcome Run(const std::string& sql, const Clock::time_point* deadline);
  Status Connect(const std::string& conninfo, Clock::time_point deadline);
  void BatchStarted();
  void Prepare(const std::string& sql);
  void SessionMade(const std::string& conninfo);
  void SessionClosed();
  int NextBackendPid();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Canned> canned_;        // GUARDED_BY(mu_)
  Status connect_result_;                       // GUARDED_BY(mu_)
  std::deque<Status> queued_connects_;          // GUARDED_BY(mu_)
  bool hold_connects_ = false;                  // GUARDED_BY(mu_)
  int server_version_;                          // GUARDED_BY(mu_)
  int connects_ = 0;                            // GUARDED_BY(mu_)
  int open_sessions_ = 0;                       // GUARDED_BY(mu_)
  int blocked_ = 0;                             // GUARDED_BY(mu_)
  int next_pid_ = 4000;                         // GUARDED_BY(mu_)
  int batches_ = 0;                             // GUARDED_BY(mu_)
  std::vector<std::string> prepared_;           // GUARDED_BY(mu_)
  std::vector<std::string> asked_;              // GUARDED_BY(mu_)
  std::vector<std::string> sessions_made_;      // GUARDED_BY(mu_)
  std::vector<std::string> connect_conninfos_;  // GUARDED_BY(mu_)
  FakeRows rows_{this};
};

// A Session on a FakeDatabase. Like Connection, it reads the server
// version and gets a backend pid when it connects, and a query that times
// out closes it. Its Batch runs the statements in order as one round trip
// and prepares each once per session (PreparedStatements, as Connection);
// a statement that times out closes the session and the later ones get
// its error without reaching the server. One owner thread.
class FakeSession : public Session {
 public:
  FakeSession(FakeDatabase* db, std::string conninfo);
  ~FakeSession() override;
  FakeSession(const FakeSession&) = delete;
  FakeSession& operator=(const FakeSession&) = delete;

  bool connected() const override { return connected_; }
  Status Connect(Clock::time_point deadline,
                 std::chrono::milliseconds statement_timeout) override;
  Result<Rows> Query(const std::string& sql,
                     Clock::time_point deadline) override;
  std::vector<Result<Rows>> Batch(const std::vector<std::string>& statements,
                                  Clock::time_point deadline) override;
  int server_version() const override { return version_; }
  int backend_pid() const override { return pid_; }
  void Close() override;

 private:
  FakeDatabase* const db_;  // not own
  const std::string conninfo_;
  bool connected_ = false;
  int version_ = 0;
  int pid_ = 0;
  PreparedStatements prepared_;
};

// A SessionFactory making FakeSessions on `db` (not owned), which records
// each conninfo it is asked for (FakeDatabase::sessions_made()).
SessionFactory FakeSessionFactory(FakeDatabase* db);

}  // namespace pgrepl

#endif  // PGREPL_TESTS_UNIT_TESTING_FAKE_SESSION_H_
