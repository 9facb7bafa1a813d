// Test double of a PostgreSQL server: canned answers keyed by the exact SQL
// the collectors send, seen as Sessions (for pollers) or as a RowSource.
#include "tests/unit/testing/fake_session.h"

#include <utility>

namespace pgrepl {

Result<Rows> FakeRows::Query(const std::string& sql) {
  return db_->Run(sql, nullptr).result;
}

int FakeRows::server_version() const { return db_->server_version(); }

FakeDatabase::FakeDatabase(int server_version)
    : server_version_(server_version) {}

void FakeDatabase::Answer(const std::string& sql, Result<Rows> answer) {
  std::lock_guard<std::mutex> lock(mu_);
  canned_.insert_or_assign(sql, Canned{Behaviour::kAnswer, std::move(answer)});
}

void FakeDatabase::Terminate(const std::string& sql) {
  std::lock_guard<std::mutex> lock(mu_);
  canned_.insert_or_assign(
      sql, Canned{Behaviour::kTerminate,
                  Status::Query("FATAL:  terminating connection due to "
                                "administrator command")});
}

void FakeDatabase::TimeOut(const std::string& sql) {
  std::lock_guard<std::mutex> lock(mu_);
  canned_.insert_or_assign(
      sql,
      Canned{Behaviour::kTimeOut, Status::Timeout("fake: query timed out")});
}

void FakeDatabase::Hang(const std::string& sql) {
  std::lock_guard<std::mutex> lock(mu_);
  canned_.insert_or_assign(
      sql, Canned{Behaviour::kHang, Status::Timeout("fake: query timed out")});
}

void FakeDatabase::Forget(const std::string& sql) {
  std::lock_guard<std::mutex> lock(mu_);
  canned_.erase(sql);
}

void FakeDatabase::SetConnectResult(Status result) {
  std::lock_guard<std::mutex> lock(mu_);
  connect_result_ = std::move(result);
}

void FakeDatabase::QueueConnectResult(Status result) {
  std::lock_guard<std::mutex> lock(mu_);
  queued_connects_.push_back(std::move(result));
}

void FakeDatabase::HoldConnects() {
  std::lock_guard<std::mutex> lock(mu_);
  hold_connects_ = true;
}

void FakeDatabase::ReleaseConnects() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    hold_connects_ = false;
  }
  cv_.notify_all();
}

void FakeDatabase::set_server_version(int version) {
  std::lock_guard<std::mutex> lock(mu_);
  server_version_ = version;
}

int FakeDatabase::server_version() const {
  std::lock_guard<std::mutex> lock(mu_);
  return server_version_;
}

int FakeDatabase::connects() const {
  std::lock_guard<std::mutex> lock(mu_);
  return connects_;
}

int FakeDatabase::queries() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(asked_.size());
}

int FakeDatabase::queries(const std::string& sql) const {
  std::lock_guard<std::mutex> lock(mu_);
  int n = 0;
  for (const auto& s : asked_) n += s == sql ? 1 : 0;
  return n;
}

std::vector<std::string> FakeDatabase::asked() const {
  std::lock_guard<std::mutex> lock(mu_);
  return asked_;
}

std::vector<std::string> FakeDatabase::sessions_made() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sessions_made_;
}

std::vector<std::string> FakeDatabase::connect_conninfos() const {
  std::lock_guard<std::mutex> lock(mu_);
  return connect_conninfos_;
}

int FakeDatabase::batches() const {
  std::lock_guard<std::mutex> lock(mu_);
  return batches_;
}

std::vector<std::string> FakeDatabase::prepared() const {
  std::lock_guard<std::mutex> lock(mu_);
  return prepared_;
}

int FakeDatabase::prepares(const std::string& sql) const {
  std::lock_guard<std::mutex> lock(mu_);
  int n = 0;
  for (const auto& s : prepared_) n += s == sql ? 1 : 0;
  return n;
}

void FakeDatabase::BatchStarted() {
  std::lock_guard<std::mutex> lock(mu_);
  ++batches_;
}

void FakeDatabase::Prepare(const std::string& sql) {
  std::lock_guard<std::mutex> lock(mu_);
  prepared_.push_back(sql);
}

int FakeDatabase::open_sessions() const {
  std::lock_guard<std::mutex> lock(mu_);
  return open_sessions_;
}

