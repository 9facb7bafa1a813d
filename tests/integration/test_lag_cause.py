"""The cause of a replica's lag (pgrepl_replica_lag_cause) on a real
1 primary + 2 replica cluster, polled every second: an apply delay, a
paused replay, and replay blocked by a repeatable-read query on the
replica while the primary vacuums away the rows it reads. Each cause must
show within 3 polls of the condition; the condition is a lag, so it starts
when the lag reaches the 1 s under which a replica counts as not lagging
(LAG_FLOOR, kLagCauseMinSeconds): the bound is t0 + 1 s + 3 polls, t0
being the moment the test made the condition (the write, the VACUUM).
replica2 is never touched and must read "none" throughout. The
cancellation that ends the conflict is also the real one that
pgrepl_database_conflicts_total must count. Every wait is
bounded; the blocking query is bounded by pg_sleep and by a timeout.
"""

import json
import os
import subprocess
import sys
import time

from harness import (PGCLUSTER, Cluster, Exporter, descendants, log, run_tests,
                     wait_until)

INTERVAL = 1.0  # --poll.interval
ARGS = ["--poll.interval=1s", "--poll.timeout=2s", "--cluster=it"]
# A replica that keeps up has its replay settings read on full polls only
# (every 30 polls), as are its oldest transaction and the conflict
# counters: a change shows within that, plus slack.
SETTING_SHOWS = 30 + 5
LAG_FLOOR = 1.0  # kLagCauseMinSeconds
READER_SLEEP = 90  # s: the conflicting reader's longest life
READER_QUERY = f"SELECT pg_sleep({READER_SLEEP})"
WITHIN = LAG_FLOOR + 3 * INTERVAL
CAUSES = ("none", "network_or_sender", "disk", "recovery_conflict",
          "replay_paused", "apply_delay", "replay_cpu")
# The counter of the cancellation test_recovery_conflict causes: its
# reader runs in database postgres.
CONFLICTS = {"instance": "replica1", "datname": "postgres", "kind": "snapshot"}
cluster = None
exporter = None


def cause(m, instance):
    """The one cause reading 1, or None when no cause is exported; fails
    when the series are not exactly one 1 and six 0s."""
    series = {dict(ls)["cause"]: v for ls, v in
              m.all("pgrepl_replica_lag_cause", instance=instance).items()}
    if not series:
        return None
    assert sorted(series) == sorted(CAUSES), series
    ones = [c for c, v in series.items() if v == 1]
    assert len(ones) == 1 and all(v in (0, 1) for v in series.values()), series
    return ones[0]


def wait_cause(instance, want, t0, within):
    """Scrapes every 0.2 s until `instance`'s cause is `want`; returns the
    seconds since t0. Fails when it takes longer than `within`, and when
    replica2 (never touched here) names any cause but none."""
    deadline = t0 + within
    seen = []
    while True:
        m = exporter.scrape()
        got = cause(m, instance)
        other = cause(m, "replica2")
        assert other == "none", f"replica2's cause is {other}"
        if not seen or seen[-1] != got:
            seen.append(got)
        now = time.monotonic()
        if got == want:
            log(f"{instance}: cause {want} after {now - t0:.2f}s "
                f"(causes seen: {seen})")
            return now - t0
        assert now < deadline, (
            f"{instance}: cause not {want} within {within:.1f}s of the "
            f"condition; seen {seen}, lag "
            f"{m.get('pgrepl_replica_lag_seconds', instance=instance)}")
        time.sleep(0.2)


def wait_none(instance, timeout=30):
    wait_until(lambda: cause(exporter.scrape(), instance) == "none", timeout,
               what=f"{instance}'s cause to return to none")


def status_cause(instance):
    status, body, _ = exporter.get("/status")
    assert status == 200, status
    for c in json.loads(body)["clusters"]:
        for i in c["instances"]:
            if i["name"] == instance:
                return i["lag_cause"]
    raise AssertionError(f"{instance} not in /status")


def write_row(table="lc_writes"):
    cluster.sql("primary", f"INSERT INTO {table} VALUES (clock_timestamp())")


def setting(name, value):
    """Sets a replica1 setting that a reload applies, and waits until the
    server has reloaded it."""
    cluster.sql("replica1", f"ALTER SYSTEM SET {name} = '{value}'")
    cluster.sql("replica1", "SELECT pg_reload_conf()")
    wait_until(lambda: cluster.sql("replica1", f"SHOW {name}") == value, 10,
               what=f"replica1's {name} to read {value}")


