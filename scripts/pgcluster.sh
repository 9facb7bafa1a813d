#!/usr/bin/env bash
# pgcluster.sh - bring up and manipulate a throwaway PostgreSQL 15
# streaming-replication cluster on 127.0.0.1 (demos, integration tests,
# benchmarks of pgrepl_exporter).
#
# Run "pgcluster.sh help" for the command reference.
#
# When run as root, every PostgreSQL process runs as (and every PostgreSQL
# file is owned by) the OS user "postgres" (override with PGC_OS_USER); the
# cluster directory and its parents must then be traversable by that user,
# e.g. DIR=$(mktemp -d) under /tmp.  As a normal user everything runs
# directly as that user.
set -euo pipefail

PROG=${0##*/}
readonly HOST=127.0.0.1
readonly SUPERUSER=postgres
readonly REPL_USER=replicator
readonly MON_USER=pgrepl_monitor
readonly MAX_REPLICAS=64

usage() {
    cat <<EOF
usage: $PROG COMMAND DIR [ARGS...]

Cluster lifecycle:
  up DIR N                  create DIR (if absent) and start a primary plus N
                            streaming replicas (1..$MAX_REPLICAS) on 127.0.0.1;
                            writes DIR/cluster.env and DIR/cluster.json
  down DIR                  stop everything and remove DIR (idempotent)
  status DIR                one line per instance: NAME PORT STATE RECOVERY

Per instance (NAME is primary, replica1, replica2, ...):
  stop DIR NAME             fast shutdown (falls back to immediate)
  start DIR NAME            start and wait until it accepts connections
  freeze DIR NAME           SIGSTOP the postmaster and all its children
  thaw DIR NAME             SIGCONT them again
  delay DIR NAME DURATION   set recovery_min_apply_delay (e.g. 3s, 500ms, 0)
  pause DIR NAME            pg_wal_replay_pause()
  resume DIR NAME           pg_wal_replay_resume()
  promote DIR NAME          promote a replica and wait until it is writable
  kill-walreceiver DIR NAME terminate the replica's WAL receiver process
  psql DIR NAME [ARGS...]   run psql as superuser over the Unix socket
  port DIR NAME             print the instance's TCP port

Load:
  load DIR SECONDS [ROWS_PER_SEC]
                            insert into table pgc_load on the primary for
                            SECONDS (default 200 rows/s), then return

Environment:
  PG_BINDIR        PostgreSQL binaries (default: pg_config --bindir if it is
                   PostgreSQL 15, else /usr/lib/postgresql/15/bin)
  PGC_OS_USER      OS user for PostgreSQL when run as root (default postgres)
  PGC_TIMEOUT      seconds to wait for start/streaming/promotion (default 60)
  PGC_PARALLEL     concurrent replica builds during "up" (default 8)
  PGC_WAL_SEGSIZE  WAL segment size in MB for "up" (default 1: every base
                   backup forces a segment switch, so small segments keep
                   many-replica clusters small and fast; 16 = stock size)
  PGC_EXTRA_CONF   extra postgresql.conf lines for every instance ("up" only)
  PGC_LOAD_TARGET  instance that "load" writes to (default primary)
EOF
}

die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }
usage_die() { printf '%s: error: %s (see "%s help")\n' "$PROG" "$*" "$PROG" >&2; exit 2; }
info() { printf '%s: %s\n' "$PROG" "$*" >&2; }

# Keep the caller's libpq/PostgreSQL environment from leaking into anything
# this tool runs; every connection parameter is passed explicitly.
unset PGHOST PGHOSTADDR PGPORT PGUSER PGDATABASE PGPASSWORD PGPASSFILE \
      PGSERVICE PGSERVICEFILE PGOPTIONS PGAPPNAME PGSSLMODE PGREQUIRESSL \
      PGCHANNELBINDING PGTARGETSESSIONATTRS PGDATA PGCLIENTENCODING \
      PGSYSCONFDIR PGGSSENCMODE CDPATH
export PGCONNECT_TIMEOUT=10

TIMEOUT=${PGC_TIMEOUT:-60}
[[ $TIMEOUT =~ ^[1-9][0-9]*$ ]] || usage_die "PGC_TIMEOUT must be a positive integer"

if [[ $(id -u) -eq 0 ]]; then
    IS_ROOT=1
    PG_OS_USER=${PGC_OS_USER:-postgres}
else
    IS_ROOT=0
    PG_OS_USER=$(id -un)
fi

PG_BINDIR_RESOLVED=
DIR=
SOCK=
WORK=
UP_ACTIVE=0
PLANNED_PORTS=()

# ---------------------------------------------------------------- helpers

