#!/usr/bin/env bash
# replica-bootstrap.sh - init container of every postgres-replica pod:
# makes $PGDATA a streaming hot standby of the primary, once.
#
#  1. Writes the replication password file ($PGPASSFILE, umask 077) from the
#     Secret's environment. It lives in a memory emptyDir shared with the
#     postgres container, whose primary_conninfo names it, so it is written
#     on every pod start and never lands on the data volume.
#  2. If $PGDATA already holds a standby, stops: a restarted pod resumes
#     streaming from its own data. A data directory that is not a standby
#     (promoted by hand) is refused rather than served as a second primary.
#  3. Otherwise waits for the primary (pg_isready), creates the physical slot
#     named after the pod if it is missing (postgres-replica-0 ->
#     postgres_replica_0), clones with pg_basebackup -R -S <slot> into a
#     scratch directory and renames it into place only when complete, so an
#     interrupted clone is redone, never started half-copied.
#
# Environment:
#   POD_NAME                       default: the host name; names the slot and
#                                  application_name in primary_conninfo
#   PGDATA                         the data directory to create (required)
#   PRIMARY_HOST, PRIMARY_PORT     default $DB_HOST / $DB_PORT, else
#                                  postgres-primary / 5432
#   POSTGRES_REPLICATION_USER      default replicator
#   POSTGRES_REPLICATION_PASSWORD  required when cloning
#   PGPASSFILE                     default /run/pgpass/replication.pgpass
#   BOOTSTRAP_WAIT_SECONDS         wait for the primary, default 600
set -euo pipefail

log() { printf 'replica-bootstrap.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# conninfo_quote, passfile_escape
# shellcheck source=SCRIPTDIR/pg-quote.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/pg-quote.sh"

pod=${POD_NAME:-$(hostname)}
[[ -n ${PGDATA:-} ]] || die "PGDATA is not set"
data=${PGDATA%/}
host=${PRIMARY_HOST:-${DB_HOST:-postgres-primary}}
port=${PRIMARY_PORT:-${DB_PORT:-5432}}
user=${POSTGRES_REPLICATION_USER:-replicator}
export PGPASSFILE=${PGPASSFILE:-/run/pgpass/replication.pgpass}
wait_seconds=${BOOTSTRAP_WAIT_SECONDS:-600}
[[ $port =~ ^[0-9]+$ ]] || die "PRIMARY_PORT is not a port number: $port"
[[ $wait_seconds =~ ^[0-9]+$ ]] || die "BOOTSTRAP_WAIT_SECONDS is not a number"

# Slot names allow [a-z0-9_] and at most 63 characters.
slot=$(printf '%s' "$pod" | tr '[:upper:]' '[:lower:]' | tr -c 'a-z0-9_' '_')
slot=${slot:0:63}

# 1. The password file, on every start (the WAL receiver reads it too).
if [[ -n ${POSTGRES_REPLICATION_PASSWORD:-} ]]; then
    (
        umask 077
        printf '%s:%s:*:%s:%s\n' "$(passfile_escape "$host")" "$port" \
            "$(passfile_escape "$user")" \
            "$(passfile_escape "$POSTGRES_REPLICATION_PASSWORD")" >"$PGPASSFILE.tmp"
        mv -f -- "$PGPASSFILE.tmp" "$PGPASSFILE"
    )
elif [[ ! -s $PGPASSFILE ]]; then
    die "POSTGRES_REPLICATION_PASSWORD is not set and $PGPASSFILE is missing"
fi

# 2. Existing data: nothing to clone.
if [[ -s $data/PG_VERSION ]]; then
    if [[ ! -f $data/standby.signal ]]; then
        die "$data holds a data directory without standby.signal (promoted?);" \
            "refusing to start it as a replica. Re-clone: delete the pod's volume" \
            "(PersistentVolumeClaim data-$pod) and the pod."
    fi
    log "$data already holds a standby; not cloning (slot $slot)"
    exit 0
fi
if [[ -e $data ]]; then
    rmdir -- "$data" 2>/dev/null ||
        die "$data exists without PG_VERSION and is not empty; inspect it and remove it to re-clone"
fi

# 3. Clone.
conninfo="host=$(conninfo_quote "$host") port=$port user=$(conninfo_quote "$user")"
conninfo+=" passfile=$(conninfo_quote "$PGPASSFILE") application_name=$(conninfo_quote "$pod")"
conninfo+=" connect_timeout=10"

log "waiting for the primary at $host:$port"
deadline=$((SECONDS + wait_seconds))
until pg_isready -q -h "$host" -p "$port" -t 5; do
    ((SECONDS < deadline)) || die "primary $host:$port not ready after ${wait_seconds}s"
    sleep 2
done

# Before the backup, so the slot reserves WAL from the start on. An existing
# slot (this pod cloned before, then lost its volume) is reused.
pg_receivewal --dbname="$conninfo" --no-password --slot="$slot" \
    --create-slot --if-not-exists ||
    die "could not create replication slot $slot on $host:$port"

partial=$data.partial
rm -rf -- "$partial"
log "cloning $host:$port into $data with slot $slot"
pg_basebackup --dbname="$conninfo" --no-password --pgdata="$partial" \
    --slot="$slot" --write-recovery-conf --wal-method=stream \
    --checkpoint=fast || die "pg_basebackup failed"
[[ -f $partial/standby.signal ]] || die "pg_basebackup wrote no standby.signal"
grep -q "^primary_slot_name = '$slot'" "$partial/postgresql.auto.conf" ||
    die "pg_basebackup did not record primary_slot_name"
sync -f "$partial" 2>/dev/null || true
mv -- "$partial" "$data"
log "clone complete: $data streams from $host:$port as $pod (slot $slot)"
