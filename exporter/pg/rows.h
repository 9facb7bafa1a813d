// A query result as plain values: the seam between libpq and the collectors.
#ifndef PGREPL_EXPORTER_PG_ROWS_H_
#define PGREPL_EXPORTER_PG_ROWS_H_

#include <optional>
#include <string>
#include <vector>

namespace pgrepl {

// Text-format rows. A NULL cell is nullopt, never "" or "0".
struct Rows {
  std::vector<std::string> columns;
  std::vector<std::vector<std::optional<std::string>>> values;

  // Index of `column`, or -1 when the result has no such column.
  int ColumnIndex(const std::string& column) const {
    for (size_t i = 0; i < columns.size(); ++i) {
      if (columns[i] == column) return static_cast<int>(i);
    }
    return -1;
  }
  // The cell, or nullopt when it is NULL or the column is absent.
  const std::optional<std::string>& Get(size_t row,
                                        const std::string& column) const {
    static const std::optional<std::string> kMissing;
    int i = ColumnIndex(column);
    return i < 0 ? kMissing : values[row][i];
  }
};

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_PG_ROWS_H_
