"""Replication metrics against a real 1 primary + 2 replica cluster: each
check is one of the situations where common exporters report a wrong
value. Tolerances are stated per test. The exporter polls every 1 s.
"""

import json
import os
import statistics
import sys
import time

from harness import (SOURCE_DIR, Cluster, Exporter, Load, log, run_tests,
                     wait_until)

ARGS = ["--poll.interval=1s", "--poll.timeout=2s", "--cluster=it"]
NAN = float("nan")
cluster = None
exporter = None


def is_nan(v):
    return v is not None and v != v


def lag(m, name):
    return m.get("pgrepl_replica_lag_seconds", instance=name)


def wait_caught_up(e, names=("replica1", "replica2"), timeout=30):
    for n in names:
        e.wait_metric("pgrepl_replica_lag_seconds", {"instance": n},
                      lambda v: v == 0, timeout, what=f"{n} lag 0")


def samples(e, name, n, labels):
    out = []
    for _ in range(n):
        out.append(e.scrape().get(name, **labels))
        time.sleep(1)
    return out


def test_injected_apply_delay():
    """recovery_min_apply_delay=3s on replica1 under writes: its lag reads
    3 s +- 1 s (median of 5 scrapes); replica2 stays under 1 s; byte lag
    is positive on both sides."""
    cluster.tool("delay", "replica1", "3s")
    try:
        with Load(cluster, 20):
            time.sleep(7)  # let the delay fill up
            r1 = samples(exporter, "pgrepl_replica_lag_seconds", 5,
                         {"instance": "replica1"})
            m = exporter.scrape()
            log(f"replica1 lag samples: {r1}")
            assert abs(statistics.median(r1) - 3.0) <= 1.0, r1
            r2 = lag(m, "replica2")
            assert r2 is not None and r2 < 1.0, r2
            assert m.get("pgrepl_replica_lag_bytes", instance="replica1") > 0
            replay_bytes = m.get("pgrepl_standby_lag_bytes", instance="primary",
                                 standby="replica1", stage="replay")
            assert replay_bytes > 0, replay_bytes
            # The primary's own measure agrees within the same tolerance.
            upstream = m.get("pgrepl_standby_lag_seconds", instance="primary",
                             standby="replica1", stage="replay")
            log(f"primary-side replay_lag for replica1: {upstream}")
            assert abs(upstream - 3.0) <= 1.0, upstream
    finally:
        cluster.tool("delay", "replica1", "0")
    wait_caught_up(exporter)


def test_sidecar_lag_without_the_primary():
    """--sidecar watching replica1 alone (no primary polled): under writes
    its lag is known (not NaN) and under 1 s; with a 3 s apply delay it
    reads 3 s +- 1 s, measured from when the replica received the WAL."""
    config = {"clusters": [{"name": "side", "replicas": [
        {"name": "replica1", "conninfo": cluster.conninfo("replica1")}]}]}
    with Exporter(config, ["--poll.interval=1s", "--sidecar"],
                  password=cluster.password()) as e:
        with Load(cluster, 25):
            e.wait_metric("pgrepl_up", {"instance": "replica1"}, lambda v: v == 1, 10)
            time.sleep(3)
            fast = samples(e, "pgrepl_replica_lag_seconds", 4, {"instance": "replica1"})
            log(f"sidecar lag under writes: {fast}")
            assert all(v is not None and not is_nan(v) and v < 1.0 for v in fast), fast
            cluster.tool("delay", "replica1", "3s")
            try:
                time.sleep(7)
                slow = samples(e, "pgrepl_replica_lag_seconds", 5,
                               {"instance": "replica1"})
                log(f"sidecar lag with a 3 s apply delay: {slow}")
                assert abs(statistics.median(slow) - 3.0) <= 1.0, slow
            finally:
                cluster.tool("delay", "replica1", "0")
    wait_caught_up(exporter)


