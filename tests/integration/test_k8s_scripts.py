"""The Kubernetes bootstrap, run for real on loopback.

k8s/scripts/primary-init.sh and k8s/scripts/replica-bootstrap.sh, with
k8s/config/postgresql.conf and pg_hba.conf, drive local PostgreSQL 15
instances the way the pods do (docker-entrypoint-initdb.d on the primary,
the init container on each replica). Only what a pod gives through its
environment or its mounts changes: host, ports, paths, and a smaller
shared_buffers. Then:

  - both replicas stream through slots named after their pods, with the
    pod name as application_name; an interrupted clone is redone; a
    restarted replica keeps its data (no second clone); a data directory
    that is no longer a standby is refused;
  - no password shows in a log, in the standbys' configuration, or in a
    file readable by others;
  - the monitoring role reads everything pgrepl_exporter needs (the real
    exporter, --heartbeat included, reports pgrepl_up and every
    pgrepl_collector_success as 1) and nothing more;
  - the replication role can stream but cannot open a database session;
  - no TCP login without a password;
  - the platform's documented checks run as written (README.md, "the
    seed's verification commands"): as postgres_user on app_db over the
    pod's Unix socket, pg_stat_replication on the primary shows one
    streaming row per replica with every column readable, and
    pg_is_in_recovery() is f on the primary and t on each replica.
"""

import os
import re
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (SOURCE_DIR, Exporter, log, run_tests,  # noqa: E402
                     wait_until)
from k8s_pods import (BIN, IS_ROOT, PG_OS_USER, PRIMARY_POD,  # noqa: E402
                      REPLICA_PODS, Env)

env = None


def streaming():
    return env.sql(PRIMARY_POD,
                   "SELECT application_name || ':' || slot_name FROM pg_stat_replication r"
                   " JOIN pg_replication_slots s ON s.active_pid = r.pid"
                   " WHERE state = 'streaming' ORDER BY 1").split()


def test_primary_init():
    pod = PRIMARY_POD
    env.initdb(pod)
    env.start(pod)
    first = env.primary_init(pod)
    # Idempotent: a second run (password rotation) changes nothing else.
    second = env.primary_init(pod)
    assert first.stdout == second.stdout, (first.stdout, second.stdout)
    assert second.stderr == "", second.stderr
    roles = env.sql(pod, "SELECT rolname, rolcanlogin, rolreplication, rolsuper,"
                         " rolpassword LIKE 'SCRAM-SHA-256$%' FROM pg_authid"
                         " WHERE rolname IN ('replicator', 'pgrepl_monitor',"
                         " 'streaming_replication') ORDER BY 1").split()
    assert roles == ["pgrepl_monitor|t|f|f|t", "replicator|t|t|f|t",
                     "streaming_replication|f|f|f|"], roles
    members = env.sql(pod, "SELECT r.rolname || '>' || m.rolname FROM pg_auth_members a"
                           " JOIN pg_roles r ON r.oid = a.roleid"
                           " JOIN pg_roles m ON m.oid = a.member"
                           " WHERE m.rolname IN ('replicator', 'pgrepl_monitor')"
                           " ORDER BY 1").split()
    assert members == ["pg_monitor>pgrepl_monitor",
                       "streaming_replication>replicator"], members
    # The heartbeat table as docs/heartbeat.sql defines it.
    cols = env.sql(pod, "SELECT string_agg(column_name || ' ' || data_type || ' ' ||"
                        " is_nullable, ', ' ORDER BY ordinal_position)"
                        " FROM information_schema.columns"
                        " WHERE table_name = 'pgrepl_heartbeat'")
    assert cols == ("exporter text NO, seq bigint NO, "
                    "written_at timestamp with time zone NO"), cols
    with open(os.path.join(SOURCE_DIR, "docs", "heartbeat.sql")) as f:
        doc = f.read()
    for column in ("exporter   text PRIMARY KEY", "seq        bigint NOT NULL",
                   "written_at timestamptz NOT NULL"):
        assert column in doc, f"docs/heartbeat.sql changed: {column}"
    grants = env.sql(pod, "SELECT string_agg(privilege_type, ',' ORDER BY privilege_type)"
                          " FROM information_schema.role_table_grants"
                          " WHERE table_name = 'pgrepl_heartbeat'"
                          " AND grantee = 'pgrepl_monitor'")
    assert grants == "INSERT,SELECT,UPDATE", grants