def test_idle_cluster_has_no_cause():
    """Caught up: every replica reads none, on /metrics and /status; the
    stage split is 0 bytes; the primary has no cause series."""
    for r in ("replica1", "replica2"):
        wait_none(r)
        assert status_cause(r) == "none"
    m = exporter.scrape()
    assert cause(m, "primary") is None
    assert m.get("pgrepl_replica_lag_stage_bytes", instance="replica1",
                 stage="replay") == 0
    assert m.get("pgrepl_replica_recovery_conflict_waiting",
                 instance="replica1") == 0
    assert status_cause("primary") is None


def test_apply_delay():
    """recovery_min_apply_delay=20s on replica1, one commit on the primary:
    apply_delay within 3 polls of the lag reaching 1 s; the delay setting
    is exported as 20 s; back to none once the commit is applied."""
    cluster.tool("delay", "replica1", "20s")
    try:
        exporter.wait_metric("pgrepl_replica_apply_delay_seconds",
                             {"instance": "replica1"}, lambda v: v == 20,
                             SETTING_SHOWS)
        t0 = time.monotonic()
        write_row()
        wait_cause("replica1", "apply_delay", t0, WITHIN)
        assert status_cause("replica1") == "apply_delay"
        m = exporter.scrape()
        replay = m.get("pgrepl_replica_lag_stage_bytes", instance="replica1",
                       stage="replay")
        assert replay is not None and replay > 0, replay
    finally:
        cluster.tool("delay", "replica1", "0")
    wait_none("replica1")


def test_paused_replay():
    """pg_wal_replay_pause() on replica1, then one commit: replay_paused
    within 3 polls of the lag reaching 1 s, with the unreplayed WAL in the
    replay stage; none again after the resume."""
    cluster.tool("pause", "replica1")
    try:
        t0 = time.monotonic()
        write_row()
        wait_cause("replica1", "replay_paused", t0, WITHIN)
        assert status_cause("replica1") == "replay_paused"
        status, body, _ = exporter.get("/")
        assert status == 200 and 'data-lag-cause="replay_paused"' in body
        m = exporter.scrape()
        assert m.get("pgrepl_replica_lag_stage_bytes", instance="replica1",
                     stage="replay") > 0
    finally:
        cluster.tool("resume", "replica1")
    wait_none("replica1")