def test_histogram_keeps_spike_between_scrapes():
    """A lag spike of about 4.5 s that starts and ends between two scrapes
    shows in pgrepl_replica_lag_poll_seconds: some polls land above 3 s."""
    wait_caught_up(exporter)
    with Load(cluster, 25):
        time.sleep(2)
        before = exporter.scrape()
        cluster.tool("pause", "replica1")
        time.sleep(4.5)
        cluster.tool("resume", "replica1")
        exporter.wait_metric("pgrepl_replica_lag_seconds",
                             {"instance": "replica1"}, lambda v: v < 0.5, 20)
        after = exporter.scrape()
    def bucket(m, le):
        return m.get("pgrepl_replica_lag_poll_seconds_bucket",
                     instance="replica1", le=le)
    total = (bucket(after, "+Inf") - bucket(before, "+Inf"))
    le3 = (bucket(after, "3") - bucket(before, "3"))
    log(f"polls between scrapes: {total:.0f}, above 3 s: {total - le3:.0f}; "
        f"gauge at the second scrape: {lag(after, 'replica1')}")
    assert total >= 4, total
    assert total - le3 >= 1, (total, le3)
    assert lag(after, "replica1") < 0.5


def test_heartbeat_lag():
    """--heartbeat with a 3 s apply delay on replica1: heartbeat lag reads
    3 s +- 1 s there and under 1 s on replica2."""
    sql = open(os.path.join(SOURCE_DIR, "docs", "heartbeat.sql")).read()
    cluster.tool("psql", "primary", "-X", "-v", "ON_ERROR_STOP=1", "-c", sql)
    cluster.tool("delay", "replica1", "3s")
    try:
        with Exporter(cluster.config("it"), ARGS + ["--heartbeat"],
                      password=cluster.password()) as e:
            e.wait_metric("pgrepl_heartbeat_lag_seconds", {"instance": "replica2"},
                          lambda v: v is not None, 15)
            time.sleep(5)
            r1 = samples(e, "pgrepl_heartbeat_lag_seconds", 5,
                         {"instance": "replica1"})
            r2 = samples(e, "pgrepl_heartbeat_lag_seconds", 3,
                         {"instance": "replica2"})
            log(f"heartbeat lag replica1 {r1} replica2 {r2}")
            assert abs(statistics.median(r1) - 3.0) <= 1.0, r1
            assert max(r2) < 1.0, r2
            m = e.scrape()
            assert m.get("pgrepl_collector_success", instance="primary",
                         collector="heartbeat") == 1
    finally:
        cluster.tool("delay", "replica1", "0")
    wait_caught_up(exporter)


def test_idle_cluster_reads_zero():
    """After writes stop, replica lag is 0 (< 1 s) on every replica for
    30 s, and the primary's write/flush/replay lag series stay present
    (0, not absent or NaN) although PostgreSQL reports NULL."""
    wait_caught_up(exporter)
    # The primary keeps a standby's last measured stage lag for a while
    # after it caught up (the previous test delayed replica1's replay):
    # the idle state starts once those have settled.
    for r in ("replica1", "replica2"):
        exporter.wait_metric(
            "pgrepl_standby_lag_seconds",
            {"instance": "primary", "standby": r, "stage": "replay"},
            lambda v: v is not None and not is_nan(v) and v < 1.0, 30,
            what=f"{r} replay < 1 s")
    naive = []
    for i in range(30):
        m = exporter.scrape()
        for r in ("replica1", "replica2"):
            v = lag(m, r)
            assert v is not None and v < 1.0, (i, r, v)
            for stage in ("write", "flush", "replay"):
                s = m.get("pgrepl_standby_lag_seconds", instance="primary",
                          standby=r, stage=stage)
                assert s is not None and not is_nan(s) and s < 1.0, (r, stage, s)
        if i % 10 == 0:
            naive.append(cluster.sql(
                "replica1", "SELECT coalesce(extract(epoch FROM now() - "
                            "pg_last_xact_replay_timestamp())::int, -1)"))
        time.sleep(1)
    log(f"naive now()-pg_last_xact_replay_timestamp() on replica1: {naive} s")


