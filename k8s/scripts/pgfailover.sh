#!/usr/bin/env bash
# pgfailover.sh - failover, switchover and rejoin of a PostgreSQL 15
# streaming-replication cluster, through SQL, pg_ctl and pod-role.sh.
#
# This is the part that talks to PostgreSQL; k8s/failover.sh is the thin
# kubectl layer over it (it replaces the hooks below with kubectl exec and
# pod deletion). On loopback it runs as it is, with plain conninfo.
#
# Usage:
#   pgfailover.sh status     [options]
#   pgfailover.sh failover   [options] [--fence] [--to NAME]
#   pgfailover.sh switchover [options] [--to NAME]
#   pgfailover.sh rejoin     [options] NAME
# Options:
#   --node NAME=CONNINFO   a database (repeat for each); CONNINFO reaches it
#                          as a superuser; passwords come from PGPASSFILE or
#                          the environment, never from the command line
#                          (a conninfo with password= is refused)
#   --pgdata NAME=DIR      its data directory, for the loopback hooks
#                          (fence = pg_ctl stop, rejoin = pod-role.sh)
#   --hooks FILE           bash file that redefines hook_* (k8s/failover.sh)
#   --dry-run              print every step, change nothing
#   --fence                failover: stop a primary that still answers
#   --to NAME              the target (failover: only if it is the most
#                          advanced; switchover: default the most advanced)
#   --timeout SECONDS      bound of each wait (default 60)
#   --max-lag BYTES        switchover: the target's lag at the start, 16 MiB
#
# Rules it enforces (docs/runbooks.md, "Manual failover"):
#   - no promotion while another server answers as a writable primary,
#     unless --fence stops it first (and it no longer answers);
#   - the target is the replica with the highest received LSN; every LSN
#     and the bytes each other replica would lose are printed;
#   - the target must be in recovery, not paused, and (switchover)
#     streaming from the primary;
#   - after pg_promote(wait => true): CHECKPOINT, then the physical slot of
#     every other server (its primary_slot_name, else its name with [^a-z0-9_]
#     made '_') on the new primary, before they reconnect; then each
#     replica must stream from it on the new timeline within --timeout, or
#     is rejoined (pg_rewind, else re-clone) when it had WAL past the fork.
# Exit status: 0 done; 1 a step failed; 2 refused (nothing was changed).
set -uo pipefail

