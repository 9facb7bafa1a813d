#!/usr/bin/env bash
# pod-role.sh - decides, every time a database container starts, whether
# its data directory starts as the primary or as a replica, from what the
# write endpoint answers: never from the StatefulSet the pod belongs to.
#
# Usage: pod-role.sh [COMMAND ARGS...]
#   Prepares $PGDATA, then runs COMMAND (exec) if given: in the pods, the
#   image's entrypoint (docker-entrypoint.sh postgres ...). It runs in the
#   postgres container itself, not in an init container, so that a
#   container restart (PostgreSQL crashed, liveness probe) decides again.
#   PostgreSQL of this pod is not running while it decides, so whatever
#   answers at the write endpoint is another server.
#
# The rule (docs/runbooks.md, "Start-up role rule"):
#   1. A writable primary answers at the write endpoint ($PRIMARY_HOST, the
#      router, which forwards only to a server whose sidecar says writable):
#      this pod is a replica of it.
#        - empty data directory: clone (replica-bootstrap.sh);
#        - a standby on the primary's timeline: start as it is;
#        - a former primary, or a standby on another timeline: pg_rewind
#          from the primary (data checksums or wal_log_hints are on), then
#          start as a standby; if pg_rewind fails, the data directory is
#          moved aside to $PGDATA.discarded and cloned again.
#      In every case: standby.signal, primary_conninfo through the write
#      endpoint, primary_slot_name = the pod's slot (created on the primary
#      if missing), recovery_target_timeline = latest.
#   2. Nothing writable answers (after ROLE_WAIT_SECONDS of retries):
#        - a standby: start as a standby (it waits for a primary);
#        - fenced ($PGDATA.fenced exists, written by pgfailover.sh --fence):
#          never a primary; wait up to BOOTSTRAP_WAIT_SECONDS for one to
#          answer, then rule 1, else exit non-zero (the pod restarts);
#        - a former primary, not fenced: start as the primary;
#        - empty: initdb (the image's entrypoint does it, then runs the
#          first-init scripts, primary-init.sh) only if ALLOW_INITDB=1
#          (postgres-primary-0); otherwise wait as fenced.
#   Limits: rule 2 trusts the router's view. A writable server that the
#   router cannot reach or check (its sidecar down, a network partition
#   between router and database) is not seen, and a former primary may then
#   start writable beside it; PgreplSplitBrain pages for that. Fence a
#   primary you fail over from (--fence) so that rule 2 cannot apply to it.
#
# Environment:
#   PGDATA                         data directory (required)
#   POD_NAME                       default: the host name; slot name and
#                                  application_name
#   PRIMARY_HOST, PRIMARY_PORT     the write endpoint; default $DB_HOST /
#                                  $DB_PORT, else postgres-primary / 5432
#   POSTGRES_REPLICATION_USER      default replicator
#   POSTGRES_REPLICATION_PASSWORD  the replication role's password
#   POSTGRES_PASSWORD              the superuser's (pg_rewind reads the
#                                  primary's files through SQL)
#   PGPASSFILE                     default /run/pgpass/replication.pgpass
#   ROLE_WAIT_SECONDS              how long "nothing answers" must last, 10
#   BOOTSTRAP_WAIT_SECONDS         wait for a primary when one is needed, 600
#   ALLOW_INITDB                   1: an empty directory may be initdb'ed
#
# Passwords only in the environment and in $PGPASSFILE (umask 077, a memory
# volume); never in argv, in a conninfo or in the output.
set -euo pipefail

