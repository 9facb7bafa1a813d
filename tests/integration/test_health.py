"""Issue 16, what else breaks replication, on a real 1+2 cluster
(wal_level logical, archive_mode on): a synchronous standby stopped while
a commit waits (PgreplSyncStandbysMissing fires in a real Prometheus), an
archive_command that fails (PgreplArchiveFailing fires), a publication and
subscription between the primary and a promoted replica whose lag grows
while the subscription is disabled and drains once enabled, and
pg_stat_wal's counters."""

import os
import subprocess
import sys
import time

os.environ["PGC_EXTRA_CONF"] = "\n".join([
    "wal_level = logical",
    "archive_mode = on",
    # Succeeds at once, so base backups and the first segments archive;
    # the archive test swaps in a failing command with ALTER SYSTEM.
    "archive_command = 'true'",
])

from harness import (PGCLUSTER, Cluster, Exporter, log,  # noqa: E402
                     run_tests, wait_until)
from monitoring import Prometheus, fast_rules_copy  # noqa: E402

ctx = {}
MIB = 1024 * 1024
# Seconds within which a value read on full polls only shows: every
# Poller::kFullPollEvery (30) polls at the 1 s interval, plus slack.
FULL_POLL = 30 + 15


def metric(name, **labels):
    return ctx["exporter"].scrape().get(name, **labels)


def wait_metric(name, labels, predicate, timeout=FULL_POLL, what=None):
    return ctx["exporter"].wait_metric(name, labels, predicate, timeout, what)


def firing(alertname, **labels):
    want = set(labels.items())
    return [a for a in ctx["prometheus"].firing()
            if a["labels"].get("alertname") == alertname
            and want <= set(a["labels"].items())]


def set_and_reload(name, setting, value):
    c = ctx["cluster"]
    if value is None:
        c.sql(name, f"ALTER SYSTEM RESET {setting}")
    else:
        c.sql(name, f"ALTER SYSTEM SET {setting} = '{value}'")
    c.sql(name, "SELECT pg_reload_conf()")


def test_every_new_collector_succeeds():
    """The monitoring role (pg_monitor only) runs each new statement on a
    primary and on a replica."""
    for inst in ctx["cluster"].names():
        for coll in ("sync_replication", "pg_stat_archiver",
                     "pg_stat_subscription", "pg_stat_wal",
                     "pg_replication_slots"):
            wait_metric("pgrepl_collector_success",
                        {"instance": inst, "collector": coll},
                        lambda v: v == 1, 15, f"{coll} on {inst}")
    m = ctx["exporter"].scrape()
    assert m.get("pgrepl_sync_standbys_required", instance="primary") == 0
    assert m.get("pgrepl_sync_standbys_connected", instance="primary") == 0
    assert m.get("pgrepl_sync_commits_waiting", instance="primary") == 0
    assert m.get("pgrepl_sync_replication_info", instance="primary",
                 method="off") == 1
    # Synchronous replication is the primary's: nothing on a replica.
    assert m.get("pgrepl_sync_standbys_required", instance="replica1") is None
    assert m.get("pgrepl_archiver_active", instance="primary") == 1
    # archive_mode on, not always: a standby archives nothing.
    assert m.get("pgrepl_archiver_active", instance="replica1") == 0


