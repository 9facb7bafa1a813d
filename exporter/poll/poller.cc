// Poller: one thread that polls one instance on a fixed interval.
#include "exporter/poll/poller.h"

#include <algorithm>
#include <exception>
#include <map>

#include "exporter/base/logging.h"
#include "exporter/collector/server_identity.h"
#include "exporter/model/snapshot_store.h"
#include "exporter/pg/row_source.h"
#include "exporter/poll/replica_lag.h"

namespace pgrepl {
namespace {

using Clock = Poller::Clock;

// A poll's answers: the results of the batch the poller sent, each handed
// out once to the Query() of its exact text. Any other query (a statement
// no collector declared, or one asked twice) runs live on the session,
// bounded by the poll's deadline, and counts a round trip of its own.
class BatchRowSource : public RowSource {
 public:
  // `server_version` is the session's when the batch was sent: a batch
  // that timed out closed the session, and Update() must still find its
  // answers under the texts it declared for that version.
  BatchRowSource(Session* session, int server_version,
                 Clock::time_point deadline,
                 const std::vector<std::string>& statements,
                 std::vector<Result<Rows>> results, uint64_t* round_trips)
      : session_(session),
        server_version_(server_version),
        deadline_(deadline),
        round_trips_(round_trips) {
    for (size_t i = 0; i < statements.size() && i < results.size(); ++i) {
      answers_.emplace(statements[i], std::move(results[i]));
    }
  }
  Result<Rows> Query(const std::string& sql) override {
    auto it = answers_.find(sql);
    if (it != answers_.end()) {
      Result<Rows> answer = std::move(it->second);
      answers_.erase(it);
      return answer;
    }
    if (!session_->connected()) return Status::Query("connection lost");
    ++*round_trips_;
    return session_->Query(sql, deadline_);
  }
  int server_version() const override { return server_version_; }

 private:
  Session* session_;  // not owned
  const int server_version_;
  Clock::time_point deadline_;
  uint64_t* round_trips_;  // not owned
  std::map<std::string, Result<Rows>> answers_;
};

double Seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

}  // namespace

Poller::Options Poller::OptionsFrom(const Config& c) {
  return {c.poll_interval,
          c.poll_timeout,
          c.connect_timeout,
          c.reconnect_backoff_max,
          c.password,
          false,
          nullptr};
}

Poller::Poller(std::string cluster, InstanceTarget target, bool discovered,
               Options options,
               const std::vector<std::unique_ptr<Collector>>* collectors,
               ClusterHistory* history, SnapshotStore* store,
               SessionFactory sessions)
    : cluster_(std::move(cluster)),
      target_(std::move(target)),
      options_(std::move(options)),
      collectors_(collectors),
      history_(history),
      store_(store),
      sessions_(std::move(sessions)),
      session_(sessions_(target_.conninfo, options_.password)) {
  s_.cluster = cluster_;
  s_.instance = target_.name;
  s_.configured_primary = target_.configured_primary;
  s_.discovered = discovered;
}

Poller::~Poller() {
  RequestStop();
  if (thread_.joinable()) thread_.join();
}

void Poller::RequestStop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
}

void Poller::Start() {
  if (!options_.primary_watch) {
    store_->Publish(std::make_shared<const InstanceSnapshot>(s_));
  }
  thread_ = std::thread([this] { Run(); });
}

void Poller::Retarget(std::string conninfo) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    new_conninfo_ = std::move(conninfo);
  }
  cv_.notify_all();
}

void Poller::Run() {
  auto next = Clock::now();
  bool first = true;
  while (true) {
    PollOnce(Clock::now());
    // Fixed-rate schedule, shifted by the phase after the first poll; a
    // poll that overran skips the missed slots and keeps the phase.
    next += first && options_.phase.count() > 0 ? options_.phase
                                                : options_.interval;
    first = false;
    auto now = Clock::now();
    while (next < now) next += options_.interval;
    std::unique_lock<std::mutex> lock(mu_);
    // A Retarget() ends the wait: the new address is polled at once.
    cv_.wait_until(lock, next,
                   [this] { return stop_ || new_conninfo_.has_value(); });
    if (stop_) break;
  }
  session_->Close();
}

Clock::duration Poller::KeepSource() const {
  return 3 * options_.interval + options_.timeout;
}