def test_clone_replicas():
    # An interrupted earlier clone of replica 1 left a scratch directory.
    base = env.mkdir(REPLICA_PODS[1], 0o700)
    partial = os.path.join(base, "pgdata.partial")
    os.makedirs(partial)
    with open(os.path.join(partial, "PG_VERSION"), "w") as f:
        f.write("15\n")
    if IS_ROOT:
        shutil.chown(partial, PG_OS_USER)
    for pod in REPLICA_PODS:
        t0 = time.monotonic()
        r = env.bootstrap_replica(pod)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "clone complete" in r.stderr, r.stderr
        log(f"{pod} cloned in {time.monotonic() - t0:.1f}s")
        auto = open(os.path.join(env.datadir(pod), "postgresql.auto.conf")).read()
        slot = pod.replace("-", "_")
        assert f"primary_slot_name = '{slot}'" in auto, auto
        assert f"application_name=''{pod}''" in auto, auto
        assert "passfile=" in auto and "password=" not in auto, auto
        assert os.path.exists(os.path.join(env.datadir(pod), "standby.signal"))
        env.start(pod)
    assert not os.path.exists(partial), "stale pgdata.partial not removed"
    want = [f"{pod}:{pod.replace('-', '_')}" for pod in REPLICA_PODS]
    wait_until(lambda: streaming() == want, 30, what=f"streaming {want}")
    for pod in REPLICA_PODS:
        assert env.sql(pod, "SELECT pg_is_in_recovery()") == "t"
    # Replication carries data.
    env.sql(PRIMARY_POD, "CREATE TABLE app_data (id int PRIMARY KEY, secret text);"
                         " INSERT INTO app_data VALUES (1, 'card 4111')")
    for pod in REPLICA_PODS:
        wait_until(lambda: env.sql(pod, "SELECT count(*) FROM pg_class"
                                        " WHERE relname = 'app_data'") == "1",
                   20, what=f"app_data on {pod}")


def test_restart_keeps_data():
    pod = REPLICA_PODS[0]
    pg_version = os.path.join(env.datadir(pod), "PG_VERSION")
    before = os.stat(pg_version).st_ino
    sysid = env.sql(pod, "SELECT system_identifier FROM pg_control_system()")
    env.stop(pod)
    r = env.bootstrap_replica(pod)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "not cloning" in r.stderr and "clone complete" not in r.stderr, r.stderr
    assert os.stat(pg_version).st_ino == before, "data directory was replaced"
    env.start(pod)
    assert env.sql(pod, "SELECT system_identifier FROM pg_control_system()") == sysid
    want = [f"{p}:{p.replace('-', '_')}" for p in REPLICA_PODS]
    wait_until(lambda: streaming() == want, 30, what="streaming after restart")


def test_refuses_promoted_data():
    pod = REPLICA_PODS[1]
    env.stop(pod)
    signal = os.path.join(env.datadir(pod), "standby.signal")
    os.rename(signal, signal + ".away")
    try:
        r = env.bootstrap_replica(pod)
        assert r.returncode != 0, r.stderr
        assert "without standby.signal" in r.stderr, r.stderr
    finally:
        os.rename(signal + ".away", signal)
    env.start(pod)
    want = [f"{p}:{p.replace('-', '_')}" for p in REPLICA_PODS]
    wait_until(lambda: streaming() == want, 30, what="streaming again")


def test_no_password_leaks():
    leaks = []
    for root, _, files in os.walk(env.dir):
        for name in files:
            path = os.path.join(root, name)
            if root.startswith(env.sock) or os.path.islink(path):
                continue
            try:
                with open(path, "rb") as f:
                    data = f.read()
            except OSError:
                continue
            for label, pw in (("replication", env.repl_password),
                              ("monitoring", env.mon_password),
                              ("superuser", env.super_password)):
                for form in {pw, pw.replace("\\", "\\\\").replace(":", "\\:")}:
                    if form.encode() in data and not name.endswith(".pgpass"):
                        leaks.append(f"{label} password in {path}")
            if name.endswith(".pgpass"):
                mode = os.stat(path).st_mode & 0o777
                if mode & 0o077:
                    leaks.append(f"{path} has mode {oct(mode)}")
    assert not leaks, leaks
    for pod in REPLICA_PODS:
        conninfo = env.sql(pod, "SHOW primary_conninfo")
        assert "password" not in conninfo, conninfo