def test_paused_replay():
    """Paused replay under writes: paused reads 1 and the received but not
    replayed bytes grow between two scrapes."""
    cluster.tool("pause", "replica1")
    try:
        with Load(cluster, 15):
            m1 = exporter.wait_metric("pgrepl_replica_replay_paused",
                                      {"instance": "replica1"}, lambda v: v == 1, 5)
            time.sleep(2)
            b1 = exporter.scrape().get("pgrepl_replica_receive_replay_lag_bytes",
                                       instance="replica1")
            time.sleep(3)
            b2 = exporter.scrape().get("pgrepl_replica_receive_replay_lag_bytes",
                                       instance="replica1")
            log(f"receive-replay bytes while paused: {b1} -> {b2}")
            assert m1 == 1 and b2 > b1 > 0, (b1, b2)
    finally:
        cluster.tool("resume", "replica1")
    exporter.wait_metric("pgrepl_replica_replay_paused", {"instance": "replica1"},
                         lambda v: v == 0, 5)
    wait_caught_up(exporter)


def test_stopped_replica_is_reported_missing():
    """Stop replica2: on the primary its expected-standby series reads 0
    (not absent), the streaming count drops by one, and its slot is
    inactive with retained WAL rising under writes."""
    m = exporter.scrape()
    streaming_before = m.get("pgrepl_standbys_streaming", instance="primary")
    assert streaming_before == 2, streaming_before
    cluster.tool("stop", "replica2")
    try:
        exporter.wait_metric("pgrepl_standby_connected",
                             {"instance": "primary", "standby": "replica2"},
                             lambda v: v == 0, 5)
        m = exporter.scrape()
        assert m.get("pgrepl_standbys_streaming", instance="primary") == 1
        assert m.get("pgrepl_cluster_replicas_streaming", cluster="it") == 1
        assert m.get("pgrepl_standby_connected", instance="primary",
                     standby="replica1") == 1
        assert m.get("pgrepl_slot_active", instance="primary", slot="replica2") == 0
        r1 = m.get("pgrepl_slot_retained_wal_bytes", instance="primary",
                   slot="replica2")
        with Load(cluster, 4):
            time.sleep(4)
        time.sleep(1.5)
        r2 = exporter.scrape().get("pgrepl_slot_retained_wal_bytes",
                                   instance="primary", slot="replica2")
        log(f"replica2 slot retained WAL: {r1} -> {r2} bytes")
        assert r2 > r1, (r1, r2)
    finally:
        cluster.tool("start", "replica2")
    exporter.wait_metric("pgrepl_standby_connected",
                         {"instance": "primary", "standby": "replica2"},
                         lambda v: v == 1, 20)
    wait_caught_up(exporter)


def test_killed_receiver_is_counted():
    """Kill replica1's WAL receiver three times. PostgreSQL starts a new
    one within milliseconds, between two polls, so wal_receiver_up may never
    read 0; the restart counter must go up by exactly one per kill, and
    replica2's must not move."""
    wait_caught_up(exporter)
    m = exporter.scrape()
    before = {r: m.get("pgrepl_wal_receiver_restarts_total", instance=r)
              for r in ("replica1", "replica2")}
    assert before["replica1"] is not None and before["replica2"] is not None, before
    for i in range(1, 4):
        time.sleep(1.5)  # past wal_retrieve_retry_interval since the last start
        cluster.tool("kill-walreceiver", "replica1")
        t0 = time.monotonic()
        exporter.wait_metric("pgrepl_wal_receiver_restarts_total",
                             {"instance": "replica1"},
                             lambda v: v == before["replica1"] + i, 10,
                             what=f"restart {i} counted")
        log(f"kill {i}: counted {time.monotonic() - t0:.2f} s after the kill")
        exporter.wait_metric("pgrepl_wal_receiver_up", {"instance": "replica1"},
                             lambda v: v == 1, 20)
    time.sleep(2.5)  # two more polls: no late or double count
    m = exporter.scrape()
    assert m.get("pgrepl_wal_receiver_restarts_total",
                 instance="replica1") == before["replica1"] + 3, m.text
    assert m.get("pgrepl_wal_receiver_restarts_total",
                 instance="replica2") == before["replica2"], m.text
    wait_caught_up(exporter)