void Poller::RecordFailure(const Status& st) {
  s_.errors[PollErrorIndex(st.kind())]++;
  s_.last_error =
      std::string(Status::KindName(st.kind())) + ": " + st.message();
  // Warn once per outage; repeats go to debug.
  Log(failure_logged_ ? spdlog::level::debug : spdlog::level::warn,
      "poll failed",
      {{"cluster", cluster_},
       {"instance", target_.name},
       {"err", s_.last_error}});
  failure_logged_ = true;
}

void Poller::ApplyRetarget() {
  std::optional<std::string> conninfo;
  {
    std::lock_guard<std::mutex> lock(mu_);
    conninfo.swap(new_conninfo_);
  }
  if (!conninfo) return;
  session_->Close();
  session_ = sessions_(*conninfo, options_.password);
  next_connect_ = {};  // connect at once: the old address says nothing
  backoff_ = std::chrono::milliseconds(0);
}

void Poller::BackOff(Clock::time_point start, const Status& why) {
  // A sidecar's watch of the primary tries again every poll: until it
  // sees the primary back, a replica whose stream is down may still serve
  // without one, while clients commit again (docs/http.md). One attempt a
  // poll at the write endpoint is cheap; the others double up to the cap.
  backoff_ = backoff_.count() == 0 || options_.primary_watch
                 ? options_.interval
                 : std::min(backoff_ * 2, options_.backoff_max);
  next_connect_ = start + backoff_;
  RecordFailure(why);
}

bool Poller::EnsureConnected(Clock::time_point start,
                             Clock::time_point deadline) {
  if (session_->connected()) {
    if (name_pending_) NameServer(deadline);
    return true;
  }
  // Backing off: no attempt before next_connect_. Polls wake a little
  // after their slots, by varying amounts; half an interval of slack keeps
  // an attempt due at this slot from slipping to the next one.
  if (start + options_.interval / 2 < next_connect_) return false;
  Status st = session_->Connect(
      std::min(deadline, start + options_.connect_timeout), options_.timeout);
  if (!st.ok()) {
    BackOff(start, st);
    return false;
  }
  if (Status same = CheckServerIdentity(deadline); !same.ok()) {
    session_->Close();
    BackOff(start, same);
    return false;
  }
  backoff_ = std::chrono::milliseconds(0);
  s_.connects++;
  full_due_ = true;  // a new session may reach a changed server
  Log(spdlog::level::info, "connected",
      {{"cluster", cluster_},
       {"instance", target_.name},
       {"backend_pid", std::to_string(session_->backend_pid())},
       {"system_identifier",
        s_.server ? s_.server->system_identifier : "unknown"}});
  return true;
}

Status Poller::CheckServerIdentity(Clock::time_point deadline) {
  s_.poll_round_trips++;
  auto rows = session_->Query(ServerIdentitySql(), deadline);
  ServerIdentity id;
  Status st =
      rows.ok() ? ParseServerIdentity(rows.value(), &id) : rows.status();
  if (!st.ok()) {
    // Unreadable (a revoked function, an old server): not checked, said
    // once. A timeout closed the session; the poll then fails as usual.
    if (!identity_warned_) {
      Log(spdlog::level::warn, "server identity unknown; not checked",
          {{"cluster", cluster_},
           {"instance", target_.name},
           {"err", st.message()}});
      identity_warned_ = true;
    }
    return Status::Ok();
  }
  if (s_.server && s_.server->system_identifier != id.system_identifier) {
    return Status::Connect(
        "a different database cluster answers at this address: system "
        "identifier " +
        id.system_identifier + ", not " + s_.server->system_identifier +
        " as before; restart the exporter if the cluster was rebuilt");
  }
  if (options_.server_namer && !(s_.server && s_.server->SameServer(id))) {
    // Another server (or another run of it) answers: its name is new.
    s_.server_name.clear();
    name_pending_ = true;
  }
  s_.server = id;
  if (name_pending_) NameServer(deadline);
  return Status::Ok();
}

void Poller::NameServer(Clock::time_point deadline) {
  const auto budget = std::min(deadline, Clock::now() + options_.timeout / 4);
  auto name = ServerNameOf(options_.server_namer, s_.server->address, budget);
  if (!name.ok()) {
    // Tried again next poll; meanwhile the configured name stands.
    Log(spdlog::level::debug, "server name lookup failed",
        {{"cluster", cluster_},
         {"instance", target_.name},
         {"err", name.status().message()}});
    return;
  }
  name_pending_ = false;
  if (name.value() != s_.server_name) {
    Log(spdlog::level::info, "server named",
        {{"cluster", cluster_},
         {"instance", target_.name},
         {"address", s_.server->address},
         {"name", name.value().empty() ? "(none)" : name.value()}});
  }
  s_.server_name = name.value();
}

