"""The xmin horizon a replica holds back on the primary, on a real 1 primary
+ 1 replica cluster with hot_standby_feedback = on (as in k8s/): a
repeatable-read transaction on the replica keeps its snapshot while the
primary runs a bounded number of transactions (N). The age of the held
xmin must rise by at least N; once the transaction ends, the horizon moves
on and the age falls back below N. PostgreSQL puts a standby's feedback in
its slot's xmin when it streams through a slot (as here and in k8s/), and
in the walsender's backend_xmin only without one: the test covers both,
the second by streaming without the slot for a while. Every wait is
bounded; the replica's transaction is bounded by pg_sleep and by the
test's cleanup.
"""

import os
import subprocess
import sys
import time

from harness import (PGCLUSTER, Cluster, Exporter, descendants, log, run_tests,
                     wait_until)

ARGS = ["--poll.interval=1s", "--poll.timeout=2s", "--cluster=it"]
FULL_POLL = 30  # s: Poller::kFullPollEvery polls at the 1 s interval
N = 300  # transactions the primary runs while the replica holds its snapshot
# Feedback reaches the primary at least every wal_receiver_status_interval
# (10 s by default), and whenever the replica's xmin changes.
FEEDBACK = 30
cluster = None
exporter = None

STANDBY = {"instance": "primary", "standby": "replica1"}
STANDBY_NO_SLOT = {**STANDBY, "slot": ""}
SLOT = {"instance": "primary", "slot": "replica1"}


def age(metric, labels):
    return exporter.scrape().get(metric, **labels)


def stop(proc):
    """Ends the reader: its backend first (a client that goes away leaves
    pg_sleep running on the server), then the psql process tree."""
    cluster.sql("replica1", "SELECT count(pg_terminate_backend(pid)) FROM "
                "pg_stat_activity WHERE query = 'SELECT pg_sleep(90)'")
    if proc.poll() is not None:
        return
    below = descendants(proc.pid)
    proc.terminate()
    for pid in below:
        try:
            os.kill(pid, 15)
        except ProcessLookupError:
            pass
    proc.wait(10)


def primary_sql(query):
    return cluster.sql("primary", query)


def holds_horizon(metric, labels, held_xmin_sql):
    """A repeatable-read transaction on replica1 holds its snapshot; once
    the primary shows the reader's xmin (held_xmin_sql), N transactions on
    the primary raise `metric`'s age by at least N. Ending the transaction
    lets the horizon go: the age falls below N again."""
    reader = subprocess.Popen(
        [PGCLUSTER, "psql", cluster.dir, "replica1", "-XAt",
         "-v", "ON_ERROR_STOP=1",
         "-c", "BEGIN ISOLATION LEVEL REPEATABLE READ",
         "-c", "SELECT count(*) FROM pg_class",
         "-c", "SELECT pg_sleep(90)", "-c", "COMMIT"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        reader_xmin = wait_until(lambda: cluster.sql(
            "replica1", "SELECT backend_xmin FROM pg_stat_activity WHERE "
            "query = 'SELECT pg_sleep(90)' AND backend_xmin IS NOT NULL"),
            10, what="the reader's snapshot on replica1")
        wait_until(lambda: primary_sql(held_xmin_sql) == reader_xmin,
                   FEEDBACK, what=f"replica1's feedback to hold {reader_xmin}")
        # The exporter's next poll that reads it sees the held horizon: a
        # slot's every poll, a walsender's on full polls (every 30 s).
        wait_until(lambda: age(metric, labels) is not None, FULL_POLL + 5,
                   what=f"{metric}{labels}")
        time.sleep(1.5)
        before = age(metric, labels)
        cluster.tool("psql", "primary", "-XAtq",
                     *(["-c", "SELECT txid_current()"] * N), timeout=60)
        after = wait_until(
            lambda: (lambda v: v if v is not None and v >= before + N
                     else None)(age(metric, labels)),
            FULL_POLL + 10, what=f"{metric} to rise by {N} from {before}")
        log(f"{metric}: held at xmin {reader_xmin}; age {before} -> {after} "
            f"after {N} transactions")
        # The horizon stayed where the reader holds it.
        assert primary_sql(held_xmin_sql) == reader_xmin
    finally:
        stop(reader)
    wait_until(lambda: (lambda v: v is not None and v < N)(
        age(metric, labels)), FEEDBACK, what=f"{metric} to fall again")
    log(f"{metric}: released, age {age(metric, labels)}")


def test_feedback_is_on_and_the_horizon_is_young():
    """k8s-like settings: feedback on, through the replica's slot; the
    slot's xmin age is exported and small; the walsender's backend_xmin is
    NULL (feedback through a slot sets the slot's xmin only), so absent."""
    exporter.wait_metric("pgrepl_replica_hot_standby_feedback",
                         {"instance": "replica1"}, lambda v: v == 1, 10)
    slot = exporter.wait_metric("pgrepl_slot_xmin_age_xids", SLOT,
                                lambda v: v is not None, FEEDBACK)
    assert 0 <= slot < N, slot
    assert age("pgrepl_standby_backend_xmin_age_xids", STANDBY) is None


def test_slot_xmin_held_by_a_replica_query():
    """With the slot (as in k8s/): the slot's xmin age rises by N."""
    holds_horizon("pgrepl_slot_xmin_age_xids", SLOT,
                  "SELECT xmin FROM pg_replication_slots "
                  "WHERE slot_name = 'replica1'")


def test_backend_xmin_held_by_a_replica_query():
    """replica1 streams without its slot (primary_slot_name = ''): the
    feedback now sets the walsender's backend_xmin, whose age rises by N.
    The slot is restored afterwards."""
    slot = cluster.sql("replica1", "SHOW primary_slot_name")
    assert slot == "replica1", slot
    cluster.sql("replica1", "ALTER SYSTEM SET primary_slot_name = ''")
    cluster.sql("replica1", "SELECT pg_reload_conf()")
    try:
        wait_until(lambda: primary_sql(
            "SELECT count(*) FROM pg_stat_replication r "
            "JOIN pg_replication_slots s ON s.active_pid = r.pid") == "0" and
            primary_sql("SELECT count(*) FROM pg_stat_replication WHERE "
                        "state = 'streaming'") == "1",
            FEEDBACK, what="replica1 to stream without its slot")
        holds_horizon("pgrepl_standby_backend_xmin_age_xids", STANDBY_NO_SLOT,
                      "SELECT backend_xmin FROM pg_stat_replication "
                      "WHERE application_name = 'replica1'")
    finally:
        cluster.sql("replica1",
                    f"ALTER SYSTEM SET primary_slot_name = '{slot}'")
        cluster.sql("replica1", "SELECT pg_reload_conf()")
    wait_until(lambda: primary_sql(
        "SELECT active FROM pg_replication_slots WHERE slot_name = "
        "'replica1'") == "t", FEEDBACK, what="replica1 back on its slot")


def main():
    global cluster, exporter
    with Cluster(replicas=1) as c:
        cluster = c
        with Exporter(c.config("it"), ARGS, password=c.password()) as e:
            exporter = e
            e.wait_metric("pgrepl_up", {"instance": "replica1"},
                          lambda v: v == 1, 10)
            return run_tests([
                test_feedback_is_on_and_the_horizon_is_young,
                test_slot_xmin_held_by_a_replica_query,
                test_backend_xmin_held_by_a_replica_query,
            ])


if __name__ == "__main__":
    sys.exit(main())