def test_monitoring_role_reads_what_the_exporter_needs():
    def conninfo(pod):
        return (f"host=127.0.0.1 port={env.ports[pod]} user=pgrepl_monitor"
                f" dbname=postgres")
    config = {"clusters": [{
        "name": "k8s",
        "primary": {"name": PRIMARY_POD, "conninfo": conninfo(PRIMARY_POD)},
        "replicas": [{"name": p, "conninfo": conninfo(p)} for p in REPLICA_PODS],
    }]}
    with Exporter(config, ["--poll.interval=500ms", "--heartbeat",
                           "--heartbeat.id=pgrepl-exporter"],
                  password=env.mon_password) as e:
        names = [PRIMARY_POD, *REPLICA_PODS]

        def all_good():
            m = e.scrape()
            ups = [m.get("pgrepl_up", cluster="k8s", instance=n) for n in names]
            collectors = m.all("pgrepl_collector_success", cluster="k8s")
            heartbeat = [m.get("pgrepl_heartbeat_lag_seconds", cluster="k8s",
                               instance=n) for n in REPLICA_PODS]
            if ups == [1.0] * 3 and collectors and \
                    all(v == 1.0 for v in collectors.values()) and \
                    None not in heartbeat:
                return m
            return None
        m = wait_until(all_good, 20, what="pgrepl_up and every collector at 1")
        collectors = m.all("pgrepl_collector_success", cluster="k8s")
        seen = {dict(k)["collector"] for k in collectors}
        assert {"pg_is_in_recovery", "pg_stat_replication", "pg_replication_slots",
                "pg_stat_wal_receiver", "heartbeat"} <= seen, seen
        connected = m.all("pgrepl_standby_connected", cluster="k8s",
                          instance=PRIMARY_POD)
        assert sorted(dict(k)["standby"] for k, v in connected.items() if v == 1) == \
            REPLICA_PODS, connected
        log(f"exporter: {len(collectors)} collector results, all 1")


def test_monitoring_role_reads_nothing_more():
    def denied(query, pod=PRIMARY_POD):
        r = env.tcp_psql(pod, "pgrepl_monitor", env.mon_password, query)
        assert r.returncode != 0, f"monitoring role could run: {query}"
        assert "permission denied" in r.stderr, r.stderr
    denied("SELECT * FROM app_data")
    denied("INSERT INTO app_data VALUES (2, 'x')")
    denied("CREATE TABLE public.mine (x int)")
    denied("DELETE FROM pgrepl_heartbeat")
    denied("SELECT pg_read_file('postgresql.conf')")
    denied("SELECT * FROM app_data", pod=REPLICA_PODS[0])
    ok = env.tcp_psql(PRIMARY_POD, "pgrepl_monitor", env.mon_password,
                      "SELECT count(*) FROM pg_stat_replication WHERE client_addr IS NOT NULL")
    assert ok.returncode == 0 and ok.stdout.strip() == "2", ok.stdout + ok.stderr
    repl = env.tcp_psql(PRIMARY_POD, "pgrepl_monitor", env.mon_password,
                        "IDENTIFY_SYSTEM", replication=True)
    assert repl.returncode != 0 and "pg_hba.conf" in repl.stderr, repl.stderr


def test_replication_role_streams_only():
    for db in ("postgres", "template1", "replicator"):
        r = env.tcp_psql(PRIMARY_POD, "replicator", env.repl_password, "SELECT 1",
                         dbname=db)
        assert r.returncode != 0, f"replicator opened database {db}"
        assert "pg_hba.conf rejects connection" in r.stderr, r.stderr
    r = env.tcp_psql(PRIMARY_POD, "replicator", env.repl_password,
                     "IDENTIFY_SYSTEM", replication=True)
    assert r.returncode == 0 and re.match(r"^\d+\|1\|", r.stdout), r.stdout + r.stderr


