// A libpq connection whose every operation is bounded by a deadline.
#include "exporter/pg/connection.h"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <exception>
#include <vector>

#include "exporter/base/text.h"
#include "exporter/pg/conninfo.h"

namespace pgrepl {
namespace {

// libpq messages end in newlines and may span lines; logs want one line,
// and no secret a conninfo echoed in them may hold.
std::string LibpqError(const char* raw) {
  return ScrubSecrets(OneLine(raw ? raw : ""));
}

// "a,a,b" -> "a,b": a pinned host list names each host once per address.
std::string DistinctEntries(const std::string& list) {
  std::string out, last;
  size_t start = 0;
  for (bool first = true; start <= list.size(); first = false) {
    size_t comma = std::min(list.find(',', start), list.size());
    std::string item = list.substr(start, comma - start);
    if (first || item != last) out += (first ? "" : ",") + item;
    last = std::move(item);
    start = comma + 1;
  }
  return out;
}

// A PGRES_TUPLES_OK result as plain values (NULL as nullopt).
Rows RowsOf(const PGresult* res) {
  Rows rows;
  int nf = PQnfields(res), nt = PQntuples(res);
  for (int c = 0; c < nf; ++c) rows.columns.push_back(PQfname(res, c));
  rows.values.resize(nt);
  for (int r = 0; r < nt; ++r) {
    rows.values[r].reserve(nf);
    for (int c = 0; c < nf; ++c) {
      if (PQgetisnull(res, r, c)) {
        rows.values[r].emplace_back(std::nullopt);
      } else {
        rows.values[r].emplace_back(
            std::string(PQgetvalue(res, r, c), PQgetlength(res, r, c)));
      }
    }
  }
  return rows;
}

}  // namespace

Connection::Connection(std::string conninfo, std::string password,
                       std::shared_ptr<NameService> names)
    : conninfo_(std::move(conninfo)),
      password_(std::move(password)),
      resolver_(std::move(names)) {}

Connection::~Connection() { Close(); }

void Connection::Close() {
  if (conn_ != nullptr) {
    PQfinish(conn_);  // non-blocking socket: never waits on the server
    conn_ = nullptr;
  }
  prepared_.Reset();  // the next session knows none of the names
}

int Connection::server_version() const {
  return conn_ ? PQserverVersion(conn_) : 0;
}

int Connection::backend_pid() const { return conn_ ? PQbackendPID(conn_) : 0; }

bool Connection::WaitSocket(bool for_write, Clock::time_point deadline) const {
  int fd = PQsocket(conn_);
  if (fd < 0) return false;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, static_cast<short>(for_write ? POLLOUT : POLLIN), 0};
    int rc = poll(&p, 1, static_cast<int>(left.count()));
    if (rc > 0) return true;
    if (rc == 0) return false;
    if (errno != EINTR) return false;
  }
}

Result<std::optional<HostList>> Connection::ResolveHosts(
    Clock::time_point deadline) {
  auto given = ParseConninfo(conninfo_);
  if (!given.ok()) return std::optional<HostList>();
  const HostList hosts = HostListOf(given.value(), LibpqDefaults());
  auto pinned = PinHostAddresses(hosts, [&](const std::string& host) {
    return resolver_.Addresses(host, deadline);
  });
  if (!pinned.ok()) return pinned.status();
  if (pinned.value().host == hosts.host &&
      pinned.value().hostaddr == hosts.hostaddr) {
    return std::optional<HostList>();
  }
  return std::optional<HostList>(std::move(pinned).value());
}

