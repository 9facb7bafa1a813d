#!/usr/bin/env bash
# apply.sh - deploy the replicated PostgreSQL cluster and pgrepl_exporter,
# wait for them, and show that replication works.
#
# Order: Secrets (k8s/secrets.yaml) -> k8s/ (ConfigMaps, primary, replicas,
# router, PDBs, NetworkPolicies) -> delete the PDBs of earlier versions
# (postgres-primary, postgres-replica) -> router rollout -> primary rollout ->
# replicas rollout -> monitoring (k8s/monitoring/ when the
# prometheus-operator CRDs exist, else the exporter alone from
# k8s/monitoring/exporter/) -> exporter rollout -> checks:
# pg_stat_replication on the primary (as the superuser, and as the
# application role postgres_user on app_db: the platform's documented
# check), pg_is_in_recovery() on each replica,
# and both router endpoints answering from a replica pod. Exits non-zero
# when a step or a check fails. Safe to re-run.
#
# The router goes first: the replicas clone and stream through
# postgres-primary, which is the router.
set -euo pipefail

PROG=${0##*/}
K8S_DIR=$(cd "$(dirname "$0")" && pwd)

usage() {
    cat <<EOF
usage: $PROG [options]

  -n, --namespace NS   namespace to deploy into (created if missing;
                       default: the context's namespace)
      --context CTX    kubectl context (default: the current context)
      --image IMAGE    pgrepl_exporter image, e.g. registry.example.com/pgrepl-exporter:0.1.0
                       (default: the images: entry of the kustomizations)
      --timeout DUR    rollout wait per workload (default 10m)
  -h, --help           this text

Needs k8s/secrets.yaml: copy k8s/secrets.yaml.example and fill it in.

k8s/ is a kustomization. Without this script, run exactly:
  kubectl apply -f k8s/secrets.yaml
  kubectl apply -k k8s/
  kubectl apply -k k8s/monitoring/      # or k8s/monitoring/exporter/ without the
                                        # prometheus-operator CRDs
(and set the exporter image in the kustomizations' images: entries). Not
kubectl apply -f k8s/postgres-primary.yaml / postgres-replica.yaml: those
files need the ConfigMaps kustomize generates, and refuse to apply alone.
EOF
}

die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }
step() { printf '\n==> %s\n' "$*"; }

namespace=
context=
image=
timeout=10m
while (($# > 0)); do
    case $1 in
        -n | --namespace) namespace=${2:?--namespace needs a value}; shift 2 ;;
        --namespace=*) namespace=${1#*=}; shift ;;
        --context) context=${2:?--context needs a value}; shift 2 ;;
        --context=*) context=${1#*=}; shift ;;
        --image) image=${2:?--image needs a value}; shift 2 ;;
        --image=*) image=${1#*=}; shift ;;
        --timeout) timeout=${2:?--timeout needs a value}; shift 2 ;;
        --timeout=*) timeout=${1#*=}; shift ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $1" ;;
    esac
done

secrets=$K8S_DIR/secrets.yaml
if [[ ! -f $secrets ]]; then
    die "$secrets not found. Create it from the example and fill in every value:
    cp k8s/secrets.yaml.example k8s/secrets.yaml   # then edit; openssl rand -base64 24 makes a password"
fi
if grep -q 'CHANGE_ME' "$secrets"; then
    die "$secrets still contains CHANGE_ME: set every password first (openssl rand -base64 24)"
fi
command -v kubectl >/dev/null || die "kubectl not found"
if [[ -n $image && ! $image =~ ^[A-Za-z0-9._/:@-]+$ ]]; then
    die "--image: not an image reference: $image"
fi

kc=(kubectl)
if [[ -n $context ]]; then kc+=(--context "$context"); fi
if [[ -n $namespace ]]; then kc+=(--namespace "$namespace"); fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# render DIR: the kustomization's objects, with --image as the exporter's
# image (every container image whose name ends in /pgrepl-exporter).
render() {
    if [[ -z $image ]]; then
        kubectl kustomize "$1"
        return
    fi
    kubectl kustomize "$1" |
        sed -E "s#^([[:space:]]*(- )?image: )([^[:space:]]*/)?pgrepl-exporter([:@][^[:space:]]*)?\$#\\1$image#"
}

apply_dir() {
    render "$1" >"$work/rendered.yaml"
    "${kc[@]}" apply -f "$work/rendered.yaml"
}

rollout() {
    "${kc[@]}" rollout status "$1" --timeout="$timeout" ||
        die "$1 did not become ready within $timeout (kubectl ${kc[*]:1} describe $1)"
}

if [[ -n $namespace ]]; then
    step "namespace $namespace"
    "${kc[@]}" get namespace "$namespace" >/dev/null 2>&1 ||
        "${kc[@]}" create namespace "$namespace"
fi

step "secrets (k8s/secrets.yaml)"
"${kc[@]}" apply -f "$secrets"

step "PostgreSQL: primary, replicas, router, PDBs, NetworkPolicies (k8s/)"
apply_dir "$K8S_DIR"
# The budgets of earlier versions: a pod in two budgets cannot be evicted
# (k8s/pdb.yaml now has one, postgres, for all three databases).
"${kc[@]}" delete poddisruptionbudget postgres-primary postgres-replica --ignore-not-found
rollout deployment/postgres-router
rollout statefulset/postgres-primary
rollout statefulset/postgres-replica

if "${kc[@]}" get crd servicemonitors.monitoring.coreos.com >/dev/null 2>&1 &&
    "${kc[@]}" get crd prometheusrules.monitoring.coreos.com >/dev/null 2>&1; then
    step "monitoring: exporter, ServiceMonitor, PrometheusRule, dashboards (k8s/monitoring/)"
    apply_dir "$K8S_DIR/monitoring"
else
    step "monitoring: exporter only (k8s/monitoring/exporter/)"
    echo "The prometheus-operator CRDs (servicemonitors/prometheusrules.monitoring.coreos.com)"
    echo "are not installed: ServiceMonitor, PrometheusRule and dashboards skipped."
    echo "Install kube-prometheus-stack, then: kubectl apply -k k8s/monitoring/"
    apply_dir "$K8S_DIR/monitoring/exporter"
fi
rollout deployment/pgrepl-exporter

# ------------------------------------------------------------------ checks
failed=0
ns_flag=()
if [[ -n $namespace ]]; then ns_flag=(-n "$namespace"); fi

# psql_in POD SQL: run SQL as the superuser over the pod's local socket.
psql_in() {
    "${kc[@]}" exec "$1" -c postgres -- psql -X -U postgres -d postgres -v ON_ERROR_STOP=1 "${@:3}" -c "$2"
}

step "check: pg_stat_replication on the primary"
sql="SELECT application_name, client_addr, state, sync_state, replay_lag FROM pg_stat_replication ORDER BY 1"
echo "\$ kubectl ${ns_flag[*]} exec postgres-primary-0 -c postgres -- psql -U postgres -c \"$sql\""
psql_in postgres-primary-0 "$sql" || failed=1

want=$("${kc[@]}" get statefulset postgres-replica -o jsonpath='{.spec.replicas}')
streaming=$(psql_in postgres-primary-0 \
    "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming' AND application_name LIKE 'postgres-replica-%'" \
    -At) || streaming=0
echo "streaming replicas: $streaming of $want"
if [[ $streaming != "$want" ]]; then failed=1; fi

# The platform's documented check runs as the application role postgres_user
# on app_db (README.md). Its password stays in the pod: the primary's
# container has POSTGRES_PASSWORD, and only the pod's shell expands it.
step "check: pg_stat_replication as postgres_user on app_db"
echo "\$ kubectl ${ns_flag[*]} exec -it postgres-primary-0 -- psql -U postgres_user -d app_db -c \"SELECT * FROM pg_stat_replication;\""
# shellcheck disable=SC2016  # $POSTGRES_PASSWORD and $$ are the pod shell's
app_streaming=$("${kc[@]}" exec postgres-primary-0 -c postgres -- sh -c \
    'PGPASSWORD="$POSTGRES_PASSWORD" exec psql -X -w -U postgres_user -d app_db -v ON_ERROR_STOP=1 -At -c "SELECT count(*) FROM pg_stat_replication WHERE state = \$\$streaming\$\$"') ||
    app_streaming=error
echo "streaming replicas seen by postgres_user: $app_streaming of $want"
if [[ $app_streaming != "$want" ]]; then failed=1; fi

step "check: pg_is_in_recovery() on each replica"
mapfile -t pods < <("${kc[@]}" get pods \
    -l app.kubernetes.io/name=postgres,app.kubernetes.io/component=replica \
    -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}')
((${#pods[@]} > 0)) || { echo "no replica pods found"; failed=1; }
for pod in "${pods[@]}"; do
    echo "\$ kubectl ${ns_flag[*]} exec $pod -c postgres -- psql -U postgres -Atc 'SELECT pg_is_in_recovery()'"
    answer=$(psql_in "$pod" "SELECT pg_is_in_recovery()" -At) || answer=error
    echo "$pod: pg_is_in_recovery() = $answer"
    if [[ $answer != t ]]; then failed=1; fi
done

step "check: the router's endpoints (postgres-primary writes, postgres-replica reads)"
if ((${#pods[@]} > 0)); then
    for svc in postgres-primary postgres-replica; do
        echo "\$ kubectl ${ns_flag[*]} exec ${pods[0]} -c postgres -- pg_isready -h $svc -p 5432"
        "${kc[@]}" exec "${pods[0]}" -c postgres -- pg_isready -h "$svc" -p 5432 -t 5 || failed=1
    done
fi

step "exporter"
echo "metrics:  kubectl ${ns_flag[*]} port-forward service/pgrepl-exporter 9752 && curl -s localhost:9752/metrics | grep '^pgrepl_up'"
echo "status:   http://localhost:9752/ while the port-forward runs"

if ((failed)); then
    die "replication or router checks failed (see above)"
fi
echo
echo "$PROG: PostgreSQL primary, $want streaming replica(s), the router and pgrepl_exporter are running."
