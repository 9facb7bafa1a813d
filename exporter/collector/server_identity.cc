// The server's identity, read once per session: pg_control_system()'s
// system identifier, the postmaster start time and the server's address.
#include "exporter/collector/server_identity.h"

#include <cctype>

namespace pgrepl {

// Sample row (PostgreSQL 15, columns as in the documentation of
// pg_control_system(), pg_postmaster_start_time()
// and inet_server_addr(); server_address is NULL over a Unix socket):
//   system_identifier   | postmaster_start              | server_address
//   7714835322823784349 | 2026-12-02 22:21:16.041698+00 | 10.244.1.17
std::string ServerIdentitySql() {
  return "SELECT system_identifier::text AS system_identifier, "
         "pg_postmaster_start_time()::text AS postmaster_start, "
         "host(inet_server_addr()) AS server_address "
         "FROM pg_control_system()";
}

Status ParseServerIdentity(const Rows& rows, ServerIdentity* out) {
  if (rows.values.size() != 1) {
    return Status::Query("expected one pg_control_system() row");
  }
  const auto& id = rows.Get(0, "system_identifier");
  if (!id || id->empty()) {
    return Status::Query("pg_control_system() gave no system identifier");
  }
  for (char c : *id) {
    if (!std::isdigit(static_cast<unsigned char>(c))) {
      return Status::Query("system identifier is not a number");
    }
  }
  out->system_identifier = *id;
  const auto& start = rows.Get(0, "postmaster_start");
  out->postmaster_start = start ? *start : "";
  const auto& address = rows.Get(0, "server_address");
  out->address = address ? *address : "";
  return Status::Ok();
}

}  // namespace pgrepl
