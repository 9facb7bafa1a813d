"""Failover, rejoin and switchover with k8s/scripts/pgfailover.sh (issue 15).

Real components on loopback, as Kubernetes runs them:
  - PostgreSQL 15: postgres-primary-0 made by initdb with the StatefulSet's
    arguments, started through k8s/scripts/pod-role.sh (nothing writable
    answers: it starts as the primary) and set up by primary-init.sh;
    postgres-replica-0 and -1 cloned by pod-role.sh (empty data directory,
    a writable primary answers at the write endpoint) with
    k8s/config/postgresql.conf and pg_hba.conf. Each listens on its own
    loopback address (127.0.0.2, .3, .4) and the same port P, as pods do;
  - the router: Debian's HAProxy with k8s/router/haproxy.cfg, write endpoint
    127.0.0.1:P (in Kubernetes: the postgres-primary Service, DB_HOST);
  - one pgrepl_exporter --sidecar per database (the router's checks);
  - the central exporter as k8s/monitoring/exporter runs it: DB_HOST =
    postgres-primary (127.0.0.1, the router), DB_PORT = P and DB_REPLICA_HOST
    = a name whose addresses are the replica pods (a private /etc/hosts in
    a mount namespace; the reverse names are the pod names);
  - Prometheus with alerts/pgrepl.rules.yml (every `for:` made 5s, as in
    tests/integration/test_alerts_e2e.py) and Alertmanager with
    alerts/alertmanager.yml, notifying a webhook of this test;
  - a writer that increments a counter row through the write endpoint and
    remembers the last value acknowledged.

Steps: kill the primary (pg_ctl stop -m immediate) -> PgreplNoPrimary ->
pgfailover.sh failover -> pgfailover.sh rejoin postgres-primary-0 (pg_rewind)
-> k8s/failover.sh switchover --to postgres-primary-0, the kubectl layer,
with a kubectl that maps `exec` onto the loopback pods and restarts a
"container" whose PostgreSQL stopped through pod-role.sh, as the kubelet
would (write_kubectl). Checked: at each step's
end exactly one server is writable (and never two at any sampled moment,
every 0.5 s); no acknowledged increment lost in the switchover; the rejoined
old primary streams on the new timeline; every replica ends with an active
slot on the primary; the alerts notified: PgreplNoPrimary during the
outage, PgreplRoleChanged and PgreplTimelineChanged after it, and
PgreplSplitBrain never, not even pending (ALERTS polled every 0.5 s).
Also checked: failover refuses (exit 2) while the primary answers,
--dry-run changes nothing, and pod-role.sh never starts a fenced former
primary, even with nothing writable anywhere. The time of each step goes to the report
(PGREPL_FAILOVER_REPORT, printed too).

Exit 77 (skip) when this machine cannot make a mount namespace.
"""

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import pq  # noqa: E402
from harness import (SOURCE_DIR, Exporter, log, mount_namespace,  # noqa: E402
                     wait_until, with_private_hosts)
from k8s_pods import BIN, IS_ROOT, PG_OS_USER, PRIMARY_POD, REPLICA_PODS, Env  # noqa: E402
from monitoring import Alertmanager, Prometheus, Webhook, fast_rules_copy  # noqa: E402
from router import WRITE_BACKEND, Router  # noqa: E402

SKIP = 77
CLUSTER = "failover"
PODS = [PRIMARY_POD, *REPLICA_PODS]
ADDR = {PRIMARY_POD: "127.0.0.2", REPLICA_PODS[0]: "127.0.0.3",
        REPLICA_PODS[1]: "127.0.0.4"}
REPLICA_NAME = "postgres-replica-headless.test"
APP_ROLE = "failover_app"
STEP_TIMEOUT = 120
ALERT_TIMEOUT = 90
# What the outage and the promotion also raise, besides the four alerts the
# issue names: the runbook's list ("Manual failover"). Reported, not failed.
CONSEQUENCES = {"PgreplInstanceDown", "PgreplStandbyNotConnected", "PgreplSlotInactive",
                "PgreplReplicasNotStreaming", "PgreplWalReceiverDown",
                "PgreplWalReceiverFlapping", "PgreplHeartbeatStale"}
TOPOLOGY = {"PgreplNoPrimary", "PgreplSplitBrain", "PgreplRoleChanged",
            "PgreplTimelineChanged"}