PROG=pgfailover.sh
say() { printf '%s\n' "$*"; }
log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { log "error: $*"; exit 1; }
refuse() { log "refused: $*"; exit 2; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
declare -A CONNINFO=() PGDATA_OF=()
NODES=()
DRY_RUN=0 FENCE=0 TARGET="" TIMEOUT=60 MAX_LAG=$((16 * 1024 * 1024))
CMD="" REJOIN=""
STEP=0

# --------------------------------------------------------------- hooks
# Each may be redefined by --hooks FILE. NAME is one of the --node names.

# hook_sql NAME SQL: rows of SQL on NAME, fields separated by '|'.
hook_sql() {
    timeout 30 psql -X -A -t -q -v ON_ERROR_STOP=1 --no-password \
        -d "${CONNINFO[$1]} connect_timeout=5" -c "$2"
}

# hook_fence NAME: NAME can no longer start or serve as a primary: the
# marker pod-role.sh honours, then a fast shutdown (its last WAL, the
# shutdown checkpoint, reaches the connected standbys).
hook_fence() {
    local d=${PGDATA_OF[$1]:-}
    [[ -n $d ]] || { log "cannot fence $1: no --pgdata"; return 1; }
    touch -- "${d%/}.fenced" &&
        pg_ctl stop -D "$d" -m fast -w -t "$TIMEOUT" >&2
}

# hook_final_lsn NAME: the last WAL position of NAME, shut down.
hook_final_lsn() {
    local d=${PGDATA_OF[$1]:-}
    [[ -n $d ]] || return 1
    LC_ALL=C pg_controldata -D "$d" | sed -n "s/^Latest checkpoint location: *//p"
}

# hook_rejoin NAME: NAME becomes a replica of the writable primary behind
# the write endpoint (pod-role.sh: pg_rewind, else re-clone), and starts.
hook_rejoin() {
    local d=${PGDATA_OF[$1]:-}
    [[ -n $d ]] || { log "cannot rejoin $1: no --pgdata"; return 1; }
    # The rejoin's consent: pod-role.sh rewinds a fenced former primary
    # only with it.
    touch -- "${d%/}.rejoin" || return 1
    if pg_ctl status -D "$d" >/dev/null 2>&1; then
        touch -- "${d%/}.fenced"
        pg_ctl stop -D "$d" -m fast -w -t "$TIMEOUT" >&2 || return 1
    fi
    PGDATA=$d POD_NAME=$1 ROLE_WAIT_SECONDS=${ROLE_WAIT_SECONDS:-$TIMEOUT} \
        BOOTSTRAP_WAIT_SECONDS=${BOOTSTRAP_WAIT_SECONDS:-$TIMEOUT} \
        PGPASSFILE=${REJOIN_PGPASSFILE:-$(dirname "$d")/replication.pgpass} \
        "$here/pod-role.sh" || return 1
    hook_start "$1"
}

# hook_start NAME: starts NAME's server with its data directory.
hook_start() {
    pg_ctl start -D "${PGDATA_OF[$1]}" -w -t "$TIMEOUT" \
        -l "$(dirname "${PGDATA_OF[$1]}")/server.log" >&2
}

# --------------------------------------------------------------- helpers

usage() { sed -n '2,/^set -u/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }

# step TEXT CMD...: prints the step; runs CMD unless --dry-run.
step() {
    local text=$1
    shift
    STEP=$((STEP + 1))
    if ((DRY_RUN)); then
        say "[dry-run] step $STEP: $text"
        return 0
    fi
    say "step $STEP: $text"
    "$@"
}

lsn_int() {
    [[ $1 =~ ^([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})$ ]] || { echo -1; return; }
    echo $(((16#${BASH_REMATCH[1]} << 32) + 16#${BASH_REMATCH[2]}))
}

slot_name_of() {
    local s
    s=${SLOT[$1]:-}
    if [[ -z $s ]]; then
        s=$(printf '%s' "$1" | tr '[:upper:]' '[:lower:]' | tr -c 'a-z0-9_' '_')
    fi
    printf '%s' "${s:0:63}"
}

# survey: fills UP, RECOVERY, RECEIVE, REPLAY, TLI, WALRCV, PAUSED, SLOT,
# SYSID for every node (UP=0: it did not answer).
declare -A UP RECOVERY RECEIVE REPLAY TLI WALRCV PAUSED SLOT SYSID SENDER
SURVEY_SQL="SELECT pg_is_in_recovery(),
  CASE WHEN pg_is_in_recovery() THEN COALESCE(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())
       ELSE pg_current_wal_lsn() END,
  CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END,
  CASE WHEN pg_is_in_recovery()
       THEN COALESCE((SELECT received_tli FROM pg_stat_wal_receiver),
                     (SELECT timeline_id FROM pg_control_checkpoint()))
       ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END,
  COALESCE((SELECT status FROM pg_stat_wal_receiver), '-'),
  CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused()::text ELSE '-' END,
  current_setting('primary_slot_name'),
  (SELECT system_identifier FROM pg_control_system()),
  COALESCE((SELECT sender_host || ':' || sender_port FROM pg_stat_wal_receiver), '-')"
survey() {
    local n out
    for n in "${NODES[@]}"; do
        UP[$n]=0
        out=$(hook_sql "$n" "$SURVEY_SQL" 2>/dev/null | head -n 1) || out=""
        [[ -n $out ]] || continue
        IFS='|' read -r "RECOVERY[$n]" "RECEIVE[$n]" "REPLAY[$n]" "TLI[$n]" "WALRCV[$n]" \
            "PAUSED[$n]" "SLOT[$n]" "SYSID[$n]" "SENDER[$n]" <<<"$out"
        UP[$n]=1
    done
}

print_survey() {
    local n
    printf '%-22s %-8s %-4s %-18s %-18s %-10s %s\n' NAME ROLE TLI RECEIVED/CURRENT REPLAYED WALRCV "SLOT UPSTREAM"
    for n in "${NODES[@]}"; do
        if ((!UP[$n])); then
            printf '%-22s %s\n' "$n" "does not answer"
        else
            printf '%-22s %-8s %-4s %-18s %-18s %-10s %s\n' "$n" \
                "$([[ ${RECOVERY[$n]} == t ]] && echo replica || echo PRIMARY)" \
                "${TLI[$n]}" "${RECEIVE[$n]}" "${REPLAY[$n]}" "${WALRCV[$n]}" \
                "${SLOT[$n]:--} ${SENDER[$n]}"
        fi
    done
}

# same_cluster: every answering node has one system identifier (a --node
# naming another cluster would otherwise be promoted or rewound).
same_cluster() {
    local n first=""
    for n in "${NODES[@]}"; do
        ((UP[$n])) || continue
        [[ -z $first ]] && first=${SYSID[$n]}
        [[ ${SYSID[$n]} == "$first" ]] || refuse "$n belongs to another cluster (system identifier ${SYSID[$n]}, not $first)"
    done
}

writable_nodes() {
    local n
    for n in "${NODES[@]}"; do
        ((UP[$n])) && [[ ${RECOVERY[$n]} == f ]] && printf '%s\n' "$n"
    done
    return 0
}

# most_advanced: the replica with the highest (timeline, received LSN)
# (ties: the first named): an LSN compares only within one timeline, and a
# replica on a later one already follows a newer history. Prints every
# replica's position and what it would lose.
most_advanced() {
    local n best="" best_tli=-1 best_lsn=-1 v t
    for n in "${NODES[@]}"; do
        if ((!UP[$n])) || [[ ${RECOVERY[$n]} != t ]]; then continue; fi
        v=$(lsn_int "${RECEIVE[$n]}") t=${TLI[$n]:-0}
        if ((t > best_tli || (t == best_tli && v > best_lsn))); then
            best=$n best_tli=$t best_lsn=$v
        fi
    done
    [[ -n $best ]] || return 1
    for n in "${NODES[@]}"; do
        if ((!UP[$n])) || [[ ${RECOVERY[$n]} != t ]]; then continue; fi
        v=$(lsn_int "${RECEIVE[$n]}") t=${TLI[$n]:-0}
        if [[ $n == "$best" ]]; then
            say "  $n received ${RECEIVE[$n]} on timeline $t: the most advanced" >&2
        elif ((t != best_tli)); then
            say "  $n received ${RECEIVE[$n]} on timeline $t, not $best_tli: behind $best's history (lost if it were promoted)" >&2
        else
            say "  $n received ${RECEIVE[$n]} on timeline $t: $((best_lsn - v)) bytes behind $best (lost if it were promoted)" >&2
        fi
    done
    printf '%s\n' "$best"
}

# choose_target: the replica to promote, from the latest survey: the most
# advanced, or --to if it is as advanced, and not paused. Refuses (exit 2)
# otherwise; run it in $(...) and pass its status on.
choose_target() {
    local target
    target=$(most_advanced) || refuse "no replica answers"
    if [[ -n $TARGET && $TARGET != "$target" ]]; then
        if [[ ${RECEIVE[$TARGET]:-} != "${RECEIVE[$target]}" ||
            ${TLI[$TARGET]:-} != "${TLI[$target]}" ]]; then
            refuse "--to $TARGET is not the most advanced replica ($target is)"
        fi
        target=$TARGET
    fi
    [[ ${PAUSED[$target]} == false ]] || refuse "replay is paused on $target (pg_wal_replay_resume() first)"
    printf '%s\n' "$target"
}

# fenced_hint NAME: how to undo the fence of NAME when nothing was promoted.
fenced_hint() {
    local d=${PGDATA_OF[$1]:-}
    printf '%s is fenced and stays down: to bring it back as it was, remove %s and start it' \
        "$1" "${d:+${d%/}.fenced}${d:-its <pgdata>.fenced file}"
}

# wait_for SECONDS WHAT CMD...: CMD until it succeeds; fails after SECONDS.
wait_for() {
    local secs=$1 what=$2
    shift 2
    ((DRY_RUN)) && return 0
    local deadline=$((SECONDS + secs))
    until "$@"; do
        ((SECONDS < deadline)) || { log "timed out after ${secs}s: $what"; return 1; }
        sleep 0.5
    done
}

one_value() { hook_sql "$1" "$2" 2>/dev/null | head -n 1; }

is_writable() { [[ $(one_value "$1" "SELECT pg_is_in_recovery()") == f ]]; }
not_writable() { ! is_writable "$1"; }

replayed_at_least() {
    local v
    v=$(one_value "$1" "SELECT pg_last_wal_replay_lsn()")
    (($(lsn_int "$v") >= $(lsn_int "$2")))
}

promote() {
    local r
    # Within hook_sql's 30 s bound, so that psql is not killed while the
    # promotion goes on; a promotion slower than that is found below.
    r=$(one_value "$1" "SELECT pg_promote(wait => true, wait_seconds => 20)") || r=
    if [[ $r != t ]]; then
        log "pg_promote() on $1 returned '$r'"
        # It may still have ended recovery: then it is the primary, and
        # failing here would invite promoting a second one.
        wait_for 30 "$1 to leave recovery" is_writable "$1" || return 1
        log "$1 left recovery after all"
    fi
    is_writable "$1" || { log "$1 is still in recovery"; return 1; }
    # The new timeline in the control file, for pg_rewind's sources.
    hook_sql "$1" "CHECKPOINT" >/dev/null
}

create_slot() {
    local primary=$1 slot=$2
    [[ $slot =~ ^[a-z0-9_]{1,63}$ ]] || { log "invalid slot name '$slot'"; return 1; }
    hook_sql "$primary" "SELECT pg_create_physical_replication_slot('$slot', true)
        WHERE NOT EXISTS (SELECT FROM pg_replication_slots WHERE slot_name = '$slot')" >/dev/null
}

# streams_on_timeline REPLICA PRIMARY TLI: REPLICA's WAL receiver streams
# on TLI, and PRIMARY has an active slot for it.
streams_on_timeline() {
    local row slot
    row=$(one_value "$1" "SELECT status, received_tli FROM pg_stat_wal_receiver")
    [[ $row == "streaming|$3" ]] || return 1
    slot=$(slot_name_of "$1")
    [[ $(one_value "$2" "SELECT active FROM pg_replication_slots WHERE slot_name = '$slot'") == t ]]
}

# follow_all PRIMARY TLI FORK_LSN SKIP...: every other answering replica
# streams from PRIMARY on TLI, else is rejoined when it had WAL past the
# fork (or does not follow within --timeout). FORK_LSN "-": none can be.
follow_all() {
    local primary=$1 tli=$2 fork=$3 n failed=0
    shift 3
    for n in "${NODES[@]}"; do
        [[ $n == "$primary" ]] && continue
        [[ " $* " == *" $n "* ]] && continue
        ((UP[$n])) || { say "  $n does not answer: rejoin it when it is back ($PROG rejoin $n)"; continue; }
        if [[ $fork != - ]] && (($(lsn_int "${RECEIVE[$n]}") > $(lsn_int "$fork"))); then
            say "  $n received ${RECEIVE[$n]}, past the fork at $fork: it cannot follow timeline $tli"
            step "rejoin $n (pg_rewind, else re-clone)" hook_rejoin "$n" || failed=1
        fi
        if ! wait_for "$TIMEOUT" "$n streaming from $primary on timeline $tli" \
            streams_on_timeline "$n" "$primary" "$tli"; then
            if ! step "rejoin $n, which does not follow (pg_rewind, else re-clone)" hook_rejoin "$n" ||
                ! wait_for "$TIMEOUT" "$n streaming after the rejoin" \
                    streams_on_timeline "$n" "$primary" "$tli"; then
                failed=1
                continue
            fi
        fi
        ((DRY_RUN)) || say "  $n streams from $primary on timeline $tli (slot $(slot_name_of "$n") active)"
    done
    return $failed
}

# stop_writes NAME: new transactions read-only (a session can override it,
# so the fence that follows is what guarantees it), current ones ended.
stop_writes() {
    hook_sql "$1" "ALTER SYSTEM SET default_transaction_read_only = on" >/dev/null &&
        hook_sql "$1" "SELECT pg_reload_conf()" >/dev/null &&
        sleep 0.2 &&
        hook_sql "$1" "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
             WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()" >/dev/null
}

new_timeline() { one_value "$1" "SELECT ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int"; }

# --------------------------------------------------------------- commands

cmd_status() {
    survey
    print_survey
    local w
    w=$(writable_nodes | wc -l)
    say "writable primaries: $w"
    [[ $w == 1 ]]
}

# promote_with_slots TARGET: checks again that nothing is writable (a
# former primary that did not answer at the survey may have come back, a
# restarted pod, unfenced: never promote beside it), promotes TARGET, sets
# the caller's `tli` to its new timeline, and creates on it the slot of
# every other node before they reconnect.
promote_with_slots() {
    local target=$1 n writable
    if ((!DRY_RUN)); then
        survey
        mapfile -t writable < <(writable_nodes)
        ((${#writable[@]} == 0)) ||
            die "${writable[*]} answers as a writable primary now; nothing was promoted (fence it, then run failover again)"
    fi
    step "promote $target: SELECT pg_promote(wait => true)" promote "$target" ||
        die "promotion of $target failed"
    if ((DRY_RUN)); then tli=$((${TLI[$target]:-0} + 1)); else tli=$(new_timeline "$target"); fi
    for n in "${NODES[@]}"; do
        [[ $n == "$target" ]] && continue
        step "create slot $(slot_name_of "$n") on $target for $n" create_slot "$target" "$(slot_name_of "$n")" ||
            die "could not create the slot of $n on $target"
    done
}

cmd_failover() {
    survey
    print_survey
    same_cluster
    local writable old="" n target fork tli
    mapfile -t writable < <(writable_nodes)
    if ((${#writable[@]} > 1)); then
        refuse "${#writable[@]} servers answer as writable primaries (${writable[*]}): a split brain; fence all but one by hand"
    fi
    if ((${#writable[@]} == 1)); then
        old=${writable[0]}
        ((FENCE)) || refuse "$old still answers as a writable primary; use switchover, or --fence to stop it first"
    fi
    say "choosing the target by timeline and received LSN:"
    target=$(choose_target) || exit $?
    local undo=""
    if [[ -n $old ]]; then
        step "fence $old (it answers as a writable primary)" hook_fence "$old" ||
            die "fencing $old failed; nothing was promoted; $(fenced_hint "$old")"
        undo="; $(fenced_hint "$old")"
        wait_for "$TIMEOUT" "$old to stop answering as a writable primary" not_writable "$old" ||
            die "$old still answers as writable; nothing was promoted$undo"
        # What it sent before stopping may have moved the replicas on: the
        # choice is made again, with the same checks.
        if ((!DRY_RUN)); then
            survey
            target=$(choose_target) || die "after the fence no replica can be promoted (above); nothing was promoted$undo"
        fi
    fi
    fork=${RECEIVE[$target]}
    say "target: $target (received $fork, replayed ${REPLAY[$target]}, timeline ${TLI[$target]})"
    step "wait until $target has replayed all it received ($fork)" \
        wait_for "$TIMEOUT" "$target replaying to $fork" replayed_at_least "$target" "$fork" ||
        die "$target did not replay what it received; nothing was promoted$undo"
    promote_with_slots "$target"
    local skip=()
    [[ -n $old ]] && skip=("$old")
    for n in "${NODES[@]}"; do ((UP[$n])) || skip+=("$n"); done
    follow_all "$target" "$tli" "$fork" "${skip[@]}" || die "a replica does not follow $target"
    say "failover done: $target is the primary on timeline $tli."
    for n in "${skip[@]}"; do
        say "  $n: not a replica yet; rejoin it with: $PROG rejoin $n"
    done
}

cmd_switchover() {
    survey
    print_survey
    same_cluster
    local writable old target final="" lsn0="" tli n
    mapfile -t writable < <(writable_nodes)
    ((${#writable[@]} == 1)) || refuse "a switchover needs exactly one writable primary (${#writable[@]} answer)"
    old=${writable[0]}
    say "choosing the target by timeline and received LSN:"
    target=$(most_advanced) || refuse "no replica answers"
    [[ -n $TARGET ]] && target=$TARGET
    [[ ${UP[$target]:-0} == 1 && ${RECOVERY[$target]} == t ]] || refuse "$target is not an answering replica"
    [[ ${WALRCV[$target]} == streaming ]] || refuse "$target is not streaming (${WALRCV[$target]})"
    [[ ${PAUSED[$target]} == false ]] || refuse "replay is paused on $target"
    local lag=$(($(lsn_int "${RECEIVE[$old]}") - $(lsn_int "${REPLAY[$target]}")))
    ((lag <= MAX_LAG)) || refuse "$target is $lag bytes behind $old (over --max-lag $MAX_LAG)"
    say "switchover: $old -> $target ($target $lag bytes behind at the start)"

    step "stop writes on $old: default_transaction_read_only = on, client sessions terminated" \
        stop_writes "$old" || die "could not stop writes on $old"
    lsn0=$( ((DRY_RUN)) || one_value "$old" "SELECT pg_current_wal_lsn()")
    step "wait until $target has replayed $old's current LSN ${lsn0:-}" \
        wait_for "$TIMEOUT" "$target replaying to $lsn0" replayed_at_least "$target" "$lsn0" ||
        die "$target did not catch up; writes on $old are still stopped (ALTER SYSTEM RESET default_transaction_read_only there to undo)"
    step "fence $old: fast shutdown, its shutdown checkpoint streams to $target" hook_fence "$old" ||
        die "could not stop $old; $(fenced_hint "$old")"
    if ((!DRY_RUN)); then
        final=$(hook_final_lsn "$old") || final=""
        [[ -n $final ]] || die "cannot read the final LSN of $old; nothing was promoted; $(fenced_hint "$old")"
        say "  $old's final LSN (shutdown checkpoint): $final"
    fi
    step "wait until $target has replayed exactly up to $old's final LSN ${final:-}" \
        wait_for "$TIMEOUT" "$target replaying to $final" replayed_at_least "$target" "$final" ||
        die "$target did not receive $old's last WAL; nothing was promoted; $(fenced_hint "$old")"
    ((DRY_RUN)) || say "  $target replayed $(one_value "$target" "SELECT pg_last_wal_replay_lsn()"), through $old's shutdown checkpoint record at $final: nothing lost"
    promote_with_slots "$target"
    step "rejoin $old as a replica of $target" hook_rejoin "$old" || die "rejoin of $old failed"
    # No replica can be past the fork: $old's WAL ended at $final, which
    # $target replayed. They follow the new timeline by themselves.
    follow_all "$target" "$tli" - || die "a replica does not follow $target"
    say "switchover done: $target is the primary on timeline $tli; $old is its replica."
}

cmd_rejoin() {
    local name=$1 writable primary tli
    [[ -n ${CONNINFO[$name]+x} ]] || die "unknown node $name"
    survey
    print_survey
    mapfile -t writable < <(writable_nodes)
    local others=()
    for n in "${writable[@]}"; do [[ $n != "$name" ]] && others+=("$n"); done
    ((${#others[@]} == 1)) || refuse "rejoin needs exactly one other writable primary (${#others[@]} answer)"
    primary=${others[0]}
    step "create slot $(slot_name_of "$name") on $primary" create_slot "$primary" "$(slot_name_of "$name")" ||
        die "could not create the slot of $name on $primary"
    step "rejoin $name as a replica of $primary (pg_rewind, else re-clone)" hook_rejoin "$name" ||
        die "rejoin of $name failed"
    if ((DRY_RUN)); then tli=${TLI[$primary]}; else tli=$(new_timeline "$primary"); fi
    wait_for "$TIMEOUT" "$name streaming from $primary on timeline $tli" \
        streams_on_timeline "$name" "$primary" "$tli" || die "$name does not stream from $primary"
    ((DRY_RUN)) || say "rejoin done: $name streams from $primary on timeline $tli."
}

# --------------------------------------------------------------- main

main() {
    local hooks="" arg
    while (($#)); do
        arg=$1
        case $arg in
        status | failover | switchover | rejoin) CMD=$arg ;;
        --node | --pgdata)
            (($# >= 2)) || die "$arg needs NAME=VALUE"
            [[ $2 == ?*=* ]] || die "$arg needs NAME=VALUE, got '$2'"
            local name=${2%%=*} value=${2#*=}
            [[ $name =~ ^[A-Za-z0-9._-]+$ ]] || die "invalid node name '$name'"
            if [[ $arg == --node ]]; then
                [[ $value != *password=* && $value != *://* ]] ||
                    die "--node $name: a key=value conninfo without a password (passwords come from PGPASSFILE)"
                CONNINFO[$name]=$value
                NODES+=("$name")
            else
                PGDATA_OF[$name]=$value
            fi
            shift
            ;;
        --hooks) hooks=${2:?--hooks needs a file}; shift ;;
        --dry-run) DRY_RUN=1 ;;
        --fence) FENCE=1 ;;
        --to) TARGET=${2:?--to needs a name}; shift ;;
        --timeout) TIMEOUT=${2:?}; shift ;;
        --max-lag) MAX_LAG=${2:?}; shift ;;
        -h | --help) usage; exit 0 ;;
        -*) die "unknown option $arg (--help)" ;;
        *)
            [[ $CMD == rejoin && -z $REJOIN ]] || die "unexpected argument '$arg'"
            REJOIN=$arg
            ;;
        esac
        shift
    done
    [[ -n $CMD ]] || die "no command: status, failover, switchover or rejoin (--help)"
    [[ $TIMEOUT =~ ^[0-9]+$ && $TIMEOUT -gt 0 ]] || die "--timeout must be a positive number"
    [[ $MAX_LAG =~ ^[0-9]+$ ]] || die "--max-lag must be a number of bytes"
    ((${#NODES[@]} >= 2)) || die "name at least two --node"
    if [[ -n $TARGET && -z ${CONNINFO[$TARGET]+x} ]]; then die "--to $TARGET is not a --node"; fi
    if [[ -n $hooks ]]; then
        # shellcheck source=/dev/null
        source "$hooks" || die "cannot load $hooks"
    fi
    case $CMD in
    status) cmd_status ;;
    failover) cmd_failover ;;
    switchover) cmd_switchover ;;
    rejoin)
        [[ -n $REJOIN ]] || die "rejoin needs a NAME"
        cmd_rejoin "$REJOIN"
        ;;
    esac
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    main "$@"
fi
