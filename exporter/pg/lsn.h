// Parsing of PostgreSQL log sequence numbers ("16/B374D848") into bytes.
#ifndef PGREPL_EXPORTER_PG_LSN_H_
#define PGREPL_EXPORTER_PG_LSN_H_

#include <cstdint>
#include <optional>
#include <string_view>

namespace pgrepl {

// Returns the WAL position in bytes for the textual pg_lsn form "X/Y", where
// X and Y are 1 to 8 hex digits (upper 32 bits / lower 32 bits). Covers the
// full 64-bit range: "FFFFFFFF/FFFFFFFF" is 2^64-1. Returns nullopt for
// anything else, including empty input, so callers never mistake garbage
// for position 0.
std::optional<uint64_t> ParseLsn(std::string_view text);

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_PG_LSN_H_