Status Connection::Connect(Clock::time_point deadline,
                           std::chrono::milliseconds statement_timeout) {
  Close();
  // The user's conninfo is expanded first; our keywords only fill gaps
  // (fallback_application_name), add the password when none is set, or
  // replace host names by the same names plus their addresses.
  std::vector<const char*> keys = {"dbname", "fallback_application_name"};
  std::vector<const char*> values = {conninfo_.c_str(), "pgrepl_exporter"};
  auto pinned = ResolveHosts(deadline);
  if (!pinned.ok()) return pinned.status();
  // libpq names only the address it was given; errors name the host too.
  std::string prefix;
  if (const auto& hosts = pinned.value()) {
    prefix = "host " + DistinctEntries(hosts->host) + ": ";
    // libpq ignores an empty value, so a list left with no name (and an
    // empty hostaddr) still replaces the expanded one through host.
    for (const auto& [key, value] : {std::pair{"host", &hosts->host},
                                     std::pair{"hostaddr", &hosts->hostaddr},
                                     std::pair{"port", &hosts->port}}) {
      keys.push_back(key);
      values.push_back(value->c_str());
    }
  }
  bool conninfo_has_password = false;
  if (PQconninfoOption* opts = PQconninfoParse(conninfo_.c_str(), nullptr)) {
    for (PQconninfoOption* o = opts; o->keyword; ++o) {
      if (std::string(o->keyword) == "password" && o->val && *o->val) {
        conninfo_has_password = true;
      }
    }
    PQconninfoFree(opts);
  }
  if (!password_.empty() && !conninfo_has_password) {
    keys.push_back("password");
    values.push_back(password_.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);

  conn_ = PQconnectStartParams(keys.data(), values.data(), 1);
  if (conn_ == nullptr) return Status::Connect("out of memory");
  if (PQstatus(conn_) == CONNECTION_BAD) {
    Status s = Status::Connect(prefix + LibpqError(PQerrorMessage(conn_)));
    Close();
    return s;
  }
  PostgresPollingStatusType st = PGRES_POLLING_WRITING;
  while (st != PGRES_POLLING_OK) {
    if (st == PGRES_POLLING_FAILED) {
      Status s = Status::Connect(prefix + LibpqError(PQerrorMessage(conn_)));
      Close();
      return s;
    }
    if (!WaitSocket(st == PGRES_POLLING_WRITING, deadline)) {
      Close();
      return Status::Timeout("connect timed out");
    }
    st = PQconnectPoll(conn_);
  }
  if (PQsetnonblocking(conn_, 1) != 0) {
    Close();
    return Status::Connect("cannot make the socket non-blocking");
  }
  // Session settings: read-only, and server-side bounds that mirror ours.
  std::string setup =
      "SET default_transaction_read_only = on; "
      "SET statement_timeout = " +
      std::to_string(statement_timeout.count()) +
      "; SET lock_timeout = 100; SET idle_in_transaction_session_timeout = " +
      std::to_string(statement_timeout.count() * 5);
  auto r = Query(setup, deadline);
  if (!r.ok()) {
    Close();
    return r.status().kind() == Status::Kind::kTimeout
               ? r.status()
               : Status::Connect("session setup failed: " +
                                 r.status().message());
  }
  return Status::Ok();
}

Result<Rows> Connection::Query(const std::string& sql,
                               Clock::time_point deadline) {
  if (conn_ == nullptr) return Status::Query("not connected");
  if (!PQsendQuery(conn_, sql.c_str())) {
    Status s = Status::Query(LibpqError(PQerrorMessage(conn_)));
    Close();
    return s;
  }
  // Push the query out.
  while (true) {
    int f = PQflush(conn_);
    if (f == 0) break;
    if (f < 0 || !WaitSocket(true, deadline)) {
      Close();
      return f < 0 ? Status::Query("send failed")
                   : Status::Timeout("query send timed out");
    }
  }
  Rows rows;
  Status error;
  while (true) {
    while (PQisBusy(conn_)) {
      if (!WaitSocket(false, deadline)) {
        Close();
        return Status::Timeout("query timed out");
      }
      if (!PQconsumeInput(conn_)) {
        Status s = Status::Query(LibpqError(PQerrorMessage(conn_)));
        Close();
        return s;
      }
    }
    PGresult* res = PQgetResult(conn_);
    if (res == nullptr) break;
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_TUPLES_OK) {
      // Keep the last result set (multi-statement strings return several).
      rows = RowsOf(res);
    } else if (st != PGRES_COMMAND_OK && error.ok()) {
      error = Status::Query(LibpqError(PQresultErrorMessage(res)));
    }
    PQclear(res);
  }
  if (PQstatus(conn_) == CONNECTION_BAD) {
    Status s = Status::Query(error.ok() ? LibpqError(PQerrorMessage(conn_))
                                        : error.message());
    Close();
    return s;
  }
  if (!error.ok()) return error;
  return rows;
}