def test_recovery_conflict():
    """hot_standby_feedback=off and max_standby_streaming_delay=15s on
    replica1. A repeatable-read transaction there reads a table; the
    primary deletes its rows and VACUUMs them away. Replay of the cleanup
    waits for the query: recovery_conflict within 3 polls of the lag
    reaching 1 s, the startup process's conflict wait reads 1, and the
    oldest transaction's age is exported. After the 15 s, PostgreSQL
    cancels the query (the psql client sees the error), the snapshot
    conflict counter of database postgres rises by at least 1, the other
    kinds stay 0, and replay goes on: none again."""
    cluster.sql("primary", "DROP TABLE IF EXISTS lc_conflict")
    cluster.sql("primary", "CREATE TABLE lc_conflict AS "
                "SELECT generate_series(1, 10000) AS i")
    wait_until(lambda: cluster.sql(
        "replica1", "SELECT count(*) FROM pg_class WHERE relname = "
        "'lc_conflict'") == "1", 30, what="the table on replica1")
    setting("hot_standby_feedback", "off")
    setting("max_standby_streaming_delay", "15s")
    exporter.wait_metric("pgrepl_replica_hot_standby_feedback",
                         {"instance": "replica1"}, lambda v: v == 0,
                         SETTING_SHOWS)
    exporter.wait_metric("pgrepl_replica_max_standby_streaming_delay_seconds",
                         {"instance": "replica1"}, lambda v: v == 15,
                         SETTING_SHOWS)
    before = exporter.scrape().get("pgrepl_database_conflicts_total",
                                   **CONFLICTS)
    assert before is not None, "no snapshot conflict counter on replica1"
    # The reader holds its snapshot for at most READER_SLEEP s (pg_sleep),
    # far past the 15 s after which replay cancels it.
    reader = subprocess.Popen(
        [PGCLUSTER, "psql", cluster.dir, "replica1", "-XAt",
         "-v", "ON_ERROR_STOP=1",
         "-c", "BEGIN ISOLATION LEVEL REPEATABLE READ",
         "-c", "SELECT count(*) FROM lc_conflict",
         "-c", READER_QUERY, "-c", "COMMIT"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # Its snapshot is taken once it sleeps (its count ran). The
        # exporter reads the oldest transaction's age on full polls while
        # replica1 keeps up, and on every poll once it lags: it is checked
        # below, during the conflict.
        wait_until(lambda: cluster.sql(
            "replica1", "SELECT count(*) FROM pg_stat_activity "
            f"WHERE query = '{READER_QUERY}' AND state = 'active'") == "1",
            30, what="the reader's transaction on replica1")
        cluster.sql("primary", "DELETE FROM lc_conflict")
        # replica2 keeps hot_standby_feedback on: its slot holds the
        # primary's horizon at its last feedback (sent every 10 s), which
        # may predate the DELETE. Vacuum removes the rows only once every
        # slot's xmin has passed it.
        after = cluster.sql("primary", "SELECT txid_current()")
        wait_until(lambda: cluster.sql(
            "primary", "SELECT coalesce(bool_and(xmin IS NULL OR "
            f"xmin::text::bigint > {after}), true) "
            "FROM pg_replication_slots") == "t", 30,
            what="the slots' xmin to pass the DELETE")
        cluster.sql("primary", "VACUUM lc_conflict")
        t0 = time.monotonic()
        wait_cause("replica1", "recovery_conflict", t0, WITHIN)
        m = exporter.scrape()
        assert m.get("pgrepl_replica_recovery_conflict_waiting",
                     instance="replica1") == 1
        age = m.get("pgrepl_replica_oldest_xact_age_seconds",
                    instance="replica1")
        assert age is not None and age > 1, age
        assert status_cause("replica1") == "recovery_conflict"
        # PostgreSQL cancels the reader after max_standby_streaming_delay,
        # and counts it in pg_stat_database_conflicts.
        _, err = reader.communicate(timeout=40)
        log(f"reader ended: rc={reader.returncode} {err.strip()!r}")
        assert reader.returncode != 0 and "conflict with recovery" in err, err
        after = exporter.wait_metric(
            "pgrepl_database_conflicts_total", CONFLICTS,
            lambda v: v is not None and v >= before + 1, SETTING_SHOWS,
            what="the snapshot conflict counter to rise (full polls)")
        log(f"snapshot conflicts on replica1/postgres: {before} -> {after}")
        m = exporter.scrape()
        for kind in ("tablespace", "lock", "bufferpin", "deadlock"):
            v = m.get("pgrepl_database_conflicts_total", instance="replica1",
                      datname="postgres", kind=kind)
            assert v == 0, (kind, v)
        assert m.get("pgrepl_database_conflicts_total",
                     instance="primary") is None
    finally:
        # A client that goes away leaves pg_sleep running on the server.
        cluster.sql("replica1", "SELECT count(pg_terminate_backend(pid)) "
                    f"FROM pg_stat_activity WHERE query = '{READER_QUERY}'")
        if reader.poll() is None:
            below = descendants(reader.pid)
            reader.terminate()
            for pid in below:
                try:
                    os.kill(pid, 15)
                except ProcessLookupError:
                    pass
            reader.wait(10)
        setting("max_standby_streaming_delay", "30s")
        setting("hot_standby_feedback", "on")
    wait_none("replica1")
    exporter.wait_metric("pgrepl_replica_recovery_conflict_waiting",
                         {"instance": "replica1"}, lambda v: v == 0, 10)


def main():
    global cluster, exporter
    with Cluster(replicas=2) as c:
        cluster = c
        c.sql("primary", "CREATE TABLE lc_writes (t timestamptz)")
        with Exporter(c.config("it"), ARGS, password=c.password()) as e:
            exporter = e
            e.wait_metric("pgrepl_up", {"instance": "replica2"},
                          lambda v: v == 1, 10)
            return run_tests([
                test_idle_cluster_has_no_cause,
                test_apply_delay,
                test_paused_replay,
                test_recovery_conflict,
            ])


if __name__ == "__main__":
    sys.exit(main())