class Pods(Env):
    """k8s_pods.Env with one loopback address and socket directory per pod
    and one port for all, as pods have."""

    def sockdir(self, pod):
        return self.mkdir(f"sock-{pod}", 0o700)

    def options(self, pod):
        return " ".join([
            f"-c config_file={self.conf}/postgresql.conf",
            f"-c hba_file={self.conf}/pg_hba.conf",
            f"-c port={self.ports[pod]}",
            f"-c listen_addresses={ADDR[pod]}",
            f"-c unix_socket_directories={self.sockdir(pod)}",
            "-c shared_buffers=32MB", "-c max_connections=40",
            f"-c cluster_name={pod}"])

    def start(self, pod, settings=()):
        self.as_pg([f"{BIN}/pg_ctl", "-D", self.datadir(pod), "-l",
                    os.path.join(self.dir, pod, "server.log"), "-w", "-t", "60",
                    "-o", self.options(pod), "start"])
        self.running.add(pod)

    def primary_init(self, pod):
        """k8s_pods.Env's, on this pod's own socket directory."""
        shared, self.sock = self.sock, self.sockdir(pod)
        try:
            return super().primary_init(pod)
        finally:
            self.sock = shared


class PodExporter(Exporter):
    """A sidecar listening on its pod's address, where the router's health
    checks reach it (check port on the server's address)."""

    def __init__(self, addr, **kw):
        super().__init__(**kw)
        self.addr = addr

    @property
    def url(self):
        return f"http://{self.addr}:{self.port}"

    def __enter__(self):
        cmd = [*self.command, f"--web.listen-address={self.addr}:{self.port}", *self.args]
        self.log_file = open(self.log_path, "w")
        self.proc = subprocess.Popen(cmd, env=self.env, stdout=self.log_file,
                                     stderr=subprocess.STDOUT)
        wait_until(self._listening, 10, what="exporter to listen")
        return self

    def _listening(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"exporter exited with {self.proc.returncode}")
        try:
            with socket.create_connection((self.addr, self.port), 0.2):
                return True
        except OSError:
            return False