Status Connection::FlushOut(Clock::time_point deadline) {
  while (true) {
    int f = PQflush(conn_);
    if (f == 0) return Status::Ok();
    if (f < 0) {
      Close();
      return Status::Query("send failed");
    }
    // Both ways: the server may be waiting for us to read its answers
    // before it reads more of ours.
    int fd = PQsocket(conn_);
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - Clock::now());
    if (fd < 0 || left.count() <= 0) {
      Close();
      return Status::Timeout("query send timed out");
    }
    pollfd p{fd, POLLIN | POLLOUT, 0};
    int rc = poll(&p, 1, static_cast<int>(left.count()));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) {
      Close();
      return rc == 0 ? Status::Timeout("query send timed out")
                     : Status::Query("poll failed");
    }
    if ((p.revents & POLLIN) && !PQconsumeInput(conn_)) {
      Status s = Status::Query(LibpqError(PQerrorMessage(conn_)));
      Close();
      return s;
    }
  }
}

Status Connection::AwaitResult(Clock::time_point deadline) {
  while (PQisBusy(conn_)) {
    if (!WaitSocket(false, deadline)) {
      Close();
      return Status::Timeout("query timed out");
    }
    if (!PQconsumeInput(conn_)) {
      Status s = Status::Query(LibpqError(PQerrorMessage(conn_)));
      Close();
      return s;
    }
  }
  return Status::Ok();
}

Status Connection::RunPipeline(const std::vector<std::string>& statements,
                               Clock::time_point deadline,
                               std::vector<std::optional<Result<Rows>>>* out,
                               std::vector<bool>* aborted) {
  // What the server sends back, in order: per statement an optional
  // Parse's result and the execution's result; then the one Sync.
  enum class Kind { kPrepare, kExecute, kSync };
  struct Step {
    Kind kind;
    size_t index;
  };
  std::vector<Step> steps;
  if (!PQenterPipelineMode(conn_)) {
    Status s = Status::Query("cannot enter pipeline mode: " +
                             LibpqError(PQerrorMessage(conn_)));
    Close();
    return s;
  }
  for (size_t i = 0; i < statements.size(); ++i) {
    const std::string& sql = statements[i];
    const PreparedStatements::Plan plan = prepared_.For(sql);
    int sent = 1;
    if (plan.name.empty()) {
      sent = PQsendQueryParams(conn_, sql.c_str(), 0, nullptr, nullptr, nullptr,
                               nullptr, 0);
    } else {
      if (plan.prepare) {
        sent = PQsendPrepare(conn_, plan.name.c_str(), sql.c_str(), 0, nullptr);
        steps.push_back({Kind::kPrepare, i});
      }
      if (sent) {
        sent = PQsendQueryPrepared(conn_, plan.name.c_str(), 0, nullptr,
                                   nullptr, nullptr, 0);
      }
    }
    steps.push_back({Kind::kExecute, i});
    if (i + 1 == statements.size()) {
      if (sent) sent = PQpipelineSync(conn_);
      steps.push_back({Kind::kSync, i});
    }
    if (!sent) {
      Status s = Status::Query(LibpqError(PQerrorMessage(conn_)));
      Close();
      return s;
    }
  }
  if (Status s = FlushOut(deadline); !s.ok()) return s;

  for (const Step& step : steps) {
    const std::string& sql = statements[step.index];
    std::optional<Result<Rows>>& answer = (*out)[step.index];
    if (step.kind == Kind::kSync) {
      if (Status s = AwaitResult(deadline); !s.ok()) return s;
      PGresult* res = PQgetResult(conn_);
      const bool synced =
          res != nullptr && PQresultStatus(res) == PGRES_PIPELINE_SYNC;
      PQclear(res);
      if (!synced) {
        Status s = Status::Query(PQstatus(conn_) == CONNECTION_BAD
                                     ? LibpqError(PQerrorMessage(conn_))
                                     : std::string("pipeline out of step"));
        Close();
        return s;
      }
      if (!answer) answer = Status::Query("no result");
      continue;
    }
    // A Parse or an execution: its results, then a null.
    while (true) {
      if (Status s = AwaitResult(deadline); !s.ok()) return s;
      PGresult* res = PQgetResult(conn_);
      if (res == nullptr) break;
      const ExecStatusType st = PQresultStatus(res);
      if (st == PGRES_PIPELINE_SYNC) {  // never before its statement's null
        PQclear(res);
        Close();
        return Status::Query("pipeline out of step");
      }
      if (step.kind == Kind::kPrepare) {
        if (st == PGRES_COMMAND_OK) {
          prepared_.Prepared(sql);
        } else if (st == PGRES_PIPELINE_ABORTED) {
          answer = Status::Query("aborted by an earlier error in its pipeline");
          (*aborted)[step.index] = true;
        } else {
          answer = Status::Query(LibpqError(PQresultErrorMessage(res)));
        }
      } else if (answer && !answer->ok()) {
        // The Parse failed, so the execution was aborted: keep its error.
      } else if (st == PGRES_TUPLES_OK) {
        answer = RowsOf(res);
      } else if (st == PGRES_COMMAND_OK) {
        answer = Rows();
      } else if (st == PGRES_PIPELINE_ABORTED) {
        answer = Status::Query("aborted by an earlier error in its pipeline");
        (*aborted)[step.index] = true;
      } else {
        answer = Status::Query(LibpqError(PQresultErrorMessage(res)));
      }
      PQclear(res);
      if (PQstatus(conn_) == CONNECTION_BAD) {
        Status s = Status::Query(LibpqError(PQerrorMessage(conn_)));
        Close();
        return s;
      }
    }
  }
  if (!PQexitPipelineMode(conn_)) {
    Status s = Status::Query("cannot leave pipeline mode: " +
                             LibpqError(PQerrorMessage(conn_)));
    Close();
    return s;
  }
  return Status::Ok();
}