void Poller::PollOnce(Clock::time_point start) {
  // This instance's own budget starts after the watch's.
  auto deadline = start + options_.timeout;
  if (primary_watch_ != nullptr) {
    primary_watch_->PollOnce(start);
    deadline = std::max(start, Clock::now()) + options_.timeout;
  }
  s_.BeginPoll(InstanceSnapshot::WallClock::now());
  ApplyRetarget();

  if (EnsureConnected(start, deadline)) {
    Status first_error;
    try {
      first_error = RunCollectors(deadline);
    } catch (const std::exception& e) {  // never ends the poller thread
      session_->Close();
      first_error = Status::Query(std::string("poll failed: ") + e.what());
    }
    // A server that ended the session during the poll (a shutdown, a
    // terminated backend) is going away: down, though it answered the
    // role first. A session this side closed on a timeout is not: the
    // server is slow, and what it answered stands.
    if (s_.up && !session_->connected() &&
        first_error.kind() != Status::Kind::kTimeout) {
      s_.up = false;
    }
    if (s_.up) Derive();
    if (!first_error.ok()) {
      RecordFailure(first_error);
    } else {
      s_.last_error.clear();
    }
    if (s_.up) {
      s_.last_success = s_.polled_at;
      if (failure_logged_ && first_error.ok()) {
        Log(spdlog::level::info, "instance recovered",
            {{"cluster", cluster_}, {"instance", target_.name}});
        failure_logged_ = false;
      }
    }
  }
  s_.round_trips += s_.poll_round_trips;
  s_.poll_duration_seconds = Seconds(Clock::now() - start);
  if (options_.primary_watch) {
    history_->primary_reach.Record(s_.up && s_.role() == Role::kPrimary,
                                   Clock::now());
    return;
  }
  last_ = std::make_shared<const InstanceSnapshot>(s_);
  store_->Publish(last_);
}

Status Poller::RunCollectors(Clock::time_point deadline) {
  StatementPlan plan;
  plan.server_version_num = session_->server_version();
  if (last_ != nullptr && last_->up) {
    plan.last = last_.get();
    plan.role = last_->role();  // what this poll's statements are chosen by
  }
  plan.full = full_due_ || plan.last == nullptr;
  // Every due collector's statements, each text once, the role's first.
  std::vector<std::string> statements;
  for (const auto& c : *collectors_) {
    if (!c->Due(plan)) continue;
    for (auto& sql : c->Statements(plan)) {
      if (std::find(statements.begin(), statements.end(), sql) ==
          statements.end()) {
        statements.push_back(std::move(sql));
      }
    }
  }
  std::vector<Result<Rows>> results;
  if (!statements.empty()) {
    results = session_->Batch(statements, deadline);
    s_.poll_round_trips += session_->batch_round_trips();
  }
  BatchRowSource db(session_.get(), plan.server_version_num, deadline,
                    statements, std::move(results), &s_.poll_round_trips);
  PollContext ctx{history_, KeepSource(), plan};
  Status first_error;
  for (const auto& c : *collectors_) {
    if (!c->ReadsRole() && !c->Due(ctx.plan)) {
      // Not due: its last reading stands (read at most kFullPollEvery
      // polls ago, in this session, in this role), and so does its run;
      // one that has nothing to read in this role has not failed.
      CollectorRun run{c->name(), true, 0};
      if (ctx.plan.last != nullptr) {
        c->CarryForward(*ctx.plan.last, &s_);
        for (const auto& r : ctx.plan.last->collectors) {
          if (r.name == c->name()) run = r;
        }
      }
      s_.collectors.push_back(std::move(run));
      continue;
    }
    auto t0 = Clock::now();
    Status st = c->Update(db, ctx, &s_);
    s_.collectors.push_back({c->name(), st.ok(), Seconds(Clock::now() - t0)});
    if (!st.ok() && first_error.ok()) first_error = st;
    if (c->ReadsRole()) {
      if (!st.ok()) break;  // down: the others need the role
      s_.up = true;         // the collectors after it see role()
      if (ctx.plan.last != nullptr && s_.role() != ctx.plan.role) {
        // The role changed since the statements were chosen: nothing of
        // the old role carries over, and what the new role reads and was
        // not sent runs on its own round trip.
        ctx.plan.full = true;
        ctx.plan.last = nullptr;
      }
      ctx.plan.role = s_.role();
    }
  }
  // A full poll is due again after one that did not read the role (its
  // snapshot has nothing to carry forward), after a role change, and
  // every kFullPollEvery polls. A collector that failed is read again on
  // its next due poll; until then its failure is what carries forward.
  if (plan.full) {
    full_due_ = !s_.up;
    if (s_.up) polls_since_full_ = 1;  // this one included
  } else {
    full_due_ = !s_.up || ++polls_since_full_ >= kFullPollEvery;
  }
  if (s_.up && last_role_ && *last_role_ != s_.role()) full_due_ = true;
  return first_error;
}