int FakeDatabase::blocked() const {
  std::lock_guard<std::mutex> lock(mu_);
  return blocked_;
}

FakeDatabase::Outcome FakeDatabase::Run(const std::string& sql,
                                        const Clock::time_point* deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  asked_.push_back(sql);
  auto it = canned_.find(sql);
  if (it == canned_.end()) {
    return {Status::Query("fake: no answer for " + sql.substr(0, 60)), false};
  }
  switch (it->second.behaviour) {
    case Behaviour::kAnswer:
      return {it->second.answer, false};
    case Behaviour::kHang:
      if (deadline != nullptr) {
        ++blocked_;
        while (Clock::now() < *deadline) cv_.wait_until(lock, *deadline);
        --blocked_;
      }
      [[fallthrough]];
    case Behaviour::kTimeOut:
      return {Status::Timeout("fake: query timed out"), true};
    case Behaviour::kTerminate:
      return {it->second.answer, true};
  }
  return {Status::Query("fake: unreachable"), false};
}

Status FakeDatabase::Connect(const std::string& conninfo,
                             Clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  ++connects_;
  connect_conninfos_.push_back(conninfo);
  if (hold_connects_) {
    ++blocked_;
    bool released =
        cv_.wait_until(lock, deadline, [this] { return !hold_connects_; });
    --blocked_;
    if (!released) return Status::Timeout("fake: connect timed out");
  }
  Status result = connect_result_;
  if (!queued_connects_.empty()) {
    result = std::move(queued_connects_.front());
    queued_connects_.pop_front();
  }
  if (result.ok()) ++open_sessions_;
  return result;
}

void FakeDatabase::SessionMade(const std::string& conninfo) {
  std::lock_guard<std::mutex> lock(mu_);
  sessions_made_.push_back(conninfo);
}

void FakeDatabase::SessionClosed() {
  std::lock_guard<std::mutex> lock(mu_);
  --open_sessions_;
}

int FakeDatabase::NextBackendPid() {
  std::lock_guard<std::mutex> lock(mu_);
  return ++next_pid_;
}

FakeSession::FakeSession(FakeDatabase* db, std::string conninfo)
    : db_(db), conninfo_(std::move(conninfo)) {}

FakeSession::~FakeSession() { Close(); }

Status FakeSession::Connect(Clock::time_point deadline,
                            std::chrono::milliseconds /*statement_timeout*/) {
  Close();
  Status st = db_->Connect(conninfo_, deadline);
  if (!st.ok()) return st;
  connected_ = true;
  version_ = db_->server_version();
  pid_ = db_->NextBackendPid();
  return st;
}

Result<Rows> FakeSession::Query(const std::string& sql,
                                Clock::time_point deadline) {
  if (!connected_) return Status::Query("not connected");
  FakeDatabase::Outcome out = db_->Run(sql, &deadline);
  if (out.close) Close();
  return std::move(out.result);
}

std::vector<Result<Rows>> FakeSession::Batch(
    const std::vector<std::string>& statements, Clock::time_point deadline) {
  std::vector<Result<Rows>> out;
  out.reserve(statements.size());
  batch_round_trips_ = connected_ && !statements.empty() ? 1 : 0;
  if (connected_ && !statements.empty()) db_->BatchStarted();
  Status lost = connected_ ? Status::Ok() : Status::Query("not connected");
  for (const auto& sql : statements) {
    if (!lost.ok()) {
      out.emplace_back(lost);
      continue;
    }
    const PreparedStatements::Plan plan = prepared_.For(sql);
    if (plan.prepare) {
      db_->Prepare(sql);
      prepared_.Prepared(sql);
    }
    FakeDatabase::Outcome o = db_->Run(sql, &deadline);
    if (o.close) {
      lost = o.result.status();
      Close();
    }
    out.push_back(std::move(o.result));
  }
  return out;
}

void FakeSession::Close() {
  prepared_.Reset();
  if (!connected_) return;
  connected_ = false;
  version_ = 0;
  pid_ = 0;
  db_->SessionClosed();
}

SessionFactory FakeSessionFactory(FakeDatabase* db) {
  return [db](const std::string& conninfo, const std::string& /*password*/) {
    db->SessionMade(conninfo);
    return std::make_unique<FakeSession>(db, conninfo);
  };
}

}  // namespace pgrepl
