// Test support: find samples in rendered metric families, and tell whether
// a SQL text reads a column (as opposed to only naming an output alias).
#ifndef PGREPL_TESTS_UNIT_METRIC_MATCHERS_H_
#define PGREPL_TESTS_UNIT_METRIC_MATCHERS_H_

#include <prometheus/metric_family.h>

#include <cctype>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace pgrepl {

using Labels = std::map<std::string, std::string>;

// Samples of `name` whose labels include every pair of `want`.
inline std::vector<const prometheus::ClientMetric*> Matches(
    const std::vector<prometheus::MetricFamily>& fams, const std::string& name,
    const Labels& want) {
  std::vector<const prometheus::ClientMetric*> out;
  for (const auto& f : fams) {
    if (f.name != name) continue;
    for (const auto& m : f.metric) {
      size_t hits = 0;
      for (const auto& l : m.label) {
        auto it = want.find(l.name);
        if (it != want.end() && it->second == l.value) ++hits;
      }
      if (hits == want.size()) out.push_back(&m);
    }
  }
  return out;
}

// The one sample of `name` matching `want`; null when none or several.
inline const prometheus::ClientMetric* One(
    const std::vector<prometheus::MetricFamily>& fams, const std::string& name,
    const Labels& want) {
  auto m = Matches(fams, name, want);
  return m.size() == 1 ? m[0] : nullptr;
}

// The gauge value of the one matching sample; nullopt when none or several.
inline std::optional<double> Value(
    const std::vector<prometheus::MetricFamily>& fams, const std::string& name,
    const Labels& want = {}) {
  const auto* m = One(fams, name, want);
  return m ? std::optional<double>(m->gauge.value) : std::nullopt;
}

// The counter value of the one matching sample; nullopt when none or several.
inline std::optional<double> CounterValue(
    const std::vector<prometheus::MetricFamily>& fams, const std::string& name,
    const Labels& want = {}) {
  const auto* m = One(fams, name, want);
  return m ? std::optional<double>(m->counter.value) : std::nullopt;
}

inline size_t Count(const std::vector<prometheus::MetricFamily>& fams,
                    const std::string& name, const Labels& want = {}) {
  return Matches(fams, name, want).size();
}

// True when `column` occurs in `sql` as a whole word that is not directly
// preceded by "AS " (an output alias such as "NULL AS wal_status").
inline bool ReadsColumn(const std::string& sql, const std::string& column) {
  auto word = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  };
  for (size_t pos = sql.find(column); pos != std::string::npos;
       pos = sql.find(column, pos + 1)) {
    size_t end = pos + column.size();
    if (pos > 0 && word(sql[pos - 1])) continue;
    if (end < sql.size() && word(sql[end])) continue;
    if (pos >= 3 && sql.compare(pos - 3, 3, "AS ") == 0) continue;
    return true;
  }
  return false;
}

}  // namespace pgrepl

#endif  // PGREPL_TESTS_UNIT_METRIC_MATCHERS_H_
