// PreparedStatements: which statement texts one session has prepared, and
// under which names.
#ifndef PGREPL_EXPORTER_PG_PREPARED_STATEMENTS_H_
#define PGREPL_EXPORTER_PG_PREPARED_STATEMENTS_H_

#include <cstddef>
#include <map>
#include <string>

namespace pgrepl {

// The names of one session's prepared statements: "pgrepl_1", "pgrepl_2",
// ... in the order the texts were first seen, so names are unique within
// the session and start over with the next one (Reset). A text whose
// preparation failed is tried again the next time. At most `capacity`
// texts are kept: beyond that a statement runs unnamed (parsed and planned
// each time), so texts that vary per call cannot grow the server's memory
// without bound. Not thread-safe: one owner, as its session.
class PreparedStatements {
 public:
  static constexpr size_t kDefaultCapacity = 64;

  explicit PreparedStatements(size_t capacity = kDefaultCapacity)
      : capacity_(capacity) {}

  // How to send `sql` now.
  struct Plan {
    std::string name;      // empty: run unnamed (the registry is full)
    bool prepare = false;  // send a Parse for `name` first
  };
  // Gives `sql` a name on first sight.
  Plan For(const std::string& sql);

  // The server answered the Parse of `sql`: later calls skip it. A failed
  // Parse leaves `sql` to be prepared again.
  void Prepared(const std::string& sql);

  // A new session: the server knows none of the names.
  void Reset();

  size_t size() const { return names_.size(); }

 private:
  struct Entry {
    std::string name;
    bool prepared = false;
  };
  const size_t capacity_;
  std::map<std::string, Entry> names_;
  int next_ = 0;
};

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_PG_PREPARED_STATEMENTS_H_
