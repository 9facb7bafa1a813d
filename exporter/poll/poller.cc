// Poller: one thread that polls one instance on a fixed interval.
#include "exporter/poll/poller.h"

#include "exporter/collector/heartbeat.h"
#include "exporter/base/logging.h"
#include "exporter/pg/row_source.h"
#include "exporter/poll/replica_lag.h"
#include "exporter/model/snapshot_store.h"

namespace pgrepl {
namespace {

using Clock = std::chrono::steady_clock;

// Binds a Connection to one poll's deadline.
class DeadlineRowSource : public RowSource {
 public:
  DeadlineRowSource(Connection* conn, Clock::time_point deadline)
      : conn_(conn), deadline_(deadline) {}
  Result<Rows> Query(const std::string& sql) override {
    if (!conn_->connected()) return Status::Query("connection lost");
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

Poller::Options Poller::OptionsFrom(const Config& c) {
  return {c.poll_interval, c.poll_timeout, c.connect_timeout,
          c.reconnect_backoff_max, c.heartbeat, c.heartbeat_id, c.password};
}

Poller::Poller(std::string cluster, InstanceTarget target, bool discovered,
               Options options,
               const std::vector<std::unique_ptr<Collector>>* collectors,
               ClusterHistory* history, SnapshotStore* store)
    : cluster_(std::move(cluster)),
      target_(std::move(target)),
      discovered_(discovered),
      options_(std::move(options)),
      collectors_(collectors),
      history_(history),
      store_(store),
      conn_(target_.conninfo, options_.password) {}

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
    next += options_.interval;
    auto now = Clock::now();
    if (next < now) next = now;
    std::unique_lock<std::mutex> lock(mu_);
    if (cv_.wait_until(lock, next, [this] { return stop_; })) break;
  }
  conn_.Close();
}

void Poller::RecordFailure(InstanceSnapshot* s, const Status& st) {
  s->errors[static_cast<size_t>(KindOf(st))]++;
  s->last_error = std::string(Status::KindName(st.kind())) + ": " + st.message();
  // Warn once per outage; repeats go to debug.
  Log(failure_logged_ ? spdlog::level::debug : spdlog::level::warn,
      "poll failed",
      {{"cluster", cluster_}, {"instance", target_.name}, {"err", s->last_error}});
  failure_logged_ = true;
}

bool Poller::EnsureConnected(InstanceSnapshot* s, Clock::time_point start,
                             Clock::time_point deadline) {
  if (conn_.connected()) return true;
  if (start < next_connect_) return false;  // backing off: no attempt now
  Status st = conn_.Connect(std::min(deadline, start + options_.connect_timeout),
                            options_.timeout);
  if (!st.ok()) {
    backoff_ = backoff_.count() == 0 ? options_.interval
                                     : std::min(backoff_ * 2, options_.backoff_max);
    next_connect_ = start + backoff_;
    RecordFailure(s, st);
    return false;
  }
  backoff_ = std::chrono::milliseconds(0);
  s->connects++;
  Log(spdlog::level::info, "connected",
      {{"cluster", cluster_}, {"instance", target_.name},
       {"backend_pid", std::to_string(conn_.backend_pid())}});
  return true;
}

void Poller::PollOnce(InstanceSnapshot* s) {
  const auto start = Clock::now();
  const auto deadline = start + options_.timeout;
  s->polled = true;
  s->polled_at = InstanceSnapshot::WallClock::now();
  s->collectors.clear();
  s->up = false;
  s->server_version_num.reset();
  s->recovery.reset();
  s->standbys.reset();
  s->slots.reset();
  s->wal_receiver.reset();
  s->replica_lag_seconds.reset();
  s->replica_lag_bytes.reset();
  s->heartbeat_lag_seconds.reset();

  if (!EnsureConnected(s, start, deadline)) {
    s->poll_duration_seconds = Seconds(Clock::now() - start);
    return;
  }
  DeadlineRowSource db(&conn_, deadline);
  Status first_error;
  for (size_t i = 0; i < collectors_->size(); ++i) {
    const auto& c = (*collectors_)[i];
    auto t0 = Clock::now();
    Status st = c->Update(db, s);
    s->collectors.push_back({c->name(), st.ok(), Seconds(Clock::now() - t0)});
    if (!st.ok() && first_error.ok()) first_error = st;
    // The first collector reads the role; without it the instance is down.
    if (i == 0 && !st.ok()) break;
  }
  s->up = !s->collectors.empty() && s->collectors[0].ok;
  if (s->up) Derive(s, deadline);
  for (const auto& c : s->collectors) {
    if (!c.ok && first_error.ok()) first_error = Status::Query(c.name + " failed");
  }
  s->poll_duration_seconds = Seconds(Clock::now() - start);
  if (!first_error.ok()) {
    RecordFailure(s, first_error);
  } else {
    s->last_error.clear();
  }
  if (s->up) {
    s->last_success = s->polled_at;
    if (failure_logged_ && first_error.ok()) {
      Log(spdlog::level::info, "instance recovered",
          {{"cluster", cluster_}, {"instance", target_.name}});
      failure_logged_ = false;
    }
  }
}

void Poller::DeriveReplicaLag(InstanceSnapshot* s, Clock::time_point now,
                              Clock::duration keep_source) {
  const RecoveryInfo& r = *s->recovery;
  ReplicaLagInput in;
  in.streaming = s->wal_receiver && s->wal_receiver->status == "streaming";
  in.receive_lsn = r.receive_lsn;
  in.replay_lsn = r.replay_lsn;
  in.now = now;
  in.last_healthy = last_healthy_;
  if (r.receive_lsn) {
    receive_history_.Record(target_.name, now, *r.receive_lsn, keep_source);
  }
  if (r.replay_lsn) {
    in.behind = history_->wal.Estimate(*r.replay_lsn, now, keep_source);
    // No primary polled (sidecar mode, or the primary is down): while
    // streaming, measure how long ago this replica received the WAL it has
    // not replayed yet. Same clock, no skew; it leaves out network delay.
    if (!in.behind && in.streaming) {
      in.behind = receive_history_.Estimate(*r.replay_lsn, now, keep_source);
    }
  }
  ReplicaLag lag = ComputeReplicaLag(in);
  if (lag.healthy) last_healthy_ = now;
  s->replica_lag_seconds = lag.seconds;
  s->replica_lag_bytes = lag.bytes;
  s->replica_lag_histogram.Observe(lag.seconds);
}

void Poller::Derive(InstanceSnapshot* s, Clock::time_point deadline) {
  const RecoveryInfo& r = *s->recovery;
  const auto now = Clock::now();
  const auto keep_source = 3 * options_.interval + options_.timeout;

  if (last_in_recovery_ && *last_in_recovery_ != r.in_recovery) {
    s->role_changes++;
    stream_restarts_.Reset();  // a re-attached replica's first stream is new
    Log(spdlog::level::warn, "role changed",
        {{"cluster", cluster_}, {"instance", target_.name},
         {"role", r.in_recovery ? "replica" : "primary"}});
  }
  last_in_recovery_ = r.in_recovery;
  std::optional<uint32_t> tli = r.timeline;
  if (r.in_recovery && s->wal_receiver && s->wal_receiver->received_tli) {
    tli = s->wal_receiver->received_tli;
  }
  if (tli) {
    if (s->timeline && *s->timeline != *tli) s->timeline_changes++;
    s->timeline = tli;
  }

  DeadlineRowSource db(&conn_, deadline);
  if (!r.in_recovery) {
    if (r.current_lsn) {
      history_->wal.Record(target_.name, now, *r.current_lsn, keep_source);
    }
    if (options_.heartbeat) {
      auto t0 = Clock::now();
      int64_t seq = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
      auto w = db.Query(HeartbeatWriteSql(options_.heartbeat_id, seq));
      if (w.ok()) {
        history_->heartbeat.Record(target_.name, t0, static_cast<uint64_t>(seq),
                                   keep_source);
      } else if (conn_.connected()) {
        (void)db.Query("ROLLBACK");  // leave no aborted transaction behind
      }
      s->collectors.push_back({"heartbeat", w.ok(), Seconds(Clock::now() - t0)});
    }
    return;
  }

  // A receiver that died and came back between two polls leaves nothing in
  // the other readings: only its process identity tells.
  if (stream_restarts_.Observe(s->wal_receiver)) s->wal_receiver_restarts++;

  // A replica: lag against the primary's history, on this process's clock.
  // Without a receiver reading, whether it streams is unknown: no lag.
  if (s->CollectorOk("pg_stat_wal_receiver")) DeriveReplicaLag(s, now, keep_source);
  if (options_.heartbeat) {
    auto t0 = Clock::now();
    auto rows = db.Query(HeartbeatReadSql(options_.heartbeat_id));
    bool ok = rows.ok();
    if (ok) {
      if (auto seq = ParseHeartbeatRow(rows.value())) {
        auto b = history_->heartbeat.Estimate(static_cast<uint64_t>(*seq), now,
                                              keep_source);
        if (b) {
          s->heartbeat_lag_seconds =
              b->caught_up ? 0.0 : std::max(0.0, Seconds(now - b->since));
        }
      }
    }
    s->collectors.push_back({"heartbeat", ok, Seconds(Clock::now() - t0)});
  }
}

}  // namespace pgrepl