void Poller::DeriveReplicaLag(Clock::time_point now,
                              Clock::duration keep_source) {
  const RecoveryInfo& r = *s_.recovery;
  ReplicaLagInput in;
  in.streaming = s_.replica_state() == ReplicaState::kStreaming;
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
  s_.replica_lag_seconds = lag.seconds;
  s_.replica_lag_bytes = lag.bytes;
  s_.replica_lag_histogram.Observe(lag.seconds);
}

void Poller::Derive() {
  const RecoveryInfo& r = *s_.recovery;
  const auto now = Clock::now();
  const auto keep_source = KeepSource();

  if (last_role_ && *last_role_ != s_.role()) {
    s_.role_changes++;
    stream_restarts_.Reset();  // a re-attached replica's first stream is new
    Log(spdlog::level::warn, "role changed",
        {{"cluster", cluster_},
         {"instance", target_.name},
         {"role", RoleName(s_.role())}});
  }
  last_role_ = s_.role();
  std::optional<uint32_t> tli = r.timeline;
  if (s_.role() == Role::kReplica && s_.wal_receiver &&
      s_.wal_receiver->received_tli) {
    tli = s_.wal_receiver->received_tli;
  }
  if (tli) {
    if (s_.timeline && *s_.timeline != *tli) s_.timeline_changes++;
    s_.timeline = tli;
  }

  if (s_.role() == Role::kPrimary) {
    if (r.current_lsn) {
      history_->wal.Record(target_.name, now, *r.current_lsn, keep_source);
    }
    return;
  }

  // A receiver that died and came back between two polls leaves nothing in
  // the other readings: only its process identity tells.
  if (stream_restarts_.Observe(s_.wal_receiver)) s_.wal_receiver_restarts++;

  // A replica: lag against the primary's history, on this process's clock.
  // Without a receiver reading, whether it streams is unknown: no lag.
  if (s_.replica_state() != ReplicaState::kUnknown) {
    DeriveReplicaLag(now, keep_source);
  }
  DeriveWithoutPrimary(now);
}

void Poller::DeriveWithoutPrimary(Clock::time_point now) {
  const PrimaryReach::State reach = history_->primary_reach.Get();
  if (!reach.watched) return;
  s_.primary_reachable = reach.reachable;
  const auto last = history_->wal.Latest();
  if (last) {
    s_.primary_last_seen_lsn = last->position;
    s_.primary_last_seen_age_seconds = Seconds(now - last->t);
  }
  // The rule for reads without a primary: nothing can have committed
  // since the primary was last seen, and this replica has replayed all of
  // it. A replica still streaming is judged by its lag as usual; one whose
  // stream is down while the primary is reachable is stale.
  // A stream seen down while the watch still reached the primary was cut
  // on its own (the replica's network, its conninfo): a later failed watch
  // poll must not turn it into a replica that serves reads.
  const ReplicaState state = s_.replica_state();
  const bool stream_down = state == ReplicaState::kNoReceiver ||
                           state == ReplicaState::kNotStreaming;
  if (!stream_down) {
    cut_while_primary_reachable_ = false;
  } else if (reach.reachable) {
    cut_while_primary_reachable_ = true;
  }
  const auto& replay = s_.recovery->replay_lsn;
  s_.serving_without_primary = !reach.reachable && stream_down &&
                               !cut_while_primary_reachable_ && last &&
                               replay && *replay >= last->position;
}

}  // namespace pgrepl
