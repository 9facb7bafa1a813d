"""k8s/apply.sh against a stand-in kubectl (no cluster exists here).

The stand-in records every call, renders kustomizations with the real
kubectl (kustomize is offline) and answers the cluster queries apply.sh
makes like a healthy cluster would, or not, as each case asks. apply.sh
runs from a copy of k8s/, so the tree's own k8s/secrets.yaml is never
touched. Checks: refusal without (or with unfilled) secrets, the order of
the steps, the CRD switch for monitoring, --image, --namespace/--context,
and that a replica not in recovery fails the run.
"""

import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "integration"))

from harness import SOURCE_DIR, run_tests  # noqa: E402

REAL_KUBECTL = shutil.which("kubectl")

STUB = r"""#!/usr/bin/env bash
# Stand-in kubectl: logs its arguments, answers like a cluster would.
set -euo pipefail
args=()
while (($# > 0)); do
    case $1 in
        --context | --namespace | -n) printf '%s %s\n' "$1" "$2" >>"$STUB_DIR/globals"; shift 2 ;;
        *) args+=("$1"); shift ;;
    esac
done
set -- "${args[@]}"
printf '%s\n' "$*" >>"$STUB_DIR/calls"
case "$1 ${2:-}" in
    "kustomize "*) exec "$REAL_KUBECTL" kustomize "$2" ;;
    "apply -f")
        n=$(ls "$STUB_DIR" | grep -c '^applied-' || true)
        cp "$3" "$STUB_DIR/applied-$n.yaml"
        echo "applied $3" ;;
    "get crd") [[ ${STUB_CRDS:-0} == 1 ]] ;;
    "get namespace") exit 1 ;;
    "create namespace") echo "namespace/$3 created" ;;
    "delete poddisruptionbudget") echo "deleted $3 $4 (if found)" ;;
    "rollout status") echo "$3 rolled out" ;;
    "get statefulset") echo 2 ;;
    "get pods") printf 'postgres-replica-0\npostgres-replica-1\n' ;;
    "exec "*)
        pod=$2
        if [[ " $* " == *" pg_isready "* ]]; then
            host=${*: -5:1}
            if [[ $host == "${STUB_DOWN:-none}" ]]; then echo "$host:5432 - no response"; exit 2; fi
            echo "$host:5432 - accepting connections"
            exit 0
        fi
        sql=${*: -1}
        case $sql in
            *"count(*)"*) echo 2 ;;
            *pg_stat_replication*) printf ' postgres-replica-0 | streaming\n postgres-replica-1 | streaming\n' ;;
            *pg_is_in_recovery*)
                if [[ $pod == "${STUB_PROMOTED:-none}" ]]; then echo f; else echo t; fi ;;
            *) echo "unexpected SQL: $sql" >&2; exit 1 ;;
        esac ;;
    *) echo "stub kubectl: unexpected call: $*" >&2; exit 1 ;;
esac
"""