def test_sync_standby_stopped_while_a_commit_waits():
    c = ctx["cluster"]
    c.sql("primary", "CREATE TABLE sync_probe (x int)")
    set_and_reload("primary", "synchronous_standby_names", "FIRST 1 (replica1)")
    # The setting is read on full polls (every 30) while it is empty, then
    # on every poll.
    wait_metric("pgrepl_sync_standbys_required", {"instance": "primary"},
                lambda v: v == 1, what="the setting read")
    wait_metric("pgrepl_sync_standbys_connected", {"instance": "primary"},
                lambda v: v == 1, what="replica1 synchronous")
    m = ctx["exporter"].scrape()
    assert m.get("pgrepl_standby_sync_priority", instance="primary",
                 standby="replica1", sync_state="sync") == 1
    assert m.get("pgrepl_standby_sync_priority", instance="primary",
                 standby="replica2", sync_state="async") == 0
    assert m.get("pgrepl_sync_replication_info", instance="primary",
                 method="first", standby_names="FIRST 1 (replica1)") == 1

    c.tool("stop", "replica1")
    # A commit in the background: it waits for replica1 until the setting
    # is reset below (bounded by the wait(30) and the kill after it).
    commit = subprocess.Popen(
        [PGCLUSTER, "psql", c.dir, "primary", "-XAtc",
         "INSERT INTO sync_probe VALUES (1)"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        waiting = wait_metric("pgrepl_sync_commits_waiting",
                              {"instance": "primary"},
                              lambda v: v is not None and v >= 1,
                              what="a commit waiting on SyncRep")
        m = ctx["exporter"].scrape()
        required = m.get("pgrepl_sync_standbys_required", instance="primary")
        connected = m.get("pgrepl_sync_standbys_connected", instance="primary")
        log(f"required={required} connected={connected} waiting={waiting}")
        assert required == 1 and connected == 0, (required, connected)
        assert commit.poll() is None, "the commit did not wait"
        # The page, from the real rule in a real Prometheus.
        wait_until(lambda: firing("PgreplSyncStandbysMissing",
                                  instance="primary"), 45,
                   what="PgreplSyncStandbysMissing firing")
        alert = firing("PgreplSyncStandbysMissing", instance="primary")[0]
        assert alert["labels"]["severity"] == "critical", alert
    finally:
        set_and_reload("primary", "synchronous_standby_names", None)
        try:
            rc = commit.wait(30)
        except subprocess.TimeoutExpired:
            commit.kill()
            commit.wait(10)
            raise AssertionError("the commit still waited after the reset")
        c.tool("start", "replica1")
    assert rc == 0, f"the waiting commit failed: {rc}"
    assert c.sql("primary", "SELECT count(*) FROM sync_probe") == "1"
    wait_metric("pgrepl_sync_commits_waiting", {"instance": "primary"},
                lambda v: v == 0, what="no commit waiting")
    wait_metric("pgrepl_sync_standbys_required", {"instance": "primary"},
                lambda v: v == 0, what="synchronous replication off")


def test_failing_archive_command():
    c = ctx["cluster"]
    before = wait_metric("pgrepl_archiver_failed_total",
                         {"instance": "primary"}, lambda v: v is not None)
    set_and_reload("primary", "archive_command", "false")
    c.sql("primary", "CREATE TABLE archive_probe AS SELECT 1 AS x")
    c.sql("primary", "SELECT pg_switch_wal()")
    failed = wait_metric("pgrepl_archiver_failed_total", {"instance": "primary"},
                         lambda v: v is not None and v > before, 60,
                         "archive failures")
    pending = wait_metric("pgrepl_archiver_pending_segments",
                          {"instance": "primary"},
                          lambda v: v is not None and v >= 1)
    m = ctx["exporter"].scrape()
    wals = m.all("pgrepl_archiver_last_wal_info", instance="primary",
                 result="failed")
    assert len(wals) == 1, wals
    assert m.get("pgrepl_archiver_last_failed_timestamp_seconds",
                 instance="primary") > time.time() - 120
    log(f"failed_total {before} -> {failed}, pending {pending}")
    wait_until(lambda: firing("PgreplArchiveFailing", instance="primary"), 60,
               what="PgreplArchiveFailing firing")
    # A working command again: the waiting segments are archived.
    archived = metric("pgrepl_archiver_archived_total", instance="primary")
    set_and_reload("primary", "archive_command", "true")
    wait_metric("pgrepl_archiver_pending_segments", {"instance": "primary"},
                lambda v: v == 0, 90, "the backlog archived")
    after = metric("pgrepl_archiver_archived_total", instance="primary")
    assert after >= archived + 1, (archived, after)
    assert metric("pgrepl_archiver_last_archived_age_seconds",
                  instance="primary") < 120


def socket_dir(cluster):
    with open(os.path.join(cluster.dir, ".pgcluster")) as f:
        for line in f:
            if line.startswith("socket_dir="):
                return line.strip().split("=", 1)[1]
    raise AssertionError("no socket_dir in .pgcluster")


def test_logical_replication_lag_grows_while_disabled_and_drains():
    c = ctx["cluster"]
    # replica2 becomes a writable standalone instance: the subscriber.
    c.tool("promote", "replica2")
    ddl = "CREATE TABLE orders (id int PRIMARY KEY, note text)"
    c.sql("primary", ddl)
    c.sql("replica2", ddl)
    c.sql("primary", "CREATE PUBLICATION orders_pub FOR TABLE orders")
    conn = (f"host={socket_dir(c)} port={c.port('primary')} "
            "user=postgres dbname=postgres")
    c.sql("replica2", f"CREATE SUBSCRIPTION orders_sub CONNECTION '{conn}' "
                      "PUBLICATION orders_pub")
    sub = {"instance": "replica2", "subscription": "orders_sub"}
    slot = {"instance": "primary", "slot": "orders_sub", "slot_type": "logical"}
    wait_metric("pgrepl_subscription_worker_up", sub, lambda v: v == 1,
                FULL_POLL)
    wait_metric("pgrepl_slot_confirmed_flush_lag_bytes", slot,
                lambda v: v is not None and v < MIB, 30, "slot caught up")

    c.sql("replica2", "ALTER SUBSCRIPTION orders_sub DISABLE")
    wait_metric("pgrepl_subscription_worker_up", sub, lambda v: v == 0,
                FULL_POLL)
    assert metric("pgrepl_subscription_enabled", **sub) == 0
    wait_metric("pgrepl_slot_active", slot, lambda v: v == 0, 30)
    lags = []
    lsn_before_last = None
    for k in range(3):
        lsn_before_last = int(float(c.sql(
            "primary", "SELECT pg_current_wal_lsn() - '0/0'")))
        c.sql("primary", f"INSERT INTO orders SELECT g, repeat('x', 200) "
                         f"FROM generate_series({k * 5000 + 1}, "
                         f"{(k + 1) * 5000}) AS g")
        floor = lags[-1] if lags else 0
        lags.append(wait_metric("pgrepl_slot_confirmed_flush_lag_bytes", slot,
                                lambda v, floor=floor: v is not None and
                                v > floor + 512 * 1024, 20,
                                f"lag after batch {k + 1}"))
    log(f"logical slot lag while disabled: {[int(x) for x in lags]}")
    assert lags[-1] > 2 * MIB, lags

    c.sql("replica2", "ALTER SUBSCRIPTION orders_sub ENABLE")
    wait_metric("pgrepl_subscription_worker_up", sub, lambda v: v == 1,
                FULL_POLL)
    drained = wait_metric("pgrepl_slot_confirmed_flush_lag_bytes", slot,
                          lambda v: v is not None and v < MIB, 60,
                          "lag drained")
    wait_until(lambda: c.sql("replica2", "SELECT count(*) FROM orders")
               == "15000", 60, what="rows applied")
    m = ctx["exporter"].scrape()
    received = m.get("pgrepl_subscription_received_lsn_bytes", **sub)
    latest_end = m.get("pgrepl_subscription_latest_end_lsn_bytes", **sub)
    receipt_age = m.get("pgrepl_subscription_last_msg_receipt_age_seconds",
                        **sub)
    log(f"drained to {drained} B; subscriber received {received}, "
        f"latest_end {latest_end}, receipt age {receipt_age}")
    assert received is not None and latest_end is not None
    # The subscriber applied the last batch: it received past the
    # position the primary was at before writing it.
    assert received >= lsn_before_last, (received, lsn_before_last)
    assert latest_end <= received, (latest_end, received)
    assert 0 <= receipt_age < 30, receipt_age
    assert m.get("pgrepl_subscription_latest_end_age_seconds", **sub) < 60


def test_pg_stat_wal_counters_rise_with_writes():
    c = ctx["cluster"]
    m0 = ctx["exporter"].scrape()
    r0 = m0.get("pgrepl_wal_records_total", instance="primary")
    b0 = m0.get("pgrepl_wal_bytes_total", instance="primary")
    assert r0 and b0 and r0 > 0 and b0 > 0, (r0, b0)
    c.sql("primary", "INSERT INTO orders SELECT g, 'y' "
                     "FROM generate_series(100001, 101000) AS g")
    # pg_stat_wal is flushed by the backends at the end of a transaction
    # or within a second: wait for it rather than assume.
    r1 = wait_metric("pgrepl_wal_records_total", {"instance": "primary"},
                     lambda v: v is not None and v >= r0 + 1000, FULL_POLL)
    b1 = metric("pgrepl_wal_bytes_total", instance="primary")
    log(f"wal_records {r0} -> {r1}, wal_bytes {b0} -> {b1}")
    assert b1 > b0
    assert metric("pgrepl_wal_fpi_total", instance="primary") is not None
    assert metric("pgrepl_wal_buffers_full_total",
                  instance="primary") is not None


def main():
    with Cluster(replicas=2) as c:
        ctx["cluster"] = c
        with Exporter(c.config(), ["--poll.interval=1s"],
                      password=c.password()) as e:
            ctx["exporter"] = e
            rules = fast_rules_copy(e.dir)
            with Prometheus(e.port, [rules]) as prom:
                ctx["prometheus"] = prom
                wait_until(lambda: prom.query("pgrepl_up")[1], 20,
                           what="first scrape")
                return run_tests([
                    test_every_new_collector_succeeds,
                    test_sync_standby_stopped_while_a_commit_waits,
                    test_failing_archive_command,
                    test_logical_replication_lag_grows_while_disabled_and_drains,
                    test_pg_stat_wal_counters_rise_with_writes,
                ])


if __name__ == "__main__":
    sys.exit(main())