def test_broken_stream_is_not_zero_lag():
    """Stop the primary: each replica reports its WAL receiver down and a
    lag that is not 0 and grows (over 2 s after 4 s), though receive and
    replay positions are equal."""
    wait_caught_up(exporter)
    cluster.tool("stop", "primary")
    try:
        for r in ("replica1", "replica2"):
            exporter.wait_metric("pgrepl_wal_receiver_up", {"instance": r},
                                 lambda v: v == 0, 10)
        time.sleep(4)
        m = exporter.scrape()
        for r in ("replica1", "replica2"):
            v = lag(m, r)
            log(f"{r}: lag {v} s with the primary stopped; receive-replay "
                f"bytes {m.get('pgrepl_replica_receive_replay_lag_bytes', instance=r)}")
            assert v is not None and v > 2.0, (r, v)
        assert m.get("pgrepl_cluster_primaries", cluster="it") == 0
    finally:
        cluster.tool("start", "primary")
    for r in ("replica1", "replica2"):
        exporter.wait_metric("pgrepl_wal_receiver_up", {"instance": r},
                             lambda v: v == 1, 30)
    wait_caught_up(exporter)


def test_sidecar_reads_without_a_primary():
    """--sidecar on replica1 with --sidecar.primary (the primary as clients
    reach it). A stream cut while the primary writes fails /replica within
    max_lag + 2 polls. With the primary stopped, the caught-up replica keeps
    passing /replica in the "serving without primary" state, and is judged
    by its stream again once the primary is back."""
    wait_caught_up(exporter)
    config = {"clusters": [{"name": "side", "replicas": [
        {"name": "replica1", "conninfo": cluster.conninfo("replica1")}]}]}
    args = ["--poll.interval=1s", "--sidecar", "--health.replica-max-lag=1s",
            f"--sidecar.primary={cluster.conninfo('primary')}"]
    with Exporter(config, args, password=cluster.password()) as e:
        def replica():
            code, body, _ = e.get("/replica?max_lag=1s")
            return code, body.strip()

        with Load(cluster, 60):
            wait_until(lambda: replica()[0] == 200, 20, what="replica passes")
            e.wait_metric("pgrepl_primary_reachable", {"instance": "replica1"},
                          lambda v: v == 1, 10)
            m = e.scrape()
            assert m.get("pgrepl_replica_serving_without_primary",
                         instance="replica1") == 0
            # Lag bytes come from the primary's position now.
            assert m.get("pgrepl_replica_lag_bytes", instance="replica1") is not None

            # The stream is cut while the primary keeps writing: stale.
            conninfo = cluster.sql("replica1", "SHOW primary_conninfo")
            cluster.sql("replica1", "ALTER SYSTEM SET primary_conninfo = "
                        "'host=127.0.0.1 port=1 connect_timeout=1'")
            cut = time.monotonic()
            cluster.sql("replica1", "SELECT pg_reload_conf()")
            try:
                wait_until(lambda: replica()[0] == 503, 10, interval=0.1,
                           what="replica fails with its stream cut")
                left = time.monotonic() - cut
                code, body = replica()
                log(f"stream cut under writes: /replica failed after "
                    f"{left:.1f} s: {body}")
                # max_lag (1 s) + 2 polls (2 s), plus 2 s of slack for a
                # loaded 2-core machine.
                assert left < 5.0, left
                assert "serving without primary" not in body, body
            finally:
                escaped = conninfo.replace("'", "''")
                cluster.sql("replica1",
                            f"ALTER SYSTEM SET primary_conninfo = '{escaped}'")
                cluster.sql("replica1", "SELECT pg_reload_conf()")
            wait_until(lambda: replica()[0] == 200, 30,
                       what="replica passes again after the stream returns")
        wait_caught_up(exporter, names=("replica1",))

        # The primary stops: nothing can be written, reads stay fresh.
        cluster.tool("stop", "primary")
        stopped = time.monotonic()
        try:
            checks = []  # (seconds since the stop, status, reason)
            while time.monotonic() - stopped < 8:
                code, body = replica()
                checks.append((time.monotonic() - stopped, code, body))
                time.sleep(0.25)
            # The longest run of failed checks, in seconds.
            longest, run_start = 0.0, None
            for t, code, _ in checks:
                if code != 200 and run_start is None:
                    run_start = t
                if code == 200 and run_start is not None:
                    longest = max(longest, t - run_start)
                    run_start = None
            if run_start is not None:
                longest = max(longest, checks[-1][0] - run_start)
            failures = sum(code != 200 for _, code, _ in checks)
            states = [body for _, _, body in checks]
            m = e.scrape()
            log(f"primary stopped: {len(checks)} checks, {failures} failed, "
                f"longest failing stretch {longest:.2f} s; last: {states[-1]}")
            assert "serving without primary" in states[-1], states[-1]
            assert m.get("pgrepl_primary_reachable", instance="replica1") == 0
            assert m.get("pgrepl_replica_serving_without_primary",
                         instance="replica1") == 1
            assert m.get("pgrepl_wal_receiver_up", instance="replica1") == 0
            status = json.loads(e.get("/status")[1])
            inst = status["clusters"][0]["instances"][0]
            assert inst["serving_without_primary"] is True, inst
            assert inst["primary_reachable"] is False, inst
            # Between the receiver stopping and the watch noticing, one
            # poll (1 s) may fail; a checker that needs failures over 3 s
            # in a row (HAProxy's fall 3, inter 1s) never removes it.
            assert longest < 2.5, checks
        finally:
            cluster.tool("start", "primary")
        wait_until(lambda: "streaming replica" in replica()[1], 30,
                   what="replica streams again")
        m = e.scrape()
        assert m.get("pgrepl_replica_serving_without_primary",
                     instance="replica1") == 0
    wait_caught_up(exporter)