std::vector<Result<Rows>> Connection::Batch(
    const std::vector<std::string>& statements, Clock::time_point deadline) {
  std::vector<std::optional<Result<Rows>>> answers(statements.size());
  batch_round_trips_ = 0;
  Status failed;
  if (conn_ == nullptr) {
    failed = Status::Query("not connected");
  } else {
    // The statements still to send, by index: all of them, then those an
    // error earlier in their pipeline aborted. Each pass answers at least
    // the statement that failed, so the passes end.
    std::vector<size_t> todo(statements.size());
    for (size_t i = 0; i < todo.size(); ++i) todo[i] = i;
    try {
      while (!todo.empty() && failed.ok()) {
        std::vector<std::string> pass;
        for (size_t i : todo) pass.push_back(statements[i]);
        std::vector<std::optional<Result<Rows>>> got(pass.size());
        std::vector<bool> aborted(pass.size(), false);
        ++batch_round_trips_;
        failed = RunPipeline(pass, deadline, &got, &aborted);
        std::vector<size_t> again;
        for (size_t k = 0; k < todo.size(); ++k) {
          if (aborted[k]) {
            again.push_back(todo[k]);
          } else if (got[k]) {
            answers[todo[k]] = std::move(got[k]);
          }
        }
        if (again.size() == todo.size()) break;  // nothing answered
        todo = std::move(again);
      }
    } catch (const std::exception& e) {  // e.g. bad_alloc: never escapes
      Close();
      failed = Status::Query(std::string("batch failed: ") + e.what());
    }
  }
  std::vector<Result<Rows>> out;
  out.reserve(statements.size());
  for (auto& a : answers) {
    out.push_back(a ? std::move(*a)
                    : (failed.ok() ? Status::Query("no result") : failed));
  }
  return out;
}

std::unique_ptr<Session> MakeConnection(const std::string& conninfo,
                                        const std::string& password) {
  return std::make_unique<Connection>(conninfo, password);
}

}  // namespace pgrepl