log() { printf 'pod-role.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# conninfo_quote, passfile_escape
# shellcheck source=SCRIPTDIR/pg-quote.sh
. "$here/pg-quote.sh"
pod=${POD_NAME:-$(hostname)}
[[ -n ${PGDATA:-} ]] || die "PGDATA is not set"
data=${PGDATA%/}
host=${PRIMARY_HOST:-${DB_HOST:-postgres-primary}}
port=${PRIMARY_PORT:-${DB_PORT:-5432}}
repl_user=${POSTGRES_REPLICATION_USER:-replicator}
super_user=${POSTGRES_USER:-postgres}
export PGPASSFILE=${PGPASSFILE:-/run/pgpass/replication.pgpass}
role_wait=${ROLE_WAIT_SECONDS:-10}
wait_seconds=${BOOTSTRAP_WAIT_SECONDS:-600}
fence=$data.fenced
# Written by a rejoin (pgfailover.sh, failover.sh): the one consent to
# rewind a fenced former primary, which may hold commits no other has.
rejoin_mark=$data.rejoin
[[ $port =~ ^[0-9]+$ ]] || die "PRIMARY_PORT is not a port number: $port"
[[ $role_wait =~ ^[0-9]+$ ]] || die "ROLE_WAIT_SECONDS is not a number"
[[ $wait_seconds =~ ^[0-9]+$ ]] || die "BOOTSTRAP_WAIT_SECONDS is not a number"
slot=$(printf '%s' "$pod" | tr '[:upper:]' '[:lower:]' | tr -c 'a-z0-9_' '_')
slot=${slot:0:63}

run_next() {
    if (($# > 0)); then exec "$@"; fi
    exit 0
}

# The password file: the replication role (primary_conninfo, clones) and
# the superuser (pg_rewind's source), for the write endpoint only.
write_passfile() {
    (
        umask 077
        {
            if [[ -n ${POSTGRES_REPLICATION_PASSWORD:-} ]]; then
                printf '%s:%s:*:%s:%s\n' "$(passfile_escape "$host")" "$port" \
                    "$(passfile_escape "$repl_user")" \
                    "$(passfile_escape "$POSTGRES_REPLICATION_PASSWORD")"
            fi
            if [[ -n ${POSTGRES_PASSWORD:-} ]]; then
                printf '%s:%s:*:%s:%s\n' "$(passfile_escape "$host")" "$port" \
                    "$(passfile_escape "$super_user")" \
                    "$(passfile_escape "$POSTGRES_PASSWORD")"
            fi
        } >"$PGPASSFILE.tmp"
        mv -f -- "$PGPASSFILE.tmp" "$PGPASSFILE"
    )
}

super_conninfo="host=$(conninfo_quote "$host") port=$port user=$(conninfo_quote "$super_user")"
super_conninfo+=" dbname=postgres connect_timeout=5 application_name=$(conninfo_quote "pod-role $pod")"
repl_conninfo="host=$(conninfo_quote "$host") port=$port user=$(conninfo_quote "$repl_user")"
repl_conninfo+=" passfile=$(conninfo_quote "$PGPASSFILE") application_name=$(conninfo_quote "$pod")"
repl_conninfo+=" connect_timeout=10"

# primary_answer: prints "<timeline> <system identifier>" of the writable
# server at the write endpoint; fails when none answers.
primary_answer() {
    local out
    out=$(timeout 15 psql -X -A -t -q --no-password -d "$super_conninfo" -c \
        "SELECT pg_is_in_recovery(), (SELECT timeline_id FROM pg_control_checkpoint()),
                (SELECT system_identifier FROM pg_control_system())" 2>/dev/null) || return 1
    [[ $out == f\|* ]] || return 1
    IFS='|' read -r _ tli sysid <<<"$out"
    printf '%s %s\n' "$tli" "$sysid"
}

# wait_primary SECONDS: primary_answer, retried for up to SECONDS.
wait_primary() {
    local deadline=$((SECONDS + $1))
    while true; do
        primary_answer && return 0
        ((SECONDS < deadline)) || return 1
        sleep 2
    done
}

control() { LC_ALL=C pg_controldata -D "$data" | sed -n "s/^$1: *//p"; }

# As a standby of the write endpoint: the settings the pod owns, last in
# postgresql.auto.conf (pg_rewind copies the source's file, which may name
# the source's own former upstream and slot).
make_standby() {
    local auto=$data/postgresql.auto.conf
    touch "$auto"
    # default_transaction_read_only: pgfailover.sh switchover's write stop
    # on the old primary, which must not follow it into a later promotion.
    grep -v -E '^[[:space:]]*(primary_conninfo|primary_slot_name|recovery_target_timeline|default_transaction_read_only)[[:space:]]*=' \
        "$auto" >"$auto.tmp" || true
    {
        printf "primary_conninfo = '%s'\n" "${repl_conninfo//\'/\'\'}"
        printf "primary_slot_name = '%s'\n" "$slot"
        printf "recovery_target_timeline = 'latest'\n"
    } >>"$auto.tmp"
    mv -f -- "$auto.tmp" "$auto"
    touch "$data/standby.signal"
    pg_receivewal --dbname="$repl_conninfo" --no-password --slot="$slot" \
        --create-slot --if-not-exists ||
        die "could not create replication slot $slot on $host:$port"
}

reclone() {
    log "re-cloning: $data moved aside to $data.discarded"
    rm -rf -- "$data.discarded"
    mv -- "$data" "$data.discarded"
    PGDATA=$data PRIMARY_HOST=$host PRIMARY_PORT=$port POD_NAME=$pod \
        "$here/replica-bootstrap.sh" || die "re-clone failed"
    write_passfile
}

# Rule 1: follow the writable primary that answers ("<tli> <sysid>").
follow() {
    local tli=${1%% *} sysid=${1#* } mine
    if [[ ! -s $data/PG_VERSION ]]; then
        log "empty data directory; cloning from the primary at $host:$port"
        PGDATA=$data PRIMARY_HOST=$host PRIMARY_PORT=$port POD_NAME=$pod \
            "$here/replica-bootstrap.sh" || die "clone failed"
        write_passfile
        rm -f -- "$fence" "$rejoin_mark"
        return
    fi
    mine=$(control "Database system identifier") || die "pg_controldata failed on $data"
    [[ $mine == "$sysid" ]] ||
        die "the primary at $host:$port is another cluster (system identifier $sysid, this data $mine)"
    local my_tli
    my_tli=$(control "Latest checkpoint's TimeLineID") || die "pg_controldata failed on $data"
    if [[ -f $data/standby.signal && $my_tli == "$tli" ]]; then
        log "a standby on the primary's timeline $tli; following $host:$port"
    else
        if [[ -f $data/standby.signal ]]; then
            log "a standby on timeline $my_tli, the primary is on $tli: pg_rewind"
        else
            if [[ -e $fence && ! -e $rejoin_mark ]]; then
                # Fenced by a failover: what it committed after the last WAL
                # its replicas received exists only here. Kept until an
                # operator asks for the rejoin (or moves the data aside).
                log "$data is a fenced former primary: kept unchanged until a rejoin is asked for (k8s/failover.sh rejoin $pod writes $rejoin_mark); waiting up to ${wait_seconds}s"
                local deadline=$((SECONDS + wait_seconds))
                until [[ -e $rejoin_mark ]]; do
                    ((SECONDS < deadline)) || die "$data is fenced and no rejoin was asked for in ${wait_seconds}s"
                    sleep 2
                done
            fi
            log "this data directory was a primary (timeline $my_tli); a writable primary answers at $host:$port (timeline $tli): pg_rewind"
        fi
        # A recent promotion: its checkpoint makes the new timeline visible
        # in the control file pg_rewind reads.
        timeout 60 psql -X -q --no-password -d "$super_conninfo" -c CHECKPOINT >/dev/null 2>&1 || true
        # The password comes from $PGPASSFILE (pg_rewind has no
        # --no-password; stdin is not a terminal, so it never prompts).
        if timeout 600 pg_rewind --target-pgdata="$data" --source-server="$super_conninfo" \
            --progress </dev/null >&2; then
            log "pg_rewind done"
        else
            log "pg_rewind failed"
            reclone
            rm -f -- "$fence" "$rejoin_mark"
            return
        fi
    fi
    make_standby
    rm -f -- "$fence" "$rejoin_mark"
    log "$data starts as a standby of $host:$port (slot $slot, timeline latest)"
}

write_passfile

if answer=$(wait_primary "$role_wait"); then
    follow "$answer"
    run_next "$@"
fi

log "no writable primary answers at $host:$port (waited ${role_wait}s)"
if [[ -s $data/PG_VERSION && -f $data/standby.signal ]]; then
    log "$data is a standby: starting it; it streams once a primary answers"
    run_next "$@"
fi
if [[ -s $data/PG_VERSION && ! -e $fence ]]; then
    log "$data was a primary and is not fenced, and nothing else is writable: starting it as the primary"
    run_next "$@"
fi
if [[ ! -s $data/PG_VERSION && ${ALLOW_INITDB:-0} == 1 && ! -e $fence ]]; then
    log "$data is empty: the first start of the cluster (initdb, then the first-init scripts)"
    run_next "$@"
fi
if [[ -e $fence ]]; then
    log "$data is fenced ($fence): it never starts as a primary; waiting up to ${wait_seconds}s for one"
else
    log "waiting up to ${wait_seconds}s for a primary to clone from"
fi
answer=$(wait_primary "$wait_seconds") || die "no writable primary at $host:$port after ${wait_seconds}s"
follow "$answer"
run_next "$@"