class Sandbox:
    """A copy of k8s/ plus a PATH whose kubectl is the stand-in."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="pgrepl-apply-")
        self.k8s = os.path.join(self.dir, "k8s")
        shutil.copytree(os.path.join(SOURCE_DIR, "k8s"), self.k8s,
                        ignore=shutil.ignore_patterns("secrets.yaml"))
        self.stub = os.path.join(self.dir, "stub")
        self.bin = os.path.join(self.dir, "bin")
        os.makedirs(self.stub)
        os.makedirs(self.bin)
        kubectl = os.path.join(self.bin, "kubectl")
        with open(kubectl, "w") as f:
            f.write(STUB)
        os.chmod(kubectl, 0o755)

    def secrets(self, text):
        with open(os.path.join(self.k8s, "secrets.yaml"), "w") as f:
            f.write(text)

    def filled_secrets(self):
        with open(os.path.join(self.k8s, "secrets.yaml.example")) as f:
            self.secrets(f.read().replace("CHANGE_ME", "not-a-real-password"))

    def run(self, *args, crds=False, promoted=None, down=None):
        env = dict(os.environ, PATH=self.bin + os.pathsep + os.environ["PATH"],
                   STUB_DIR=self.stub, REAL_KUBECTL=REAL_KUBECTL,
                   STUB_CRDS="1" if crds else "0",
                   STUB_PROMOTED=promoted or "none",
                   STUB_DOWN=down or "none")
        return subprocess.run([os.path.join(self.k8s, "apply.sh"), *args],
                              env=env, text=True, capture_output=True,
                              timeout=120)

    def calls(self):
        path = os.path.join(self.stub, "calls")
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return f.read().splitlines()

    def applied(self):
        out = []
        i = 0
        while os.path.exists(os.path.join(self.stub, f"applied-{i}.yaml")):
            with open(os.path.join(self.stub, f"applied-{i}.yaml")) as f:
                out.append(f.read())
            i += 1
        return out

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def case(fn):
    def run():
        box = Sandbox()
        try:
            fn(box)
        finally:
            box.close()
    run.__name__ = fn.__name__
    return run


@case
def test_refuses_without_secrets(box):
    r = box.run()
    assert r.returncode != 0, r.stdout
    assert "secrets.yaml.example" in r.stderr, r.stderr
    assert box.calls() == [], box.calls()


@case
def test_refuses_unfilled_secrets(box):
    shutil.copy(os.path.join(box.k8s, "secrets.yaml.example"),
                os.path.join(box.k8s, "secrets.yaml"))
    r = box.run()
    assert r.returncode != 0 and "CHANGE_ME" in r.stderr, r.stderr
    assert box.calls() == [], box.calls()


@case
def test_order_without_crds(box):
    box.filled_secrets()
    r = box.run()
    assert r.returncode == 0, r.stdout + r.stderr
    calls = [c for c in box.calls() if not c.startswith("kustomize")]
    steps = [c.split()[0] + " " + c.split()[1] for c in calls]
    want = ["apply -f", "apply -f", "delete poddisruptionbudget",
            "rollout status", "rollout status", "rollout status", "get crd",
            "apply -f", "rollout status"]
    assert steps[:len(want)] == want, calls
    # The earlier versions' two budgets go: a pod in two cannot be evicted.
    assert calls[2] == ("delete poddisruptionbudget postgres-primary"
                        " postgres-replica --ignore-not-found"), calls
    # The router first: the replicas clone through postgres-primary.
    assert "deployment/postgres-router" in calls[3], calls
    assert "statefulset/postgres-primary" in calls[4], calls
    assert "statefulset/postgres-replica" in calls[5], calls
    assert "deployment/pgrepl-exporter" in calls[8], calls
    secrets, cluster, monitoring = box.applied()
    assert "kind: Secret" in secrets
    assert "name: postgres-primary" in cluster and "kind: StatefulSet" in cluster
    assert "name: postgres-router" in cluster and "haproxy.cfg: |" in cluster
    assert "kind: Deployment" in monitoring
    assert "ServiceMonitor" not in monitoring and "PrometheusRule" not in monitoring
    assert "CRDs" in r.stdout, r.stdout
    # The seed's verification commands, and their results.
    assert "pg_stat_replication" in r.stdout and "postgres-replica-1 | streaming" in r.stdout
    assert "streaming replicas: 2 of 2" in r.stdout, r.stdout
    # As the application role; its password is expanded only in the pod.
    assert "streaming replicas seen by postgres_user: 2 of 2" in r.stdout, r.stdout
    seed = [c for c in box.calls() if "postgres_user" in c]
    assert len(seed) == 1 and '"$POSTGRES_PASSWORD"' in seed[0], seed
    assert "not-a-real-password" not in "".join(box.calls()), box.calls()
    for pod in ("postgres-replica-0", "postgres-replica-1"):
        assert f"{pod}: pg_is_in_recovery() = t" in r.stdout, r.stdout
    # Both router endpoints, from inside the cluster.
    for svc in ("postgres-primary", "postgres-replica"):
        assert f"{svc}:5432 - accepting connections" in r.stdout, r.stdout


@case
def test_crds_image_namespace_context(box):
    box.filled_secrets()
    r = box.run("--namespace", "db", "--context", "prod",
                "--image", "registry.example.com/team/pgrepl-exporter:1.2.3", crds=True)
    assert r.returncode == 0, r.stdout + r.stderr
    _, cluster, monitoring = box.applied()
    assert "kind: ServiceMonitor" in monitoring and "kind: PrometheusRule" in monitoring
    assert "grafana_dashboard" in monitoring
    for text in (cluster, monitoring):
        assert "image: registry.example.com/team/pgrepl-exporter:1.2.3" in text
        assert "registry.example.com/pgrepl-exporter:0.1.0" not in text
    with open(os.path.join(box.stub, "globals")) as f:
        globals_ = f.read().splitlines()
    # Every cluster call carries both; kustomize runs locally without them.
    cluster_calls = [c for c in box.calls() if not c.startswith("kustomize")]
    assert globals_.count("--context prod") == len(cluster_calls), (globals_, cluster_calls)
    assert globals_.count("--namespace db") == len(cluster_calls)
    assert any(c.startswith("create namespace db") for c in box.calls())


@case
def test_router_endpoint_down_fails(box):
    box.filled_secrets()
    r = box.run(down="postgres-replica")
    assert r.returncode != 0, r.stdout
    assert "postgres-replica:5432 - no response" in r.stdout, r.stdout
    assert "checks failed (see above)" in r.stderr, r.stderr


@case
def test_replica_not_in_recovery_fails(box):
    box.filled_secrets()
    r = box.run(promoted="postgres-replica-1")
    assert r.returncode != 0, r.stdout
    assert "postgres-replica-1: pg_is_in_recovery() = f" in r.stdout, r.stdout
    assert "checks failed (see above)" in r.stderr, r.stderr


def main():
    if REAL_KUBECTL is None:
        print("kubectl not found")
        return 1
    return run_tests([test_refuses_without_secrets, test_refuses_unfilled_secrets,
                      test_order_without_crds, test_crds_image_namespace_context,
                      test_router_endpoint_down_fails,
                      test_replica_not_in_recovery_fails])


if __name__ == "__main__":
    sys.exit(main())