def test_no_tcp_login_without_password():
    for user in ("postgres", "pgrepl_monitor", "replicator"):
        r = env.tcp_psql(PRIMARY_POD, user, "wrong-password", "SELECT 1")
        assert r.returncode != 0, f"{user} logged in with a wrong password"
        assert ("password authentication failed" in r.stderr or
                "pg_hba.conf rejects" in r.stderr), r.stderr
    good = env.tcp_psql(PRIMARY_POD, "postgres", env.super_password, "SELECT 1")
    assert good.returncode == 0, good.stderr


# The documented check commands: kubectl exec -it POD -- psql -U USER -d DB -c "SQL"
SEED_COMMAND = re.compile(
    r'kubectl exec -it (postgres-[a-z]+-\d) -- psql -U (\w+) -d (\w+) -c "([^"]+)"')


def seed_commands():
    with open(os.path.join(SOURCE_DIR, "README.md")) as f:
        found = SEED_COMMAND.findall(f.read())
    return sorted(set(found))


def socket_psql(pod, user, password, query, dbname):
    """psql over the instance's Unix socket as the pod's OS user (what
    kubectl exec runs in the container), with a password; the
    CompletedProcess. Unaligned, with a header row."""
    env_ = {"PGPASSWORD": password} if password is not None else {}
    return env.as_pg([f"{BIN}/psql", "-X", "-A", "-w",
                      "-h", env.sock, "-p", str(env.ports[pod]), "-U", user,
                      "-d", dbname, "-v", "ON_ERROR_STOP=1", "-c", query],
                     env=env_, check=False, timeout=30)


def rows(out):
    """psql -A output with a header: a list of dicts (footer dropped)."""
    lines = [ln for ln in out.strip().split("\n") if ln]
    header = lines[0].split("|")
    return [dict(zip(header, ln.split("|"))) for ln in lines[1:]
            if not re.match(r"^\(\d+ rows?\)$", ln)]


def test_seed_verification_commands():
    cmds = seed_commands()
    # Both documented checks: the primary's pg_stat_replication, and
    # pg_is_in_recovery() on a replica.
    sqls = {sql for _, _, _, sql in cmds}
    assert "SELECT * FROM pg_stat_replication;" in sqls, cmds
    assert "SELECT pg_is_in_recovery();" in sqls, cmds
    for pod, user, db, sql in cmds:
        assert (user, db) == ("postgres_user", "app_db"), (pod, user, db)
        r = socket_psql(pod, user, env.super_password, sql, db)
        assert r.returncode == 0, f"{pod}: {sql}: {r.stderr}"
        got = rows(r.stdout)
        if "pg_stat_replication" in sql:
            assert pod == PRIMARY_POD, pod
            by_name = {row["application_name"]: row for row in got}
            assert sorted(by_name) == REPLICA_PODS, got
            for name, row in by_name.items():
                # Readable through pg_read_all_stats: without it these are
                # NULL (empty here) for a role that is not a superuser.
                assert row["state"] == "streaming", row
                assert row["client_addr"] == "127.0.0.1", row
                assert row["usename"] == "replicator", row
                for col in ("sent_lsn", "write_lsn", "flush_lsn", "replay_lsn"):
                    assert re.match(r"^[0-9A-F]+/[0-9A-F]+$", row[col]), (col, row)
                assert row["sync_state"] == "async", row
            log(f"{pod} as postgres_user: {len(got)} streaming rows, every column set")
        else:
            want = "f" if pod == PRIMARY_POD else "t"
            assert got == [{"pg_is_in_recovery": want}], (pod, got)
    # The same statements on every pod, not only the documented ones.
    for pod in [PRIMARY_POD, *REPLICA_PODS]:
        r = socket_psql(pod, "postgres_user", env.super_password,
                        "SELECT pg_is_in_recovery();", "app_db")
        want = "f" if pod == PRIMARY_POD else "t"
        assert r.returncode == 0 and rows(r.stdout) == [{"pg_is_in_recovery": want}], \
            (pod, r.stdout, r.stderr)


