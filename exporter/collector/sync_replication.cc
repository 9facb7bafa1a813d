// Collector for synchronous replication: synchronous_standby_names, each
// walsender's sync_priority / sync_state, and commits waiting on SyncRep.
#include "exporter/collector/sync_replication.h"

#include <strings.h>

#include <cctype>
#include <set>

#include "exporter/base/metric_sink.h"
#include "exporter/model/snapshot.h"
#include "exporter/pg/row_source.h"
#include "exporter/pg/values.h"

namespace pgrepl {
namespace {

// A token of synchronous_standby_names (PostgreSQL's syncrep_scanner.l).
struct Token {
  enum Kind { kEnd, kName, kNum, kFirst, kAny, kOpen, kClose, kComma } kind;
  std::string text;
};

bool IdentStart(unsigned char c) {
  return std::isalpha(c) || c == '_' || c >= 0x80;
}
bool IdentCont(unsigned char c) {
  return IdentStart(c) || std::isdigit(c) || c == '$';
}

Result<std::vector<Token>> Scan(const std::string& text) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char c = text[i];
    if (std::isspace(c)) {
      ++i;
    } else if (c == '(' || c == ')' || c == ',') {
      out.push_back({c == '('   ? Token::kOpen
                     : c == ')' ? Token::kClose
                                : Token::kComma,
                     std::string(1, c)});
      ++i;
    } else if (c == '*') {
      out.push_back({Token::kName, "*"});
      ++i;
    } else if (c == '"') {
      std::string name;
      ++i;
      for (;;) {
        if (i >= text.size()) {
          return Status::Query(
              "synchronous_standby_names: unterminated quoted name");
        }
        if (text[i] == '"') {
          if (i + 1 < text.size() && text[i + 1] == '"') {
            name += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        name += text[i++];
      }
      out.push_back({Token::kName, name});
    } else if (std::isdigit(c)) {
      size_t j = i;
      while (j < text.size() &&
             std::isdigit(static_cast<unsigned char>(text[j])))
        ++j;
      out.push_back({Token::kNum, text.substr(i, j - i)});
      i = j;
    } else if (IdentStart(c)) {
      size_t j = i;
      while (j < text.size() && IdentCont(static_cast<unsigned char>(text[j])))
        ++j;
      std::string word = text.substr(i, j - i);
      Token::Kind kind = Token::kName;
      if (strcasecmp(word.c_str(), "first") == 0) kind = Token::kFirst;
      if (strcasecmp(word.c_str(), "any") == 0) kind = Token::kAny;
      out.push_back({kind, word});
      i = j;
    } else {
      return Status::Query(
          std::string("synchronous_standby_names: unexpected character '") +
          static_cast<char>(c) + "'");
    }
  }
  out.push_back({Token::kEnd, ""});
  return out;
}

}  // namespace

const char* SyncMethodName(SyncStandbyConfig::Method method) {
  switch (method) {
    case SyncStandbyConfig::Method::kFirst:
      return "first";
    case SyncStandbyConfig::Method::kAny:
      return "any";
    case SyncStandbyConfig::Method::kOff:
      break;
  }
  return "off";
}

Result<SyncStandbyConfig> ParseSyncStandbyNames(const std::string& text) {
  auto scanned = Scan(text);
  if (!scanned.ok()) return scanned.status();
  const std::vector<Token>& t = scanned.value();
  SyncStandbyConfig config;
  if (t[0].kind == Token::kEnd) return config;  // empty: off
  auto fail = [](const std::string& why) -> Result<SyncStandbyConfig> {
    return Status::Query("synchronous_standby_names: " + why);
  };
  size_t i = 0;
  bool parenthesised = false;
  config.method = SyncStandbyConfig::Method::kFirst;
  config.num_sync = 1;
  if (t[0].kind == Token::kFirst || t[0].kind == Token::kAny) {
    if (t[0].kind == Token::kAny)
      config.method = SyncStandbyConfig::Method::kAny;
    if (t[1].kind != Token::kNum)
      return fail("expected a number after " + t[0].text);
    i = 1;
    parenthesised = true;
  } else if (t[0].kind == Token::kNum && t[1].kind == Token::kOpen) {
    parenthesised = true;  // "n (list)", the form before PostgreSQL 10
  }
  if (parenthesised) {
    const std::string& num = t[i].text;
    if (num.size() > 9) return fail("number of standbys out of range");
    config.num_sync = std::stoi(num);
    if (config.num_sync < 1) {
      return fail("number of synchronous standbys must be greater than zero");
    }
    if (t[i + 1].kind != Token::kOpen) return fail("expected '(' after " + num);
    i += 2;
  }
  for (;;) {
    if (t[i].kind != Token::kName && t[i].kind != Token::kNum) {
      return fail("expected a standby name");
    }
    config.names.push_back(t[i].text);
    ++i;
    if (t[i].kind == Token::kComma) {
      ++i;
      continue;
    }
    break;
  }
  if (parenthesised) {
    if (t[i].kind != Token::kClose) return fail("expected ')'");
    ++i;
  }
  if (t[i].kind != Token::kEnd) return fail("unexpected '" + t[i].text + "'");
  return config;
}

bool SyncNameMatches(const std::string& name,
                     const std::string& application_name) {
  return name == "*" || strcasecmp(name.c_str(), application_name.c_str()) == 0;
}

// Sample row:
//   standby_names                | commits_waiting
//   FIRST 1 (replica1, replica2) | 2
// pg_stat_get_activity(NULL) spares pg_stat_activity's joins; the scalar
// subquery is an InitPlan, run only when the CASE reaches it.
std::string SyncReplicationSql() {
  return "SELECT current_setting('synchronous_standby_names') AS "
         "standby_names, CASE WHEN "
         "current_setting('synchronous_standby_names') = '' THEN 0 ELSE "
         "(SELECT count(*) FROM pg_stat_get_activity(NULL) a "
         "WHERE a.wait_event = 'SyncRep') END AS commits_waiting";
}

Result<SyncReplicationReading> ParseSyncReplication(const Rows& rows) {
  if (rows.values.size() != 1) {
    return Status::Query("sync_replication: expected one row");
  }
  SyncReplicationReading r;
  r.standby_names = rows.Get(0, "standby_names").value_or("");
  auto config = ParseSyncStandbyNames(r.standby_names);
  if (!config.ok()) return config.status();
  r.config = std::move(config.value());
  auto waiting = ParseInt(rows.Get(0, "commits_waiting"));
  if (!waiting) return Status::Query("sync_replication: no commits_waiting");
  r.commits_waiting = *waiting;
  return r;
}

int64_t ConnectedSyncStandbys(const std::vector<StandbyRow>& standbys) {
  int64_t n = 0;
  for (const auto& w : standbys) {
    if (w.state == "streaming" && w.sync_priority && *w.sync_priority > 0) ++n;
  }
  return n;
}

bool SyncReplicationCollector::Due(const StatementPlan& plan) const {
  if (plan.full) return true;
  const auto* last = plan.last->Reading<SyncReplicationReading>(name());
  return plan.role == Role::kPrimary && last != nullptr &&
         !last->standby_names.empty();
}

std::vector<std::string> SyncReplicationCollector::Statements(
    const StatementPlan&) const {
  return {SyncReplicationSql()};
}

Status SyncReplicationCollector::Update(RowSource& db, const PollContext&,
                                        InstanceSnapshot* s) const {
  auto rows = db.Query(SyncReplicationSql());
  if (!rows.ok()) return rows.status();
  auto reading = ParseSyncReplication(rows.value());
  if (!reading.ok()) return reading.status();
  s->readings[name()] = std::move(reading.value());
  return Status::Ok();
}

void SyncReplicationCollector::Emit(const InstanceSnapshot& s,
                                    MetricSink& sink) const {
  if (s.role() != Role::kPrimary) return;
  const auto* r = s.Reading<SyncReplicationReading>(name());
  if (r == nullptr) return;
  sink.Gauge("pgrepl_sync_standbys_required",
             "Synchronous standbys a commit waits for, from "
             "synchronous_standby_names (FIRST n / ANY n; 1 for a plain "
             "list); 0 when synchronous replication is off.",
             r->config.num_sync);
  sink.Gauge("pgrepl_sync_commits_waiting",
             "Backends waiting for synchronous standbys to confirm their "
             "commit (pg_stat_activity wait_event SyncRep).",
             static_cast<double>(r->commits_waiting));
  sink.Gauge("pgrepl_sync_replication_info",
             "synchronous_standby_names and its method (off, first, any); "
             "value is 1.",
             1,
             {{"method", SyncMethodName(r->config.method)},
              {"standby_names", r->standby_names}});
  // Without pg_stat_replication's rows this poll, whether standbys are
  // connected is unknown: no sample rather than 0.
  if (!s.standbys) return;
  sink.Gauge("pgrepl_sync_standbys_connected",
             "Walsenders that can confirm a synchronous commit now: "
             "streaming, with sync_priority above 0. Below "
             "pgrepl_sync_standbys_required, synchronous commits wait.",
             static_cast<double>(ConnectedSyncStandbys(*s.standbys)));
  // One series per standby name: a second walsender under the same name
  // (a base backup, a reconnect in progress) yields to the streaming one.
  std::set<std::string> seen;
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& w : *s.standbys) {
      if ((pass == 0) != (w.state == "streaming")) continue;
      if (!w.sync_priority || !seen.insert(w.application_name).second) {
        continue;
      }
      sink.Gauge(
          "pgrepl_standby_sync_priority",
          "The standby's priority for becoming synchronous "
          "(pg_stat_replication.sync_priority; 0: asynchronous).",
          static_cast<double>(*w.sync_priority),
          {{"standby", w.application_name}, {"sync_state", w.sync_state}});
    }
  }
}

}  // namespace pgrepl