class Failover:
    def __init__(self):
        self.env = Pods()
        self.work = tempfile.mkdtemp(prefix="pgrepl-failover-")
        self.t_start = time.monotonic()
        self.app_password = os.urandom(12).hex()
        self.steps = []        # (name, t0, t1, notes)
        self.failures = []
        self.samples = []      # (t, [writable pods], [unanswered pods])
        self.split_brain = []  # (t, ALERTS results)
        self.alert_states = {}  # (alertname, state, instance) -> first t
        self.acked = 0
        self.writes_ok = self.writes_failed = 0
        self.sidecars = {}
        self.router = self.exporter = self.prom = self.am = self.hook = None
        self._stop = threading.Event()
        self._threads = []

    # ------------------------------------------------------------ helpers

    def check(self, ok, what):
        log(f"  {'ok  ' if ok else 'FAIL'} {what}")
        if not ok:
            self.failures.append(what)
        return ok

    def step(self, name):
        outer = self

        class Step:
            def __enter__(self):
                log(f"STEP {name}")
                self.t0 = time.monotonic()
                self.notes = []
                return self

            def note(self, text):
                log(f"  note: {text}")
                self.notes.append(text)

            def __exit__(self, exc_type, exc, tb):
                outer.steps.append((name, self.t0, time.monotonic(), self.notes))
                if exc_type is not None and issubclass(exc_type, (AssertionError, pq.PqError,
                                                                  subprocess.SubprocessError)):
                    outer.check(False, f"{name}: aborted: {exc_type.__name__}: {exc}")
                return False
        return Step()

    def conninfo(self, pod, user="postgres", password=None):
        pw = password or self.env.super_password
        return (f"host={ADDR[pod]} port={self.port} user={user} dbname=postgres"
                f" password='{pw}' connect_timeout=2")

    def sql(self, pod, query):
        with pq.Connection(self.conninfo(pod)) as c:
            rows = c.query(query)
        return rows

    def value(self, pod, query):
        rows = self.sql(pod, query)
        return rows[0][0] if rows else None

    def in_recovery(self, pod):
        try:
            return self.value(pod, "SELECT pg_is_in_recovery()") == "t"
        except pq.PqError:
            return None

    def writable(self):
        return [p for p in PODS if self.in_recovery(p) is False]

    def one_writable(self, want, what):
        states = {p: self.in_recovery(p) for p in PODS}
        w = [p for p, r in states.items() if r is False]
        return self.check(w == [want], f"{what}: exactly one writable, {want}"
                                       f" (pg_is_in_recovery: {states})")

    def timeline(self, pod):
        return int(self.value(pod, "SELECT substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)"), 16)

    def old_primary_pod_role(self, role_wait, bootstrap_wait):
        """pod-role.sh at a restart of the old primary's pod, as its init
        container runs it, with short waits; the CompletedProcess."""
        env = dict(self.script_env)
        env.update({"PGDATA": self.env.datadir(PRIMARY_POD), "POD_NAME": PRIMARY_POD,
                    "ROLE_WAIT_SECONDS": str(role_wait),
                    "BOOTSTRAP_WAIT_SECONDS": str(bootstrap_wait),
                    "PGPASSFILE": os.path.join(self.env.dir, PRIMARY_POD,
                                               "replication.pgpass")})
        return self.env.as_pg([os.path.join(self.env.dir, "scripts", "pod-role.sh")],
                              env=env, check=False, timeout=60)

    def pgfailover(self, *args, timeout=STEP_TIMEOUT * 2):
        cmd = [os.path.join(self.env.dir, "scripts", "pgfailover.sh"), *args]
        for p in PODS:
            cmd += ["--node", f"{p}=host={ADDR[p]} port={self.port} user=postgres dbname=postgres",
                    "--pgdata", f"{p}={self.env.datadir(p)}"]
        cmd += ["--hooks", self.hooks, "--timeout", "60"]
        t0 = time.monotonic()
        r = self.env.as_pg(cmd, env=self.script_env, check=False, timeout=timeout)
        out = f"{r.stdout}{r.stderr}"
        log(f"pgfailover.sh {' '.join(args)}: exit {r.returncode} in {time.monotonic() - t0:.1f}s\n"
            + "\n".join("    " + line for line in out.splitlines()))
        leaked = [s for s in (self.env.super_password, self.env.repl_password,
                              self.env.mon_password, self.app_password) if s in out]
        if leaked:
            self.check(False, f"pgfailover.sh {' '.join(args)}: a password in its output")
        return r

    def write_kubectl(self):
        """A kubectl for k8s/failover.sh that maps its three uses onto the
        loopback pods: `get pods` lists them; `exec POD -c postgres -- CMD`
        runs CMD with the pod's PGDATA and its Unix socket (psql: peer
        authentication as postgres, as in the pod); and a CMD that stops the
        pod's PostgreSQL ends the "container", which the kubelet restarts:
        pod-role.sh, then the server, in the background."""
        d = self.env.mkdir("kubectl", 0o755)
        path = os.path.join(d, "kubectl")
        datadirs = " ".join(f"[{p}]={shlex.quote(self.env.datadir(p))}" for p in PODS)
        socks = " ".join(f"[{p}]={shlex.quote(self.env.sockdir(p))}" for p in PODS)
        role = shlex.quote(os.path.join(self.env.dir, "scripts", "pod-role.sh"))
        with open(path, "w") as f:
            f.write(f"""#!/usr/bin/env bash
# Written by tests/lifecycle/test_failover.py: kubectl on loopback pods.
set -uo pipefail
. {shlex.quote(self.hooks)}
declare -A DATA=({datadirs}) SOCK=({socks})
args=()
while (($#)); do
    case $1 in --namespace | --context) shift ;; *) args+=("$1") ;; esac
    shift
done
set -- "${{args[@]}}"
case $1 in
get) printf '%s\n' {" ".join(PODS)}; exit 0 ;;
exec) shift ;;
*) echo "fake kubectl: unsupported: $*" >&2; exit 1 ;;
esac
[[ $1 == -i ]] && shift
pod=$1
[[ $2 == -c && $3 == postgres && $4 == -- ]] || {{ echo "fake kubectl: $*" >&2; exit 1; }}
shift 4
export PGDATA=${{DATA[$pod]}} PGHOST=${{SOCK[$pod]}} PGPORT={self.port}
before=0
pg_ctl status -D "$PGDATA" >/dev/null 2>&1 && before=1
"$@"
rc=$?
if ((before)) && ! pg_ctl status -D "$PGDATA" >/dev/null 2>&1; then
    # The container ended: the kubelet starts it again (pod-role.sh first).
    log=$(dirname "$PGDATA")/container.log
    PGPASSFILE=$(dirname "$PGDATA")/replication.pgpass POD_NAME=$pod \
        ROLE_WAIT_SECONDS=5 BOOTSTRAP_WAIT_SECONDS=120 \
        setsid bash -c '{role} && pg_ctl start -D "$PGDATA" -w -t 60 -l "$(dirname "$PGDATA")/server.log" -o "$1"' \
        _ "${{START_OPTS[$pod]}}" >>"$log" 2>&1 </dev/null &
fi
exit $rc
""")
        os.chmod(path, 0o755)
        shutil.copy(os.path.join(SOURCE_DIR, "k8s", "failover.sh"),
                    os.path.join(self.env.dir, "failover.sh"))
        os.chmod(os.path.join(self.env.dir, "failover.sh"), 0o755)
        return d

    def failover_sh(self, *args, timeout=STEP_TIMEOUT * 2):
        """k8s/failover.sh (the kubectl layer) with the loopback kubectl."""
        env = dict(self.script_env)
        env["PATH"] = os.pathsep.join([self.kubectl_dir, BIN, os.environ["PATH"]])
        t0 = time.monotonic()
        r = self.env.as_pg([os.path.join(self.env.dir, "failover.sh"), "-n", "db", *args],
                           env=env, check=False, timeout=timeout)
        out = f"{r.stdout}{r.stderr}"
        log(f"failover.sh {' '.join(args)}: exit {r.returncode} in {time.monotonic() - t0:.1f}s\n"
            + "\n".join("    " + line for line in out.splitlines()))
        leaked = [s for s in (self.env.super_password, self.env.repl_password,
                              self.env.mon_password, self.app_password) if s in out]
        if leaked:
            self.check(False, f"failover.sh {' '.join(args)}: a password in its output")
        return r

    def pod_role(self, pod, wait=2):
        base = self.env.mkdir(pod, 0o700)
        env = dict(self.script_env)
        env.update({"PGDATA": os.path.join(base, "pgdata"), "POD_NAME": pod,
                    "ROLE_WAIT_SECONDS": str(wait), "BOOTSTRAP_WAIT_SECONDS": "60",
                    "PGPASSFILE": os.path.join(base, "replication.pgpass")})
        r = self.env.as_pg([os.path.join(self.env.dir, "scripts", "pod-role.sh")],
                           env=env, check=False, timeout=STEP_TIMEOUT)
        log(f"pod-role.sh {pod}: exit {r.returncode}\n" +
            "\n".join("    " + line for line in (r.stdout + r.stderr).splitlines()[-8:]))
        if r.returncode != 0:
            raise AssertionError(f"pod-role.sh {pod} failed: {r.stderr[-500:]}")
        return r.stderr

    def streams(self, pod, primary, tli):
        try:
            row = self.sql(pod, "SELECT status, received_tli FROM pg_stat_wal_receiver")
            slot = pod.replace("-", "_")
            active = self.value(primary, "SELECT active FROM pg_replication_slots"
                                         f" WHERE slot_name = '{slot}'")
        except pq.PqError:
            return False
        return row == [["streaming", str(tli)]] and active == "t"

    def alerts_notified(self, since, until=None):
        """{alertname: first time notified firing} from the webhook."""
        out = {}
        for t, _, status, labels in self.hook.alerts_since(since):
            if until is not None and t > until:
                continue
            if status == "firing":
                out.setdefault(labels.get("alertname"), t)
        return out

    # ------------------------------------------------------------ setup

    def setup(self):
        env = self.env
        # The exporters' ports first: the router checks the sidecars.
        self.router = Router(self.work)
        self.port = self.router.write_port
        for p in PODS:
            env.ports[p] = self.port
        for p in PODS:
            self.sidecars[p] = PodExporter(
                ADDR[p], args=["--sidecar", f"--cluster={CLUSTER}",
                      f"--{'primary' if p == PRIMARY_POD else 'replica'}="
                      f"host={ADDR[p]} port={self.port} user=pgrepl_monitor dbname=postgres",
                      f"--sidecar.primary=host=127.0.0.1 port={self.port}"
                      " user=pgrepl_monitor dbname=postgres",
                      "--poll.interval=1s", "--health.replica-max-lag=1s"],
                password=env.mon_password)
        self.router.configure([(f"{ADDR[p]}:{self.port}", self.sidecars[p].port) for p in PODS])
        self.router.__enter__()

        # Passwords for the scripts: the environment and password files only.
        secrets_dir = env.mkdir("operator", 0o700)
        passfile = os.path.join(secrets_dir, "pgpass")
        with open(passfile, "w") as f:
            f.write(f"*:*:*:postgres:{env.super_password}\n")
        os.chmod(passfile, 0o600)
        if IS_ROOT:
            shutil.chown(passfile, PG_OS_USER)
        self.script_env = {
            "PGPASSFILE": passfile, "POSTGRES_PASSWORD": env.super_password,
            "POSTGRES_REPLICATION_USER": "replicator",
            "POSTGRES_REPLICATION_PASSWORD": env.repl_password,
            "PRIMARY_HOST": "127.0.0.1", "PRIMARY_PORT": str(self.port)}
        # hook_start: the loopback pods' server options.
        self.hooks = os.path.join(secrets_dir, "hooks.sh")
        with open(self.hooks, "w") as f:
            f.write("declare -A START_OPTS=(\n")
            for p in PODS:
                f.write(f"  [{p}]={shlex.quote(env.options(p))}\n")
            f.write(")\n")
            f.write('hook_start() {\n  pg_ctl start -D "${PGDATA_OF[$1]}" -w -t 60 '
                    '-l "$(dirname "${PGDATA_OF[$1]}")/server.log" -o "${START_OPTS[$1]}" >&2\n}\n')
        if IS_ROOT:
            shutil.chown(self.hooks, PG_OS_USER)
        self.kubectl_dir = self.write_kubectl()

        env.initdb(PRIMARY_POD)
        out = self.pod_role(PRIMARY_POD)
        self.check("starting it as the primary" in out,
                   "pod-role.sh: a former primary, nothing writable answers -> primary")
        env.start(PRIMARY_POD)
        env.primary_init(PRIMARY_POD)
        self.sql(PRIMARY_POD, f"""
            CREATE ROLE {APP_ROLE} LOGIN PASSWORD '{self.app_password}';
            CREATE TABLE failover_counter (id int PRIMARY KEY, n bigint NOT NULL);
            INSERT INTO failover_counter VALUES (1, 0);
            GRANT SELECT, UPDATE ON failover_counter TO {APP_ROLE};""")
        for p in PODS:
            self.sidecars[p].__enter__()
        try:
            self.router.wait_status(WRITE_BACKEND, {"db0": "UP"}, 30)
        except AssertionError:
            st = self.router.stats()
            log(f"router: {[(k, v['status'], v['check_status'], v.get('check_desc')) for k, v in st.items()]}")
            log(f"sidecar /primary: {self.sidecars[PRIMARY_POD].get('/primary')}")
            raise
        for p in REPLICA_PODS:
            out = self.pod_role(p)
            self.check("clone complete" in out, f"pod-role.sh {p}: empty -> cloned")
            env.start(p)
        wait_until(lambda: all(self.streams(p, PRIMARY_POD, 1) for p in REPLICA_PODS), 60,
                   what="both replicas streaming")

        # The central exporter, as k8s/monitoring/exporter runs it.
        hosts = os.path.join(self.work, "hosts")
        with open(hosts, "w") as f:
            f.write("127.0.0.1 localhost postgres-primary\n")
            for p in REPLICA_PODS:
                f.write(f"{ADDR[p]} {p}.{REPLICA_NAME} {REPLICA_NAME}\n")
            f.write(f"{ADDR[PRIMARY_POD]} {PRIMARY_POD}.postgres-primary-headless.test\n")
        self.exporter = Exporter(
            args=["--heartbeat", "--heartbeat.id=pgrepl-exporter", "--poll.interval=1s",
                  "--poll.timeout=2s"],
            password=env.mon_password,
            env={"DB_HOST": "postgres-primary", "DB_PORT": str(self.port),
                 "DB_REPLICA_HOST": REPLICA_NAME, "PGREPL_CLUSTER": CLUSTER,
                 "PGREPL_USER": "pgrepl_monitor", "PGREPL_DATABASE": "postgres"})
        self.exporter.command = with_private_hosts(self.unshare, hosts, self.work)
        self.exporter.__enter__()

        rules_path = fast_rules_copy(self.work)
        self.hook = Webhook().__enter__()
        with open(os.path.join(SOURCE_DIR, "alerts", "alertmanager.yml")) as f:
            am = f.read()
        am = am.replace("http://127.0.0.1:9095/", f"http://127.0.0.1:{self.hook.port}/")
        am = re.sub(r"group_wait: \d+[smh]", "group_wait: 1s", am)
        am = re.sub(r"group_interval: \d+[smh]", "group_interval: 1s", am)
        self.am = Alertmanager(am).__enter__()
        self.prom = Prometheus(self.exporter.port, [rules_path], self.am.port).__enter__()

        self.app = (f"host=127.0.0.1 port={self.port} user={APP_ROLE} dbname=postgres"
                    f" password='{self.app_password}' connect_timeout=2"
                    " options='-c statement_timeout=5s'")
        for target in (self._writer, self._watch):
            t = threading.Thread(target=target, daemon=True)
            t.start()
            self._threads.append(t)

    def close(self):
        self._stop.set()
        for t in self._threads:
            t.join(10)
        for thing in (self.prom, self.am, self.hook, self.exporter, *self.sidecars.values()):
            if thing is not None and getattr(thing, "proc", True) is not None:
                try:
                    thing.__exit__(None, None, None)
                except AssertionError as e:
                    self.failures.append(f"shutdown: {e}")
        if self.router and self.router.proc:
            self.router.__exit__(None, None, None)
        self.env.close()
        shutil.rmtree(self.work, ignore_errors=True)

    # ------------------------------------------------------------ background

    def _writer(self):
        conn = None
        while not self._stop.is_set():
            try:
                if conn is None:
                    conn = pq.Connection(self.app)
                n = int(conn.query("UPDATE failover_counter SET n = n + 1 WHERE id = 1"
                                   " RETURNING n")[0][0])
                self.acked = max(self.acked, n)
                self.writes_ok += 1
            except pq.PqError:
                self.writes_failed += 1
                if conn is not None:
                    conn.close()
                    conn = None
                time.sleep(0.1)
            time.sleep(0.02)
        if conn is not None:
            conn.close()

    def _watch(self):
        while not self._stop.is_set():
            t = time.monotonic()
            states = {p: self.in_recovery(p) for p in PODS}
            self.samples.append((t, [p for p, r in states.items() if r is False],
                                 [p for p, r in states.items() if r is None]))
            try:
                _, res, _ = self.prom.query('ALERTS{alertname="PgreplSplitBrain"}')
                if res:
                    self.split_brain.append((t, res))
                _, res, _ = self.prom.query("ALERTS")
                for r in res:
                    m = r["metric"]
                    self.alert_states.setdefault(
                        (m.get("alertname"), m.get("alertstate"), m.get("instance", "")), t)
            except (OSError, ValueError):
                pass
            self._stop.wait(max(0.0, t + 0.5 - time.monotonic()))

    # ------------------------------------------------------------ steps

    def run(self):
        with self.step("steady state") as s:
            wait_until(lambda: self.acked > 20, 30, what="the writer's first commits")
            wait_until(lambda: self.prom.query("pgrepl_cluster_primaries")[1], 60,
                       what="Prometheus to have the exporter's series")
            self.one_writable(PRIMARY_POD, "steady state")
            r = self.pgfailover("failover")
            self.check(r.returncode == 2 and "still answers as a writable primary" in r.stderr,
                       "failover refused (exit 2) while the primary answers and is not fenced")
            r = self.pgfailover("--dry-run", "failover", "--fence")
            self.check(r.returncode == 0 and "[dry-run] step" in r.stdout,
                       "failover --fence --dry-run prints its steps")
            self.one_writable(PRIMARY_POD, "after the dry run (nothing changed)")
            s.note(f"counter at {self.acked}")

        with self.step("primary killed (outage)") as s:
            self.t_kill = time.monotonic()
            self.env.stop(PRIMARY_POD, "immediate")
            wait_until(lambda: "PgreplNoPrimary" in self.alerts_notified(self.t_kill),
                       ALERT_TIMEOUT, interval=0.5, what="PgreplNoPrimary notified")
            s.note(f"PgreplNoPrimary notified {self.alerts_notified(self.t_kill)['PgreplNoPrimary'] - self.t_kill:.1f} s"
                   " after the kill")
            self.check(self.writable() == [], "no writable server during the outage")
            r = self.pgfailover("--dry-run", "failover")
            self.check(r.returncode == 0 and self.writable() == [],
                       "failover --dry-run changes nothing")
            # The start-up role rule: a fenced former primary never starts
            # as a primary, even with nothing writable anywhere.
            fence = self.env.datadir(PRIMARY_POD) + ".fenced"
            open(fence, "w").close()
            r = self.old_primary_pod_role(role_wait=1, bootstrap_wait=2)
            self.check(r.returncode != 0 and "never starts as a primary" in r.stderr
                       and os.path.exists(fence),
                       f"pod-role.sh refuses to start a fenced former primary"
                       f" (exit {r.returncode}: {r.stderr.strip().splitlines()[-1:]})")
            os.unlink(fence)

        with self.step("failover") as s:
            before = {p: self.value(p, "SELECT pg_last_wal_receive_lsn()") for p in REPLICA_PODS}
            self.t_promote = time.monotonic()
            r = self.pgfailover("failover")
            self.check(r.returncode == 0, f"pgfailover.sh failover: exit {r.returncode}")
            new = [p for p in REPLICA_PODS if self.in_recovery(p) is False]
            self.check(len(new) == 1, f"one replica promoted: {new}")
            self.new = new[0] if new else REPLICA_PODS[0]
            lsns = {p: int(v.split("/")[0], 16) << 32 | int(v.split("/")[1], 16)
                    for p, v in before.items()}
            self.check(lsns[self.new] == max(lsns.values()),
                       f"the most advanced replica was promoted ({before}, {self.new})")
            self.check("bytes behind" in r.stderr or "most advanced" in r.stderr,
                       "the LSNs and the bytes the other would lose are printed")
            self.one_writable(self.new, "after the failover")
            self.tli = self.timeline(self.new)
            other = next(p for p in REPLICA_PODS if p != self.new)
            self.check(self.streams(other, self.new, self.tli),
                       f"{other} streams from {self.new} on timeline {self.tli}, slot active")
            acked = self.acked
            wait_until(lambda: self.acked > acked, 60, what="writes through the router again")
            s.note(f"timeline {self.tli}; writes through the router resume"
                   f" {time.monotonic() - self.t_promote:.1f} s after pgfailover.sh started")
            wait_until(lambda: {"PgreplRoleChanged", "PgreplTimelineChanged"}
                       <= set(self.alerts_notified(self.t_promote)), ALERT_TIMEOUT,
                       interval=0.5, what="PgreplRoleChanged and PgreplTimelineChanged notified")

        with self.step("rejoin the old primary") as s:
            # Fenced, with the new primary answering: pod-role.sh keeps the
            # data (the commits only it may have) until a rejoin asks.
            datadir = self.env.datadir(PRIMARY_POD)
            fence = datadir + ".fenced"
            open(fence, "w").close()
            control = os.path.join(datadir, "global", "pg_control")
            before = open(control, "rb").read()
            r = self.old_primary_pod_role(role_wait=5, bootstrap_wait=3)
            self.check(r.returncode != 0 and "no rejoin was asked for" in r.stderr
                       and open(control, "rb").read() == before
                       and not os.path.exists(os.path.join(datadir, "standby.signal")),
                       "pod-role.sh keeps a fenced former primary unchanged without a rejoin"
                       f" (exit {r.returncode}: {r.stderr.strip().splitlines()[-1:]})")
            r = self.pgfailover("rejoin", PRIMARY_POD)
            self.check(r.returncode == 0, f"pgfailover.sh rejoin: exit {r.returncode}")
            self.check("pg_rewind done" in r.stderr, "the old primary was rewound (pg_rewind)")
            s.note("pg_rewind" if "pg_rewind done" in r.stderr else "re-cloned")
            self.one_writable(self.new, "after the rejoin")
            self.check(self.streams(PRIMARY_POD, self.new, self.tli),
                       f"the old primary streams from {self.new} on the new timeline {self.tli}")

        with self.step("switchover back to postgres-primary-0") as s:
            wait_until(lambda: self.value(self.new, "SELECT count(*) FROM pg_stat_replication"
                                                    " WHERE state = 'streaming'") == "2", 60,
                       what="both replicas streaming before the switchover")
            acked_before = self.acked
            r = self.failover_sh("switchover", "--dry-run", "--to", PRIMARY_POD)
            self.check(r.returncode == 0 and "[dry-run] step" in r.stdout
                       and self.writable() == [self.new],
                       "failover.sh switchover --dry-run: steps printed, nothing changed")
            r = self.failover_sh("switchover", "--to", PRIMARY_POD)
            self.check(r.returncode == 0, f"failover.sh switchover (kubectl layer): exit {r.returncode}")
            self.one_writable(PRIMARY_POD, "after the switchover")
            acked = self.acked
            n = int(self.value(PRIMARY_POD, "SELECT n FROM failover_counter WHERE id = 1"))
            self.check(acked > acked_before and n >= acked,
                       f"no acknowledged increment lost: counter {n} on the new primary,"
                       f" last acknowledged {acked} (before the switchover {acked_before})")
            s.note(f"counter {n}, last acknowledged {acked}")
            tli = self.timeline(PRIMARY_POD)
            self.check(tli == self.tli + 1, f"timeline {tli} after the switchover")
            for p in REPLICA_PODS:
                self.check(self.streams(p, PRIMARY_POD, tli),
                           f"{p} streams from {PRIMARY_POD} on timeline {tli}, slot active")
            wait_until(lambda: self.acked > acked + 10, 30, what="writes after the switchover")

        with self.step("settle") as s:
            time.sleep(10)  # a SplitBrain pending now would still be seen
            self.one_writable(PRIMARY_POD, "at the end")

    # ------------------------------------------------------------ verdict

    def verdict(self):
        two = [(t, w) for t, w, _ in self.samples if len(w) > 1]
        self.check(not two, f"never two writable servers in {len(self.samples)} samples"
                            f" ({two[:3]})")
        self.check(not self.split_brain, "PgreplSplitBrain never in ALERTS, pending or firing"
                                         f" ({self.split_brain[:2]})")
        seen = self.alerts_notified(0)
        topo = {a for a in seen if a in TOPOLOGY}
        self.check(topo == {"PgreplNoPrimary", "PgreplRoleChanged", "PgreplTimelineChanged"},
                   f"topology alerts notified: exactly NoPrimary, RoleChanged, TimelineChanged"
                   f" ({sorted(topo)})")
        t_nop = seen.get("PgreplNoPrimary")
        self.check(t_nop is not None and self.t_kill <= t_nop <= self.t_promote,
                   "PgreplNoPrimary notified during the outage")
        for a in ("PgreplRoleChanged", "PgreplTimelineChanged"):
            self.check(seen.get(a, 0) >= self.t_promote, f"{a} notified after the promotion")
        other = sorted(set(seen) - TOPOLOGY - CONSEQUENCES)
        self.check(not other, f"no other alerts notified ({other})")
        return seen

    def report(self, seen):
        lines = ["| step | start (s) | duration (s) | notes |", "|---|---|---|---|"]
        for name, t0, t1, notes in self.steps:
            lines.append(f"| {name} | {t0 - self.t_start:.1f} | {t1 - t0:.1f} | {'; '.join(notes)} |")
        lines.append("")
        lines.append("Alerts notified (first firing, seconds from the start): " + ", ".join(
            f"{a} {t - self.t_start:.1f}" for a, t in sorted(seen.items(), key=lambda x: x[1])))
        lines.append("")
        lines.append("Alert states seen in Prometheus (first time): " + ", ".join(
            f"{a}/{s}{'{' + i + '}' if i else ''} {t - self.t_start:.1f}"
            for (a, s, i), t in sorted(self.alert_states.items(), key=lambda x: x[1])))
        lines.append("")
        lines.append(f"Writer: {self.writes_ok} commits acknowledged, {self.writes_failed}"
                     f" failed attempts; last acknowledged value {self.acked}.")
        return "\n".join(lines)


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    f = Failover()
    f.unshare = mount_namespace()
    if f.unshare is None:
        print("SKIP: no mount namespace for the exporter's /etc/hosts")
        return SKIP
    seen = {}
    try:
        try:
            f.setup()
            f.run()
        except (AssertionError, pq.PqError, subprocess.SubprocessError) as e:
            f.check(False, f"aborted: {type(e).__name__}: {e}")
        if f.hook is not None:
            seen = f.verdict() if hasattr(f, "t_promote") else f.alerts_notified(0)
    finally:
        f.close()
    total = time.monotonic() - f.t_start
    text = (f"Failover test, {time.strftime('%Y-%m-%d %H:%M:%S')}: {total:.0f} s;"
            f" {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}\n\n" + f.report(seen))
    print("\n" + text + "\n", flush=True)
    out = os.environ.get("PGREPL_FAILOVER_REPORT")
    if out:
        os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
        with open(out, "w") as fh:
            fh.write(text + "\n")
    for failure in f.failures:
        print(f"FAILED {failure}")
    print(f"{len(f.failures)} failed assertions; total {total:.0f} s", flush=True)
    return 1 if f.failures else 0


if __name__ == "__main__":
    sys.exit(main())