resolve_bindir() {
    local b='' v
    if [[ -n ${PG_BINDIR:-} ]]; then
        b=$PG_BINDIR
    elif command -v pg_config >/dev/null 2>&1 &&
        v=$(pg_config --version 2>/dev/null) && [[ $v == "PostgreSQL 15"* ]] &&
        b=$(pg_config --bindir 2>/dev/null) && [[ -x $b/postgres ]]; then
        :
    else
        b=/usr/lib/postgresql/15/bin
    fi
    local tool
    for tool in postgres pg_ctl initdb psql pg_basebackup pgbench; do
        [[ -x $b/$tool ]] || die "$b/$tool not found (install postgresql-15 or set PG_BINDIR)"
    done
    PG_BINDIR_RESOLVED=$b
}

check_os_user() {
    if ((IS_ROOT)); then
        command -v runuser >/dev/null 2>&1 || die "runuser not found (needed when running as root)"
        id -u "$PG_OS_USER" >/dev/null 2>&1 || die "OS user '$PG_OS_USER' does not exist"
        [[ $(id -u "$PG_OS_USER") -ne 0 ]] || die "PGC_OS_USER must not be root"
    fi
}

# Run a command as the PostgreSQL OS user (from / so that an inaccessible
# working directory does not produce warnings).
as_pg() {
    if ((IS_ROOT)); then
        (cd / && exec runuser -u "$PG_OS_USER" -- "$@")
    else
        "$@"
    fi
}

# stdin -> FILE, written by the PostgreSQL OS user.
pg_write() { as_pg tee "$1" >/dev/null; }

# Create an empty file / directory owned by the PostgreSQL OS user.
mk_pg_file() {
    : >"$1"
    chmod "$2" "$1"
    if ((IS_ROOT)); then chown "$PG_OS_USER:" "$1"; fi
}
mk_pg_dir() {
    mkdir -m "$2" "$1"
    if ((IS_ROOT)); then chown "$PG_OS_USER:" "$1"; fi
}

random_hex() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }

json_str() {
    local s=${1//\\/\\\\}
    printf '"%s"' "${s//\"/\\\"}"
}

# pick_ports COUNT [EXCLUDED_PORT...]: print COUNT distinct free TCP ports on
# 127.0.0.1, taken below the kernel's ephemeral range so that outgoing
# connections (replication, pg_basebackup) can never occupy them.
pick_ports() {
    local count=$1
    shift
    if command -v python3 >/dev/null 2>&1; then
        python3 - "$count" "$@" <<'PY'
import random, socket, sys

count = int(sys.argv[1])
exclude = {int(p) for p in sys.argv[2:]}
lo, hi = 20000, 32767
try:
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        elo, ehi = (int(x) for x in f.read().split())
    if elo - 1 - 10000 >= 2000:
        lo, hi = 10000, elo - 1
    elif 65535 - ehi >= 2000:
        lo, hi = ehi + 1, 65535
    else:
        lo, hi = 1024, 65535
except (OSError, ValueError):
    pass
span = hi - lo + 1
start = random.randrange(span)
chosen = []
for i in range(span):
    port = lo + (start + i) % span
    if port in exclude:
        continue
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    chosen.append(port)
    if len(chosen) == count:
        break
if len(chosen) < count:
    sys.exit("pgcluster: not enough free TCP ports on 127.0.0.1")
print(" ".join(str(p) for p in chosen))
PY
    else
        # Fallback: probe for listeners with bash's /dev/tcp; a port grabbed
        # in between is handled by the retry in start_new_instance.
        local -a out=()
        local p=$((10000 + RANDOM % 20000)) tries=0 x skip
        while ((${#out[@]} < count)); do
            ((++tries <= 20000)) || die "not enough free TCP ports on $HOST"
            p=$((p >= 32000 ? 10000 : p + 1))
            skip=0
            for x in "$@"; do [[ $x == "$p" ]] && skip=1; done
            ((skip)) && continue
            if ! (exec 3<>"/dev/tcp/$HOST/$p") 2>/dev/null; then
                out+=("$p")
                set -- "$@" "$p"
            fi
        done
        printf '%s\n' "${out[*]}"
    fi
}

valid_dir_chars() {
    [[ $1 =~ ^[A-Za-z0-9._/@%+=:,~-]+$ ]] ||
        usage_die "DIR must consist of letters, digits and ._/@%+=:,~- only: $1"
}

# Canonical absolute path of an existing directory.
canon_dir() { (cd -P -- "$1" && pwd -P); }

# load_cluster DIR: set DIR/SOCK for an existing cluster directory.
load_cluster() {
    [[ -d $1 ]] || die "no cluster in $1 (directory does not exist)"
    DIR=$(canon_dir "$1")
    [[ -f $DIR/.pgcluster ]] || die "no cluster in $DIR (missing .pgcluster marker)"
    SOCK=$(sed -n 's/^socket_dir=//p' "$DIR/.pgcluster")
    [[ -n $SOCK ]] || die "corrupt $DIR/.pgcluster"
    resolve_bindir
    check_os_user
}

check_name() {
    [[ $1 =~ ^(primary|replica[1-9][0-9]*)$ ]] ||
        usage_die "bad instance name '$1' (expected primary or replicaK)"
    [[ -f $DIR/$1/PG_VERSION ]] || die "no instance '$1' in $DIR"
}

# Names of all instances in DIR: primary first, then replicas in order.
list_instances() {
    local d
    if [[ -d $DIR/primary ]]; then printf 'primary\n'; fi
    for d in "$DIR"/replica[0-9]*; do
        if [[ -d $d ]]; then printf '%s\n' "${d##*/}"; fi
    done | sort -V
}

inst_port() {
    local p
    p=$(sed -n 's/^port = \([0-9][0-9]*\)$/\1/p' "$DIR/$1/instance.conf" 2>/dev/null | tail -n 1)
    [[ -n $p ]] || die "cannot determine the port of '$1'"
    printf '%s\n' "$p"
}

# pm_pid NAME: print the postmaster pid if the instance is running.
pm_pid() {
    local dd=$DIR/$1 pid cwd
    [[ -f $dd/postmaster.pid ]] || return 1
    read -r pid <"$dd/postmaster.pid" 2>/dev/null || return 1
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    cwd=$(readlink "/proc/$pid/cwd" 2>/dev/null) || return 1
    [[ $cwd == "$dd" ]] || return 1
    printf '%s\n' "$pid"
}

proc_state() {
    local s
    s=$(<"/proc/$1/stat") 2>/dev/null || return 1
    s=${s##*) }
    printf '%s\n' "${s%% *}"
}

children_of() { pgrep -P "$1" 2>/dev/null || true; }

signal_tree() { # signal_tree SIG PID: postmaster and its direct children
    local sig=$1 pid=$2 c
    if [[ $sig == STOP ]]; then
        kill -STOP "$pid" 2>/dev/null || true
        for c in $(children_of "$pid"); do kill -STOP "$c" 2>/dev/null || true; done
    else
        for c in $(children_of "$pid"); do kill "-$sig" "$c" 2>/dev/null || true; done
        kill "-$sig" "$pid" 2>/dev/null || true
    fi
}

pg_ctl() { as_pg "$PG_BINDIR_RESOLVED/pg_ctl" "$@"; }

# psql_admin NAME [psql args]: superuser session over the Unix socket.
psql_admin() {
    local name=$1 port
    shift
    port=$(inst_port "$name")
    as_pg "$PG_BINDIR_RESOLVED/psql" -X -w -h "$SOCK" -p "$port" -U "$SUPERUSER" \
        -d postgres -v ON_ERROR_STOP=1 "$@"
}

sql1() { psql_admin "$1" -qAt -c "$2"; }

require_running() {
    pm_pid "$1" >/dev/null || die "instance '$1' is not running"
    local st
    st=$(proc_state "$(pm_pid "$1")") || true
    [[ $st != T ]] || die "instance '$1' is frozen (run: $PROG thaw DIR $1)"
}

require_recovery() {
    [[ $(sql1 "$1" "SELECT pg_is_in_recovery()") == t ]] || die "instance '$1' is not in recovery"
}

pg_start() {
    pg_ctl -D "$DIR/$1" -l "$DIR/$1.log" -w -t "$TIMEOUT" -s start
}

# start_new_instance NAME PORT: write the instance-specific settings and
# start it, moving to another port if the chosen one got taken meanwhile.
start_new_instance() {
    local name=$1 port=$2 attempt before
    for attempt in 1 2 3 4 5; do
        printf "port = %s\ncluster_name = '%s'\n" "$port" "$name" | pg_write "$DIR/$name/instance.conf"
        before=$(stat -c %s "$DIR/$name.log")
        if pg_start "$name" 2>/dev/null; then
            return 0
        fi
        if tail -c +"$((before + 1))" "$DIR/$name.log" |
            grep -qE 'could not bind|Address already in use|could not create any TCP/IP sockets'; then
            info "port $port for $name is taken, retrying on another port (attempt $attempt)"
            port=$(pick_ports 1 "$port" "${PLANNED_PORTS[@]}")
            continue
        fi
        break
    done
    info "$name failed to start; last lines of $DIR/$name.log:"
    tail -n 5 "$DIR/$name.log" >&2 || true
    return 1
}

# stop_instance NAME FAST_TIMEOUT
stop_instance() {
    local name=$1 t=$2 pid c
    pid=$(pm_pid "$name") || return 0
    signal_tree CONT "$pid"
    if ! pg_ctl -D "$DIR/$name" -m fast -w -t "$t" -s stop >/dev/null 2>&1; then
        pg_ctl -D "$DIR/$name" -m immediate -w -t 10 -s stop >/dev/null 2>&1 || true
    fi
    if pid=$(pm_pid "$name"); then
        for c in $(children_of "$pid"); do kill -KILL "$c" 2>/dev/null || true; done
        kill -KILL "$pid" 2>/dev/null || true
    fi
}

# PIDs of processes whose working directory lies inside DIR (every
# PostgreSQL server process chdirs into its data directory).
procs_in_dir() {
    local p cwd
    for p in /proc/[0-9]*; do
        cwd=$(readlink "$p/cwd" 2>/dev/null) || continue
        case $cwd in
            "$DIR" | "$DIR"/*) printf '%s\n' "${p#/proc/}" ;;
        esac
    done
}

kill_tree() { # kill_tree PID: the process and all its descendants
    local c
    for c in $(children_of "$1"); do kill_tree "$c"; done
    kill -TERM "$1" 2>/dev/null || true
}

stop_all() { # stop_all FAST_TIMEOUT: stop every instance, then sweep
    local name p left i j
    local -a names before
    mapfile -t names < <(list_instances)
    mapfile -t before < <(procs_in_dir)
    for name in "${names[@]}"; do
        stop_instance "$name" "$1" &
    done
    wait || true
    for i in $(seq 1 50); do
        left=$(procs_in_dir)
        if [[ -z $left ]]; then
            # Give the parent (usually init) a moment to reap the exited
            # server processes so that they do not linger as zombies.
            for j in $(seq 1 25); do
                left=
                for p in "${before[@]}"; do
                    if [[ -e /proc/$p ]]; then left=$p; fi
                done
                [[ -n $left ]] || break
                sleep 0.2
            done
            return 0
        fi
        for p in $left; do
            kill -CONT "$p" 2>/dev/null || true
            if ((i > 1)); then kill -KILL "$p" 2>/dev/null || true; fi
        done
        sleep 0.2
    done
    die "processes still running in $DIR: $(procs_in_dir | tr '\n' ' ')"
}

# ---------------------------------------------------------------- up

up_cleanup() {
    local rc=$? j
    if ((UP_ACTIVE)) && ((rc != 0)); then
        UP_ACTIVE=0
        for j in $(jobs -p); do kill_tree "$j"; done
        wait 2>/dev/null || true
        info "up failed; stopping what was started (logs kept in $DIR; remove with: $PROG down $DIR)"
        (stop_all 2) || true
    fi
    if [[ -n $WORK && -d $WORK ]]; then rm -rf -- "$WORK"; fi
    return "$rc"
}

make_replica() { # runs in a background subshell
    local name=$1 port=$2 conf
    mk_pg_dir "$DIR/$name" 0700
    mk_pg_file "$DIR/$name.log" 0600
    if ! as_pg env PGPASSFILE="$DIR/replicator.pgpass" \
        "$PG_BINDIR_RESOLVED/pg_basebackup" -h "$HOST" -p "$PRIMARY_PORT" -U "$REPL_USER" -w \
        -D "$DIR/$name" -R -S "$name" -X stream -c fast -N --no-manifest 2>"$WORK/$name.err"; then
        info "pg_basebackup for $name failed: $(tail -n 3 "$WORK/$name.err" | tr '\n' ' ')"
        exit 1
    fi
    conf=$DIR/$name/postgresql.auto.conf
    as_pg sed -i "s/^\(primary_conninfo = '.*\)'\$/\1 application_name=$name'/" "$conf"
    grep -q "^primary_conninfo = '.* application_name=$name'\$" "$conf" ||
        { info "could not set application_name in $conf"; exit 1; }
    grep -q "^primary_conninfo = '.*passfile=" "$conf" ||
        { info "pg_basebackup did not record passfile in $conf"; exit 1; }
    start_new_instance "$name" "$port"
    : >"$WORK/$name.ok"
}

cmd_up() {
    (($# == 2)) || usage_die "usage: $PROG up DIR N"
    local dir=$1 n=$2
    if ! [[ $n =~ ^[1-9][0-9]*$ ]] || ((n > MAX_REPLICAS)); then
        usage_die "N must be an integer from 1 to $MAX_REPLICAS, got '$n'"
    fi
    [[ -n $dir ]] || usage_die "DIR must not be empty"
    resolve_bindir
    check_os_user
    local par=${PGC_PARALLEL:-8}
    [[ $par =~ ^[1-9][0-9]*$ ]] || usage_die "PGC_PARALLEL must be a positive integer"
    local segsize=${PGC_WAL_SEGSIZE:-1}
    [[ $segsize =~ ^(1|2|4|8|16|32|64|128|256|512|1024)$ ]] ||
        usage_die "PGC_WAL_SEGSIZE must be a power of two from 1 to 1024 (MB)"
    local t0=$SECONDS

    if [[ -e $dir ]]; then
        [[ -d $dir ]] || die "$dir exists and is not a directory"
        if [[ -e $dir/.pgcluster || -e $dir/cluster.env || -e $dir/primary ]]; then
            die "$dir already holds a cluster (run: $PROG down $dir)"
        fi
    else
        mkdir -p -- "$dir"
    fi
    DIR=$(canon_dir "$dir")
    valid_dir_chars "$DIR"
    [[ $DIR != / ]] || die "refusing to use / as cluster directory"
    [[ -w $DIR ]] || die "$DIR is not writable"
    if ((IS_ROOT)) && ! as_pg test -x "$DIR"; then
        chmod 0755 "$DIR"
        as_pg test -x "$DIR" ||
            die "user $PG_OS_USER cannot reach $DIR; its parent directories must be traversable (use e.g. DIR=\$(mktemp -d))"
    fi

    # Unix socket paths are limited to 107 bytes: SOCK/.s.PGSQL.NNNNN
    if ((${#DIR} <= 80)); then
        SOCK=$DIR/s
        mk_pg_dir "$SOCK" 0700
    else
        SOCK=$(mktemp -d /tmp/pgc.XXXXXXXX)
        chmod 0700 "$SOCK"
        if ((IS_ROOT)); then chown "$PG_OS_USER:" "$SOCK"; fi
    fi
    printf 'socket_dir=%s\n' "$SOCK" >"$DIR/.pgcluster"

    WORK=$(mktemp -d)
    UP_ACTIVE=1
    trap up_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM

    # Secrets: never on a command line.
    local rpw mpw
    rpw=$(random_hex)
    mpw=$(random_hex)
    (
        umask 077
        printf '%s\n' "$rpw" >"$DIR/replicator.password"
        printf '%s\n' "$mpw" >"$DIR/monitor.password"
    )
    mk_pg_file "$DIR/replicator.pgpass" 0600
    printf '%s:*:*:%s:%s\n' "$HOST" "$REPL_USER" "$rpw" >"$DIR/replicator.pgpass"
    printf 'INSERT INTO pgc_load (payload) VALUES (md5(random()::text));\n' >"$DIR/load.sql"
    chmod 0644 "$DIR/load.sql"

    local -a ports
    read -r -a ports <<<"$(pick_ports "$((n + 1))")"
    ((${#ports[@]} == n + 1)) || die "could not pick $((n + 1)) free ports"
    PLANNED_PORTS=("${ports[@]}")

    # --- primary
    local pd=$DIR/primary
    mk_pg_dir "$pd" 0700
    mk_pg_file "$DIR/primary.log" 0600
    info "initdb primary"
    as_pg "$PG_BINDIR_RESOLVED/initdb" -D "$pd" -U "$SUPERUSER" -E UTF8 --locale=C \
        --auth-local=trust --auth-host=scram-sha-256 -N --no-instructions \
        --wal-segsize="$segsize" \
        >"$WORK/initdb.out" 2>&1 ||
        { cat "$WORK/initdb.out" >&2; die "initdb failed"; }

    pg_write "$pd/pg_hba.conf" <<EOF
# Written by pgcluster.sh.  Trust only on the Unix socket (its directory is
# mode 0700); every TCP connection must authenticate with SCRAM.
# TYPE  DATABASE     USER  ADDRESS       METHOD
local   all          all                 trust
host    all          all   127.0.0.1/32  scram-sha-256
host    replication  all   127.0.0.1/32  scram-sha-256
EOF
    {
        cat <<EOF

# ---- pgcluster.sh settings (shared by all instances) ----
listen_addresses = '$HOST'
unix_socket_directories = '$SOCK'
unix_socket_permissions = 0700
max_connections = 50
shared_buffers = 16MB
huge_pages = off
wal_level = replica
max_wal_senders = $((2 * n + 10))
max_replication_slots = $((n + 10))
wal_keep_size = 64MB
min_wal_size = 64MB
max_wal_size = 256MB
hot_standby = on
hot_standby_feedback = on
wal_receiver_status_interval = 1s
wal_retrieve_retry_interval = 1s
password_encryption = scram-sha-256
fsync = off
jit = off
logging_collector = off
log_line_prefix = '%m [%p] %q%a '
EOF
        if [[ -n ${PGC_EXTRA_CONF:-} ]]; then
            printf '# PGC_EXTRA_CONF\n%s\n' "$PGC_EXTRA_CONF"
        fi
        printf "# per-instance port and cluster_name\ninclude_if_exists = 'instance.conf'\n"
    } | as_pg tee -a "$pd/postgresql.conf" >/dev/null

    start_new_instance primary "${ports[0]}"
    PRIMARY_PORT=$(inst_port primary)
    info "primary running on port $PRIMARY_PORT"

    {
        printf 'SET log_min_error_statement = panic;\n'
        printf "CREATE ROLE %s WITH LOGIN REPLICATION PASSWORD '%s';\n" "$REPL_USER" "$rpw"
        printf "CREATE ROLE %s WITH LOGIN PASSWORD '%s';\n" "$MON_USER" "$mpw"
        printf 'GRANT pg_monitor TO %s;\n' "$MON_USER"
    } | psql_admin primary -q >/dev/null || die "creating roles failed"

    # One physical slot per replica, created (and reserving WAL) before any
    # base backup starts: with "pg_basebackup -C" the slot only appears
    # after the backup's start checkpoint, and concurrent backups can
    # recycle the WAL it still needs in between.
    local k running=0
    sql1 primary "SELECT count(pg_create_physical_replication_slot('replica' || k, true))
                  FROM generate_series(1, $n) AS k" >/dev/null ||
        die "creating replication slots failed"

    # --- replicas, up to PGC_PARALLEL at a time
    info "building $n replica(s)"
    for ((k = 1; k <= n; k++)); do
        make_replica "replica$k" "${ports[k]}" &
        if ((++running >= par)); then
            wait -n || true
            ((running--)) || true
        fi
    done
    wait || true
    local failed=()
    for ((k = 1; k <= n; k++)); do
        [[ -e $WORK/replica$k.ok ]] || failed+=("replica$k")
    done
    ((${#failed[@]} == 0)) || die "failed to build/start: ${failed[*]}"

    # --- wait for streaming
    local want list='' got deadline=$((SECONDS + TIMEOUT))
    for ((k = 1; k <= n; k++)); do list+="${list:+,}'replica$k'"; done
    while :; do
        got=$(sql1 primary "SELECT count(DISTINCT application_name) FROM pg_stat_replication
                            WHERE state = 'streaming' AND application_name IN ($list)") || got=0
        ((got == n)) && break
        if ((SECONDS >= deadline)); then
            want=$(sql1 primary "SELECT string_agg(application_name || '=' || state, ' ')
                                 FROM pg_stat_replication") || true
            die "only $got of $n replicas streaming after ${TIMEOUT}s (pg_stat_replication: ${want:-empty}); see $DIR/*.log"
        fi
        sleep 0.2
    done

    # --- descriptor files
    local name port sep
    {
        printf "PGC_DIR='%s'\n" "$DIR"
        printf "PGC_BINDIR='%s'\n" "$PG_BINDIR_RESOLVED"
        printf 'PGC_N=%s\n' "$n"
        printf "PGC_HOST='%s'\n" "$HOST"
        printf "PGC_SOCKET_DIR='%s'\n" "$SOCK"
        printf "PGC_MONITOR_USER='%s'\n" "$MON_USER"
        printf "PGC_MONITOR_PASSWORD_FILE='%s'\n" "$DIR/monitor.password"
        printf "PGC_REPLICATOR_USER='%s'\n" "$REPL_USER"
        printf "PGC_REPLICATOR_PASSWORD_FILE='%s'\n" "$DIR/replicator.password"
        printf 'PRIMARY_PORT=%s\n' "$PRIMARY_PORT"
        for ((k = 1; k <= n; k++)); do
            printf 'REPLICA%s_PORT=%s\n' "$k" "$(inst_port "replica$k")"
        done
    } >"$DIR/cluster.env.tmp"
    mv -f "$DIR/cluster.env.tmp" "$DIR/cluster.env"

    {
        printf '{\n  "primary": {"name": "primary", "port": %s, "datadir": %s},\n' \
            "$PRIMARY_PORT" "$(json_str "$DIR/primary")"
        printf '  "replicas": [\n'
        for ((k = 1; k <= n; k++)); do
            name=replica$k
            port=$(inst_port "$name")
            sep=,
            if ((k == n)); then sep=''; fi
            printf '    {"name": "%s", "port": %s, "datadir": %s}%s\n' "$name" "$port" \
                "$(json_str "$DIR/$name")" "$sep"
        done
        printf '  ],\n'
        printf '  "monitor_user": "%s",\n' "$MON_USER"
        printf '  "monitor_password_file": %s,\n' "$(json_str "$DIR/monitor.password")"
        printf '  "replicator_user": "%s",\n' "$REPL_USER"
        printf '  "replicator_password_file": %s,\n' "$(json_str "$DIR/replicator.password")"
        printf '  "socket_dir": %s,\n' "$(json_str "$SOCK")"
        printf '  "host": "%s"\n}\n' "$HOST"
    } >"$DIR/cluster.json.tmp"
    mv -f "$DIR/cluster.json.tmp" "$DIR/cluster.json"
    chmod 0644 "$DIR/cluster.env" "$DIR/cluster.json"

    UP_ACTIVE=0
    info "cluster up in $((SECONDS - t0))s: primary:$PRIMARY_PORT + $n streaming replica(s); see $DIR/cluster.env"
}

# ---------------------------------------------------------------- commands

cmd_down() {
    (($# == 1)) || usage_die "usage: $PROG down DIR"
    [[ -n $1 ]] || usage_die "DIR must not be empty"
    if [[ ! -e $1 ]]; then
        info "$1 does not exist; nothing to do"
        return 0
    fi
    [[ -d $1 ]] || die "$1 is not a directory"
    DIR=$(canon_dir "$1")
    [[ $DIR != / ]] || die "refusing to remove /"
    if [[ ! -f $DIR/.pgcluster ]]; then
        if [[ -z $(ls -A -- "$DIR") ]]; then
            rmdir -- "$DIR"
            return 0
        fi
        die "$DIR is not a pgcluster directory (no .pgcluster marker); not removing it"
    fi
    SOCK=$(sed -n 's/^socket_dir=//p' "$DIR/.pgcluster")
    resolve_bindir
    check_os_user
    stop_all 5
    case $SOCK in
        /tmp/pgc.*) rm -rf -- "$SOCK" ;;
    esac
    rm -rf -- "$DIR"
    info "cluster in $DIR stopped and removed"
}

cmd_stop() {
    (($# == 2)) || usage_die "usage: $PROG stop DIR NAME"
    load_cluster "$1"
    check_name "$2"
    if ! pm_pid "$2" >/dev/null; then
        info "$2 is already stopped"
        return 0
    fi
    stop_instance "$2" 30
    ! pm_pid "$2" >/dev/null || die "could not stop $2"
}

cmd_start() {
    (($# == 2)) || usage_die "usage: $PROG start DIR NAME"
    load_cluster "$1"
    check_name "$2"
    if pm_pid "$2" >/dev/null; then
        info "$2 is already running"
        return 0
    fi
    pg_start "$2" || die "$2 failed to start; see $DIR/$2.log"
}

cmd_freeze_thaw() { # SIG DIR NAME
    local sig=$1 verb=thaw
    shift
    if [[ $sig == STOP ]]; then verb=freeze; fi
    (($# == 2)) || usage_die "usage: $PROG $verb DIR NAME"
    load_cluster "$1"
    check_name "$2"
    local pid
    pid=$(pm_pid "$2") || die "instance '$2' is not running"
    signal_tree "$sig" "$pid"
}

cmd_delay() {
    (($# == 3)) || usage_die "usage: $PROG delay DIR NAME DURATION"
    load_cluster "$1"
    check_name "$2"
    [[ $3 =~ ^[0-9]+(us|ms|s|min|h|d)?$ ]] ||
        usage_die "DURATION must look like 0, 500ms, 3s, 2min, got '$3'"
    require_running "$2"
    local before now i
    before=$(sql1 "$2" "SELECT pg_conf_load_time()")
    psql_admin "$2" -qAt -c "ALTER SYSTEM SET recovery_min_apply_delay = '$3'" \
        -c "SELECT pg_reload_conf()" >/dev/null
    for i in $(seq 1 50); do
        now=$(sql1 "$2" "SELECT pg_conf_load_time() > '$before'::timestamptz")
        [[ $now == t ]] && break
        sleep 0.1
    done
    info "$2: recovery_min_apply_delay = $(sql1 "$2" "SHOW recovery_min_apply_delay")"
}

cmd_pause_resume() { # pause|resume DIR NAME
    local what=$1
    shift
    (($# == 2)) || usage_die "usage: $PROG $what DIR NAME"
    load_cluster "$1"
    check_name "$2"
    require_running "$2"
    require_recovery "$2"
    sql1 "$2" "SELECT pg_wal_replay_$what()" >/dev/null
    local st i
    for i in $(seq 1 20); do
        st=$(sql1 "$2" "SELECT pg_get_wal_replay_pause_state()")
        if [[ $what == resume && $st == "not paused" ]] || [[ $what == pause && $st == paused ]]; then
            break
        fi
        sleep 0.1
    done
    info "$2: replay $st"
}

cmd_promote() {
    (($# == 2)) || usage_die "usage: $PROG promote DIR NAME"
    load_cluster "$1"
    check_name "$2"
    require_running "$2"
    require_recovery "$2"
    [[ $(sql1 "$2" "SELECT pg_promote(true, $TIMEOUT)") == t ]] || die "promotion of $2 did not complete"
    local deadline=$((SECONDS + TIMEOUT))
    until [[ $(sql1 "$2" "SELECT pg_is_in_recovery()") == f ]]; do
        ((SECONDS < deadline)) || die "$2 still in recovery after ${TIMEOUT}s"
        sleep 0.1
    done
    info "$2 promoted"
}

cmd_kill_walreceiver() {
    (($# == 2)) || usage_die "usage: $PROG kill-walreceiver DIR NAME"
    load_cluster "$1"
    check_name "$2"
    require_running "$2"
    local pid
    pid=$(sql1 "$2" "SELECT pid FROM pg_stat_wal_receiver WHERE pid IS NOT NULL")
    [[ $pid =~ ^[0-9]+$ ]] || die "no WAL receiver running on $2"
    pg_ctl kill TERM "$pid" || die "could not signal WAL receiver $pid"
    info "$2: WAL receiver (pid $pid) terminated"
}

cmd_load() {
    (($# == 2 || $# == 3)) || usage_die "usage: $PROG load DIR SECONDS [ROWS_PER_SEC]"
    load_cluster "$1"
    local secs=$2 rate=${3:-200} target=${PGC_LOAD_TARGET:-primary}
    [[ $secs =~ ^[1-9][0-9]*$ ]] || usage_die "SECONDS must be a positive integer, got '$secs'"
    [[ $rate =~ ^[1-9][0-9]*$ ]] || usage_die "ROWS_PER_SEC must be a positive integer, got '$rate'"
    check_name "$target"
    require_running "$target"
    sql1 "$target" "CREATE TABLE IF NOT EXISTS pgc_load (
                      id bigserial PRIMARY KEY,
                      created_at timestamptz NOT NULL DEFAULT now(),
                      payload text)" >/dev/null
    if [[ ! -f $DIR/load.sql ]]; then
        printf 'INSERT INTO pgc_load (payload) VALUES (md5(random()::text));\n' >"$DIR/load.sql"
        chmod 0644 "$DIR/load.sql"
    fi
    local clients=1 out rows
    if ((rate > 1000)); then clients=4; fi
    out=$(as_pg timeout -k 5 "$((secs + 20))" "$PG_BINDIR_RESOLVED/pgbench" -n \
        -h "$SOCK" -p "$(inst_port "$target")" -U "$SUPERUSER" \
        -c "$clients" -j "$clients" -T "$secs" -R "$rate" -f "$DIR/load.sql" postgres 2>&1) ||
        { printf '%s\n' "$out" >&2; die "load on $target failed"; }
    rows=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$out")
    printf 'load: inserted %s rows into pgc_load on %s in %ss (target %s rows/s)\n' \
        "${rows:-?}" "$target" "$secs" "$rate"
}

cmd_psql() {
    (($# >= 2)) || usage_die "usage: $PROG psql DIR NAME [psql args...]"
    load_cluster "$1"
    check_name "$2"
    local name=$2 port
    shift 2
    port=$(inst_port "$name")
    local -a cmd=("$PG_BINDIR_RESOLVED/psql" -X -h "$SOCK" -p "$port" -U "$SUPERUSER" -d postgres "$@")
    if ((IS_ROOT)); then
        exec runuser -u "$PG_OS_USER" -- "${cmd[@]}"
    fi
    exec "${cmd[@]}"
}

cmd_port() {
    (($# == 2)) || usage_die "usage: $PROG port DIR NAME"
    load_cluster "$1"
    check_name "$2"
    inst_port "$2"
}

cmd_status() {
    (($# == 1)) || usage_die "usage: $PROG status DIR"
    load_cluster "$1"
    local name pid port state rec
    local -a names
    mapfile -t names < <(list_instances)
    ((${#names[@]} > 0)) || die "no instances in $DIR"
    for name in "${names[@]}"; do
        port=$(inst_port "$name" 2>/dev/null) || port=-
        rec=-
        if pid=$(pm_pid "$name"); then
            if [[ $(proc_state "$pid" || true) == T ]]; then
                state=frozen
            else
                state=running
                case $(PGCONNECT_TIMEOUT=3 sql1 "$name" "SELECT pg_is_in_recovery()" 2>/dev/null || true) in
                    t) rec=in-recovery ;;
                    f) rec=not-in-recovery ;;
                    *) rec=unknown ;;
                esac
            fi
        else
            state=stopped
        fi
        printf '%-10s %-6s %-8s %s\n' "$name" "$port" "$state" "$rec"
    done
}

# ---------------------------------------------------------------- main

main() {
    (($# >= 1)) || usage_die "missing command"
    local sub=$1
    shift
    case $sub in
        up) cmd_up "$@" ;;
        down) cmd_down "$@" ;;
        stop) cmd_stop "$@" ;;
        start) cmd_start "$@" ;;
        freeze) cmd_freeze_thaw STOP "$@" ;;
        thaw) cmd_freeze_thaw CONT "$@" ;;
        delay) cmd_delay "$@" ;;
        pause) cmd_pause_resume pause "$@" ;;
        resume) cmd_pause_resume resume "$@" ;;
        promote) cmd_promote "$@" ;;
        kill-walreceiver) cmd_kill_walreceiver "$@" ;;
        load) cmd_load "$@" ;;
        psql) cmd_psql "$@" ;;
        port) cmd_port "$@" ;;
        status) cmd_status "$@" ;;
        help | -h | --help) usage ;;
        *) usage_die "unknown command '$sub'" ;;
    esac
}

main "$@"
