#!/usr/bin/env bash
# failover.sh - failover, switchover and rejoin of the PostgreSQL pods, from
# an operator's machine with kubectl.
#
# Usage:
#   k8s/failover.sh [-n NAMESPACE] [--context CONTEXT] COMMAND [OPTIONS]
#   COMMAND: status | failover [--fence] | switchover [--to POD] | rejoin POD
#   OPTIONS: --dry-run, --to POD, --timeout SECONDS, --max-lag BYTES
#            (k8s/scripts/pgfailover.sh --help)
# Examples:
#   k8s/failover.sh status
#   k8s/failover.sh failover --dry-run        # prints every step, changes nothing
#   k8s/failover.sh failover                  # the primary is gone
#   k8s/failover.sh failover --fence          # it still answers: stop it first
#   k8s/failover.sh rejoin postgres-primary-0
#   k8s/failover.sh switchover --to postgres-primary-0
#
# The decisions and the SQL are k8s/scripts/pgfailover.sh's (tested on
# loopback by tests/lifecycle/test_failover.py). This file only replaces its
# hooks with kubectl:
#   SQL      kubectl exec -i POD -c postgres -- psql (the pod's Unix socket,
#            peer authentication as postgres: no password leaves the pod)
#   fence    kubectl exec: touch "$PGDATA.fenced", pg_ctl stop -m fast; the
#            container restarts into k8s/scripts/pod-role.sh, which never
#            starts a fenced data directory as a primary: it waits for a
#            writable primary at the write endpoint, then rewinds to it
#   rejoin   the same stop; pod-role.sh rewinds (else re-clones) at the
#            restart; this waits until the pod answers as a replica
# The database pods are those labelled app.kubernetes.io/name=postgres,
# whatever their StatefulSet: after a failover the primary may be a
# postgres-replica-N pod.
set -uo pipefail

# ------------------------------------------------------------ kubectl hooks
# Sourced by pgfailover.sh (--hooks); they use its CONNINFO/TIMEOUT/log.

# kc ARGS...: kubectl with the namespace and context, bounded in time.
kc() {
    local args=()
    [[ -n ${FAILOVER_NAMESPACE:-} ]] && args+=(--namespace "$FAILOVER_NAMESPACE")
    [[ -n ${FAILOVER_CONTEXT:-} ]] && args+=(--context "$FAILOVER_CONTEXT")
    timeout "${KC_TIMEOUT:-90}" kubectl "${args[@]}" "$@"
}

hook_sql() {
    # The SQL travels on stdin: no shell quoting of it anywhere.
    KC_TIMEOUT=30 kc exec -i "$1" -c postgres -- \
        psql -X -A -t -q -v ON_ERROR_STOP=1 -U postgres -d postgres <<<"$2"
}

# The container's PostgreSQL is PID 1's child chain: stopping it ends the
# container, so the exec session may end with an error. What counts is
# positive evidence, not the exec's status and not silence (a pod that
# kubectl cannot reach may still serve its clients): the pod is gone, or
# its fence file is there and PostgreSQL does not run (pg_ctl status exits
# 3 for "no server running"; the restarted container waits in
# pod-role.sh, which never starts a fenced data directory as a primary).
# shellcheck disable=SC2016  # $PGDATA is the pod's, expanded there
stop_script='touch "$PGDATA.fenced" && pg_ctl stop -D "$PGDATA" -m fast -w -t 60'
# shellcheck disable=SC2016
fenced_check='test -e "$PGDATA.fenced" && { pg_ctl status -D "$PGDATA" >/dev/null 2>&1; test $? -eq 3; }'

hook_fence() {
    kc exec "$1" -c postgres -- sh -c "$stop_script" >&2 || true
    local deadline=$((SECONDS + TIMEOUT)) out
    while ((SECONDS < deadline)); do
        if ! out=$(KC_TIMEOUT=30 kc get pod "$1" -o name 2>&1); then
            grep -q NotFound <<<"$out" && return 0
        fi
        KC_TIMEOUT=30 kc exec "$1" -c postgres -- sh -c "$fenced_check" 2>/dev/null && return 0
        sleep 2
    done
    log "cannot confirm that $1 is fenced (pod gone, or its fence file present and PostgreSQL stopped)"
    return 1
}

# shellcheck disable=SC2016  # $PGDATA is the pod's, printed for the operator
fenced_hint() {
    printf '%s is fenced and stays down: to bring it back as it was, kubectl exec %s -c postgres -- sh -c '"'"'rm "$PGDATA.fenced"'"'"'; at the next start of its container, pod-role.sh starts it as before' "$1" "$1"
}

hook_final_lsn() {
    local deadline=$((SECONDS + TIMEOUT)) out
    while ((SECONDS < deadline)); do
        # shellcheck disable=SC2016  # expanded in the pod
        out=$(kc exec "$1" -c postgres -- sh -c 'LC_ALL=C pg_controldata -D "$PGDATA"' 2>/dev/null) &&
            grep -q '^Database cluster state: *shut down$' <<<"$out" &&
            { sed -n 's/^Latest checkpoint location: *//p' <<<"$out"; return 0; }
        sleep 2
    done
    return 1
}

# The rejoin's consent (pod-role.sh rewinds a fenced former primary only
# with it), then the same stop when PostgreSQL runs; a fenced pod waiting
# in pod-role.sh goes on by itself.
# shellcheck disable=SC2016  # $PGDATA is the pod's, expanded there
rejoin_script='touch "$PGDATA.rejoin" && { pg_ctl status -D "$PGDATA" >/dev/null 2>&1 || exit 0; '"$stop_script"'; }'

hook_rejoin() {
    kc exec "$1" -c postgres -- sh -c "$rejoin_script" >&2 || true
    # pod-role.sh rewinds or re-clones at the restart; a clone takes as long
    # as the database's size needs, so wait longer than one step.
    local deadline=$((SECONDS + 10 * TIMEOUT))
    while ((SECONDS < deadline)); do
        [[ $(hook_sql "$1" "SELECT pg_is_in_recovery()" 2>/dev/null) == t ]] && return 0
        sleep 3
    done
    log "$1 did not come back as a replica; kubectl logs $1 -c postgres (pod-role.sh)"
    return 1
}

hook_start() { :; }

# ------------------------------------------------------------ main

main() {
    local here args=() pods
    here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
    while (($#)); do
        case $1 in
        -n | --namespace) export FAILOVER_NAMESPACE=${2:?$1 needs a value}; shift ;;
        --context) export FAILOVER_CONTEXT=${2:?$1 needs a value}; shift ;;
        -h | --help) sed -n '2,/^set -u/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) args+=("$1") ;;
        esac
        shift
    done
    command -v kubectl >/dev/null || { echo "failover.sh: error: kubectl not found" >&2; exit 1; }
    pods=$(kc get pods -l app.kubernetes.io/name=postgres \
        -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}') ||
        { echo "failover.sh: error: kubectl get pods failed" >&2; exit 1; }
    [[ -n $pods ]] || { echo "failover.sh: error: no pod labelled app.kubernetes.io/name=postgres" >&2; exit 1; }
    local nodes=() p
    while IFS= read -r p; do
        [[ -n $p ]] && nodes+=(--node "$p=")
    done <<<"$pods"
    exec "$here/scripts/pgfailover.sh" --hooks "$here/failover.sh" "${nodes[@]}" "${args[@]}"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    main "$@"
fi
