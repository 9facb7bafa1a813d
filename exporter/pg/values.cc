// Typed readers for text cells: NULL and garbage become nullopt, never 0.
#include "exporter/pg/values.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

#include "exporter/pg/lsn.h"

namespace pgrepl {

std::optional<bool> ParseBool(const Cell& cell) {
  if (!cell) return std::nullopt;
  if (*cell == "t") return true;
  if (*cell == "f") return false;
  return std::nullopt;
}

std::optional<int64_t> ParseInt(const Cell& cell) {
  if (!cell || cell->empty()) return std::nullopt;
  int64_t v = 0;
  auto [end, ec] =
      std::from_chars(cell->data(), cell->data() + cell->size(), v);
  if (ec != std::errc() || end != cell->data() + cell->size())
    return std::nullopt;
  return v;
}

std::optional<double> ParseDouble(const Cell& cell) {
  if (!cell || cell->empty()) return std::nullopt;
  char* end = nullptr;
  double v = std::strtod(cell->c_str(), &end);
  if (end != cell->c_str() + cell->size() || !std::isfinite(v)) {
    return std::nullopt;
  }
  return v;
}

std::optional<uint64_t> ParseLsnCell(const Cell& cell) {
  if (!cell) return std::nullopt;
  return ParseLsn(*cell);
}

std::optional<uint32_t> TimelineFromWalFile(const Cell& cell) {
  if (!cell || cell->size() != 24) return std::nullopt;
  uint32_t tli = 0;
  auto [end, ec] = std::from_chars(cell->data(), cell->data() + 8, tli, 16);
  if (ec != std::errc() || end != cell->data() + 8) return std::nullopt;
  return tli;
}

}  // namespace pgrepl
