"""The xmin horizon a replica holds back on the primary, on a real 1 primary
+ 1 replica cluster with hot_standby_feedback = on (as in k8s/): a
repeatable-read transaction on the replica keeps its snapshot while the
primary runs a bounded number of transactions (N). The walsender's
backend_xmin age and the replica's slot xmin age must rise by at least N;
once the transaction ends, the horizon moves on and the ages fall back
below N. Every wait is bounded; the replica's transaction is bounded by
pg_sleep and by the test's cleanup.
"""

import os
import subprocess
import sys
import time

from harness import (PGCLUSTER, Cluster, Exporter, descendants, log, run_tests,
                     wait_until)

ARGS = ["--poll.interval=1s", "--poll.timeout=2s", "--cluster=it"]
N = 300  # transactions the primary runs while the replica holds its snapshot
# Feedback reaches the primary at least every wal_receiver_status_interval
# (10 s by default), and whenever the replica's xmin changes.
FEEDBACK = 30
cluster = None
exporter = None

STANDBY = {"instance": "primary", "standby": "replica1"}
SLOT = {"instance": "primary", "slot": "replica1"}


def ages():
    m = exporter.scrape()
    return (m.get("pgrepl_standby_backend_xmin_age_xids", **STANDBY),
            m.get("pgrepl_slot_xmin_age_xids", **SLOT))


def stop(proc):
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


def test_feedback_is_on_and_the_horizon_is_young():
    """k8s-like settings: feedback on; both ages exported and small."""
    exporter.wait_metric("pgrepl_replica_hot_standby_feedback",
                         {"instance": "replica1"}, lambda v: v == 1, 10)
    wait_until(lambda: all(a is not None for a in ages()), FEEDBACK,
               what="the standby's and the slot's xmin ages")
    standby, slot = ages()
    log(f"idle ages: backend_xmin {standby}, slot xmin {slot}")
    assert 0 <= standby < N and 0 <= slot < N, (standby, slot)


def test_long_query_on_the_replica_holds_the_horizon():
    """A repeatable-read transaction on replica1 holds its snapshot; once
    the primary's backend_xmin for replica1 is the reader's xmin, N
    transactions on the primary raise both ages by at least N. Ending
    the transaction lets the horizon go: both fall below N again."""
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
        wait_until(lambda: cluster.sql(
            "primary", "SELECT backend_xmin FROM pg_stat_replication WHERE "
            "application_name = 'replica1'") == reader_xmin, FEEDBACK,
            what=f"replica1's feedback to hold xmin {reader_xmin}")
        # The exporter's next poll sees the held horizon.
        time.sleep(1.5)
        standby0, slot0 = ages()
        log(f"held at xmin {reader_xmin}: ages {standby0}, {slot0}")
        cluster.tool("psql", "primary", "-XAtq",
                     *(["-c", "SELECT txid_current()"] * N), timeout=60)

        def risen():
            standby, slot = ages()
            ok = (standby is not None and slot is not None and
                  standby >= standby0 + N and slot >= slot0 + N)
            return (standby, slot) if ok else None
        standby1, slot1 = wait_until(risen, 15, what=f"the ages to rise by {N}")
        log(f"after {N} transactions: backend_xmin age {standby0} -> "
            f"{standby1}, slot xmin age {slot0} -> {slot1}")
        # The horizon stays where the reader holds it.
        assert cluster.sql("primary", "SELECT backend_xmin FROM "
                           "pg_stat_replication WHERE application_name = "
                           "'replica1'") == reader_xmin
    finally:
        stop(reader)

    def released():
        standby, slot = ages()
        return (standby is not None and slot is not None and
                standby < N and slot < N)
    wait_until(released, FEEDBACK, what="the horizon to move on")
    log(f"released: ages {ages()}")


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
                test_long_query_on_the_replica_holds_the_horizon,
            ])


if __name__ == "__main__":
    sys.exit(main())