def test_promotion_split_brain():
    """Promote replica2 while the primary runs: two primaries are counted,
    and replica2's role and timeline signals change."""
    cluster.tool("promote", "replica2")
    exporter.wait_metric("pgrepl_cluster_primaries", {"cluster": "it"},
                         lambda v: v == 2, 10)
    m = exporter.wait_metric("pgrepl_timeline_changes_total",
                             {"instance": "replica2"}, lambda v: v >= 1, 10)
    m = exporter.scrape()
    assert m.get("pgrepl_role", instance="replica2", role="primary") == 1
    assert m.get("pgrepl_role_changes_total", instance="replica2") == 1
    assert m.get("pgrepl_timeline_id", instance="replica2") == 2
    assert m.get("pgrepl_timeline_id", instance="primary") == 1
    assert m.get("pgrepl_role_changes_total", instance="primary") == 0


def main():
    global cluster, exporter
    with Cluster(replicas=2) as c:
        cluster = c
        with Exporter(c.config("it"), ARGS, password=c.password()) as e:
            exporter = e
            e.wait_metric("pgrepl_up", {"instance": "replica2"}, lambda v: v == 1, 10)
            return run_tests([
                test_injected_apply_delay,
                test_sidecar_lag_without_the_primary,
                test_histogram_keeps_spike_between_scrapes,
                test_heartbeat_lag,
                test_idle_cluster_reads_zero,
                test_paused_replay,
                test_stopped_replica_is_reported_missing,
                test_killed_receiver_is_counted,
                test_broken_stream_is_not_zero_lag,
                test_sidecar_reads_without_a_primary,
                test_promotion_split_brain,
            ])


if __name__ == "__main__":
    sys.exit(main())
