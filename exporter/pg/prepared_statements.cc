// PreparedStatements: which statement texts one session has prepared, and
// under which names.
#include "exporter/pg/prepared_statements.h"

namespace pgrepl {

PreparedStatements::Plan PreparedStatements::For(const std::string& sql) {
  auto it = names_.find(sql);
  if (it == names_.end()) {
    if (names_.size() >= capacity_) return Plan{};
    it = names_.emplace(sql, Entry{"pgrepl_" + std::to_string(++next_), false})
             .first;
  }
  return Plan{it->second.name, !it->second.prepared};
}

void PreparedStatements::Prepared(const std::string& sql) {
  auto it = names_.find(sql);
  if (it != names_.end()) it->second.prepared = true;
}

void PreparedStatements::Reset() {
  names_.clear();
  next_ = 0;
}

}  // namespace pgrepl
