// RowSource: the query interface collectors use; real or canned in tests.
#ifndef PGREPL_EXPORTER_PG_ROW_SOURCE_H_
#define PGREPL_EXPORTER_PG_ROW_SOURCE_H_

#include <string>

#include "exporter/base/status.h"
#include "exporter/pg/rows.h"

namespace pgrepl {

class RowSource {
 public:
  virtual ~RowSource() = default;
  // Runs one statement and returns its rows, or an error Status.
  virtual Result<Rows> Query(const std::string& sql) = 0;
  // server_version_num of the connected server (e.g. 150004).
  virtual int server_version() const = 0;
};

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_PG_ROW_SOURCE_H_
