// HostList: libpq's host, hostaddr and port lists, and pinning host names
// to addresses resolved ahead of libpq.
#ifndef PGREPL_EXPORTER_PG_HOST_LIST_H_
#define PGREPL_EXPORTER_PG_HOST_LIST_H_

#include <functional>
#include <string>
#include <vector>

#include "exporter/base/status.h"
#include "exporter/pg/conninfo.h"

namespace pgrepl {

// The values of libpq's host, hostaddr and port keywords, each a
// comma-separated list as libpq takes it, e.g.
//   host=db1.example,/var/run/postgresql  hostaddr=  port=5432,5433
struct HostList {
  std::string host;
  std::string hostaddr;
  std::string port;
  std::string service;  // a service file may name hosts of its own
};

// The lists libpq will use: each keyword as the conninfo gives it (even
// empty), else libpq's default for it (PGHOST, PGHOSTADDR, PGPORT,
// PGSERVICE, compiled defaults), as listed by LibpqDefaults().
HostList HostListOf(const ConninfoOptions& given,
                    const ConninfoOptions& defaults);

// PQconndefaults(): libpq's default for every keyword that has one.
ConninfoOptions LibpqDefaults();

// The addresses of one host name; empty when the name does not exist.
using HostLookup =
    std::function<Result<std::vector<std::string>>(const std::string& host)>;

// Resolves every host name of `hosts` with `lookup`, so that libpq, given
// the result, connects to addresses and never resolves a name itself
// (libpq does that synchronously, past any deadline). A name with N
// addresses becomes N entries of host (the name, kept for TLS verification
// and messages) and hostaddr (one address each); a per-host port list is
// repeated to match. Entries that are not names (empty, a Unix-socket
// directory starting with '/' or '@', an IP literal) get an empty hostaddr,
// which libpq resolves without DNS. Returned unchanged when nothing needs
// a lookup: hostaddr already set, a service named (its file may hold the
// hosts), no name in host, or a port list whose length matches neither 1
// nor the host list (libpq rejects it). A name that cannot be resolved is
// left out, as libpq would skip it; when no entry is left the first
// lookup error is returned: kTimeout as it came, anything else kConnect.
Result<HostList> PinHostAddresses(const HostList& hosts,
                                  const HostLookup& lookup);

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_PG_HOST_LIST_H_
