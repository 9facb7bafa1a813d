// MergeSameServer: one shown instance per server, however many targets
// reach it.
#ifndef PGREPL_EXPORTER_MODEL_SERVER_MERGE_H_
#define PGREPL_EXPORTER_MODEL_SERVER_MERGE_H_

#include <vector>

#include "exporter/model/snapshot_store.h"

namespace pgrepl {

// The instances as /metrics and /status show them, from the store's
// entries (one per target). Targets of one cluster whose sessions reached
// the same server (ServerIdentity::SameServer: system identifier and
// postmaster start time; sticky while a target is down) are one instance:
// after a failover the write endpoint (DB_HOST) and the promoted pod's
// discovered address reach one server, which counts once. A target whose
// server is unknown is never merged.
//
// The shown instance:
//  - name: the first discovered target's, by name (the pod name: it
//    follows the server through a failover); else the server_name of a
//    target that has one (the configured primary named after its pod);
//    else the first target's name. A name taken from server_name that
//    another shown instance of the cluster already has falls back to the
//    target's own name, so no two shown instances share one.
//  - readings, counters and lag history: one target's, the first of the
//    targets that are up, discovered first, then by name; with none up,
//    the first discovered one. Nothing is summed.
//  - configured_primary / discovered: true when any of its targets is.
//  - aliases: the names of its targets other than the shown name.
// An entry shown unchanged is passed through; others are copies. Output
// is ordered by (cluster, instance), as SnapshotStore::Entries().
std::vector<SnapshotStore::Entry> MergeSameServer(
    const std::vector<SnapshotStore::Entry>& entries);

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_MODEL_SERVER_MERGE_H_