def test_application_role():
    role = env.sql(PRIMARY_POD, "SELECT rolcanlogin, rolsuper, rolreplication, rolcreaterole,"
                                " rolpassword LIKE 'SCRAM-SHA-256$%' FROM pg_authid"
                                " WHERE rolname = 'postgres_user'")
    assert role == "t|f|f|f|t", role
    grants = env.sql(PRIMARY_POD, "SELECT string_agg(r.rolname, ',' ORDER BY r.rolname)"
                                  " FROM pg_auth_members a JOIN pg_roles r ON r.oid = a.roleid"
                                  " JOIN pg_roles m ON m.oid = a.member"
                                  " WHERE m.rolname = 'postgres_user'")
    assert grants == "pg_read_all_stats", grants
    # Why the grant: without it the documented check shows the rows with
    # NULL state and positions.
    env.sql(PRIMARY_POD, "REVOKE pg_read_all_stats FROM postgres_user")
    try:
        r = socket_psql(PRIMARY_POD, "postgres_user", env.super_password,
                        "SELECT * FROM pg_stat_replication;", "app_db")
        got = rows(r.stdout)
        assert r.returncode == 0 and len(got) == 2, (r.stdout, r.stderr)
        assert all(row["state"] == "" and row["replay_lsn"] == "" for row in got), got
    finally:
        env.sql(PRIMARY_POD, "GRANT pg_read_all_stats TO postgres_user")
    owner = env.sql(PRIMARY_POD, "SELECT pg_get_userbyid(datdba) FROM pg_database"
                                 " WHERE datname = 'app_db'")
    assert owner == "postgres_user", owner
    # The socket wants its password; only app_db; a wrong one fails.
    bad = socket_psql(PRIMARY_POD, "postgres_user", "wrong-password", "SELECT 1", "app_db")
    assert bad.returncode != 0 and "password authentication failed" in bad.stderr, bad.stderr
    other = socket_psql(PRIMARY_POD, "postgres_user", env.super_password, "SELECT 1",
                        "postgres")
    assert other.returncode != 0 and "no pg_hba.conf entry" in other.stderr, other.stderr
    # The applications' path: TCP with the password. Writes on the primary
    # reach the replicas, read there by the same role.
    w = env.tcp_psql(PRIMARY_POD, "postgres_user", env.super_password,
                     "CREATE TABLE orders (id int PRIMARY KEY, total numeric);"
                     " INSERT INTO orders VALUES (1, 9.99), (2, 20)"
                     " RETURNING pg_current_wal_insert_lsn()", dbname="app_db")
    assert w.returncode == 0, w.stderr
    for pod in REPLICA_PODS:
        def replayed(pod=pod):
            r = env.tcp_psql(pod, "postgres_user", env.super_password,
                             "SELECT sum(total) FROM orders", dbname="app_db")
            return r.returncode == 0 and r.stdout.strip() == "29.99"
        wait_until(replayed, 20, what=f"orders on {pod}")
        ro = env.tcp_psql(pod, "postgres_user", env.super_password,
                          "INSERT INTO orders VALUES (3, 1)", dbname="app_db")
        assert ro.returncode != 0 and "read-only transaction" in ro.stderr, ro.stderr
    # No more than that: no superuser file access.
    denied = env.tcp_psql(PRIMARY_POD, "postgres_user", env.super_password,
                          "SELECT pg_read_file('postgresql.conf')", dbname="app_db")
    assert denied.returncode != 0 and "permission denied" in denied.stderr, denied.stderr


def main():
    global env
    t0 = time.monotonic()
    env = Env()
    try:
        rc = run_tests([
            test_primary_init,
            test_clone_replicas,
            test_seed_verification_commands,
            test_application_role,
            test_restart_keeps_data,
            test_refuses_promoted_data,
            test_no_password_leaks,
            test_monitoring_role_reads_what_the_exporter_needs,
            test_monitoring_role_reads_nothing_more,
            test_replication_role_streams_only,
            test_no_tcp_login_without_password,
        ])
    finally:
        env.close()
    log(f"total {time.monotonic() - t0:.1f}s")
    return rc


if __name__ == "__main__":
    sys.exit(main())
