// Poller: one thread that polls one instance on a fixed interval.
#include "exporter/poller.h"


#include "exporter/logging.h"
#include "exporter/pg/row_source.h"
#include "exporter/snapshot_store.h"

namespace pgrepl {
namespace {

using Clock = std::chrono::steady_clock;

// Binds a Connection to one poll's deadline.
class DeadlineRowSource : public RowSource {
 public:
  DeadlineRowSource(Connection* conn, Clock::time_point deadline)
      : conn_(conn), deadline_(deadline) {}
  Result<Rows> Query(const std::string& sql) override {
    return conn_->Query(sql, deadline_);
  }
  int server_version() const override { return conn_->server_version(); }

 private:
  Connection* conn_;  // not owned
  Clock::time_point deadline_;
};

PollErrorKind KindOf(const Status& s) {
  switch (s.kind()) {
    case Status::Kind::kTimeout: return PollErrorKind::kTimeout;
    case Status::Kind::kConnect: return PollErrorKind::kConnect;
    default: return PollErrorKind::kQuery;
  }
}

double Seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

}  // namespace

Poller::Timing Poller::TimingFrom(const Config& c) {
  return {c.poll_interval, c.poll_timeout, c.connect_timeout,
          c.reconnect_backoff_max};
}

Poller::Poller(std::string cluster, InstanceTarget target, bool discovered,
               std::string password, Timing timing,
               const std::vector<std::unique_ptr<Collector>>* collectors,
               SnapshotStore* store)
    : cluster_(std::move(cluster)),
      target_(std::move(target)),
      discovered_(discovered),
      timing_(timing),
      collectors_(collectors),
      store_(store),
      conn_(target_.conninfo, std::move(password)) {}

Poller::~Poller() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Poller::Start() { thread_ = std::thread([this] { Run(); }); }

void Poller::Run() {
  InstanceSnapshot s;
  s.cluster = cluster_;
  s.instance = target_.name;
  s.configured_primary = target_.configured_primary;
  s.discovered = discovered_;
  store_->Publish(std::make_shared<const InstanceSnapshot>(s));

  auto next = Clock::now();
  while (true) {
    PollOnce(&s);
    store_->Publish(std::make_shared<const InstanceSnapshot>(s));
    // Fixed-rate schedule; a poll that overran skips the missed slots.
    next += timing_.interval;
    auto now = Clock::now();
    if (next < now) next = now;
    std::unique_lock<std::mutex> lock(mu_);
    if (cv_.wait_until(lock, next, [this] { return stop_; })) break;
  }
  conn_.Close();
}

void Poller::PollOnce(InstanceSnapshot* s) {
  const auto start = Clock::now();
  const auto deadline = start + timing_.timeout;
  s->polled = true;
  s->polled_at = InstanceSnapshot::WallClock::now();
  s->collectors.clear();
  s->recovery.reset();
  s->server_version_num.reset();
  s->up = false;

  auto fail = [&](const Status& st) {
    s->errors[static_cast<size_t>(KindOf(st))]++;
    s->last_error = std::string(Status::KindName(st.kind())) + ": " + st.message();
    // Warn once per outage; repeats go to debug.
    Log(failure_logged_ ? spdlog::level::debug : spdlog::level::warn,
        "poll failed",
        {{"cluster", cluster_}, {"instance", target_.name},
         {"err", s->last_error}});
    failure_logged_ = true;
  };

  if (!conn_.connected()) {
    if (start < next_connect_) {
      s->poll_duration_seconds = 0;  // backing off: no attempt this cycle
      return;
    }
    auto connect_deadline = std::min(deadline, start + timing_.connect_timeout);
    Status st = conn_.Connect(connect_deadline, timing_.timeout);
    if (!st.ok()) {
      backoff_ = backoff_.count() == 0
                     ? timing_.interval
                     : std::min(backoff_ * 2, timing_.backoff_max);
      next_connect_ = start + backoff_;
      s->poll_duration_seconds = Seconds(Clock::now() - start);
      fail(st);
      return;
    }
    backoff_ = std::chrono::milliseconds(0);
    s->connects++;
    Log(spdlog::level::info, "connected",
        {{"cluster", cluster_}, {"instance", target_.name},
         {"backend_pid", std::to_string(conn_.backend_pid())}});
  }

  DeadlineRowSource db(&conn_, deadline);
  Status first_error;
  for (size_t i = 0; i < collectors_->size(); ++i) {
    const auto& c = (*collectors_)[i];
    auto t0 = Clock::now();
    Status st = conn_.connected() ? c->Update(db, s)
                                  : Status::Query("connection lost");
    s->collectors.push_back({c->name(), st.ok(), Seconds(Clock::now() - t0)});
    if (!st.ok() && first_error.ok()) first_error = st;
    // The first collector reads the role; without it the instance is down.
    if (i == 0 && !st.ok()) break;
  }
  s->poll_duration_seconds = Seconds(Clock::now() - start);
  s->up = !s->collectors.empty() && s->collectors[0].ok;
  if (!first_error.ok()) {
    fail(first_error);
  } else {
    s->last_error.clear();
  }
  if (s->up) {
    s->last_success = s->polled_at;
    if (failure_logged_) {
      Log(spdlog::level::info, "instance recovered",
          {{"cluster", cluster_}, {"instance", target_.name}});
      failure_logged_ = false;
    }
  }
}

}  // namespace pgrepl
