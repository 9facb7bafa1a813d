// Typed readers for text cells: NULL and garbage become nullopt, never 0.
#ifndef PGREPL_EXPORTER_PG_VALUES_H_
#define PGREPL_EXPORTER_PG_VALUES_H_

#include <cstdint>
#include <optional>
#include <string>

namespace pgrepl {

using Cell = std::optional<std::string>;

std::optional<bool> ParseBool(const Cell& cell);      // "t" / "f"
std::optional<int64_t> ParseInt(const Cell& cell);    // whole cell
std::optional<double> ParseDouble(const Cell& cell);  // finite only
std::optional<uint64_t> ParseLsnCell(const Cell& cell);
// Timeline of a WAL file name ("000000010000000000000003" -> 1).
std::optional<uint32_t> TimelineFromWalFile(const Cell& cell);

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_PG_VALUES_H_
