"""Pipelined polls on a real 1 primary + 2 replica PostgreSQL 15 cluster:
one round trip per poll in steady state (pgrepl_poll_round_trips), and
the server's own log shows each statement parsed once per session and
executed by name afterwards (the role's on every poll, the counters' on
full polls only), parsed again after a reconnect. A statement that fails
in the batch fails only its collector: the ones after it, aborted with
it, are sent again.

The monitoring role gets log_min_duration_statement = 0 for the test
(ALTER ROLE, reset at the end), so each server logs the exporter's
Parse ("parse pgrepl_N: ...") and Execute ("execute pgrepl_N: ...")
messages and its simple queries ("statement: ...") with its
application_name in the line prefix.
"""

import collections
import os
import re
import sys
import time

from harness import Cluster, Exporter, log, run_tests, wait_until

ARGS = ["--poll.interval=1s", "--poll.timeout=2s", "--cluster=it"]
APP = "pgrepl_exporter"
cluster = None

PARSE = re.compile(r"\bparse (pgrepl_\d+): (.*)$")
EXECUTE = re.compile(r"\bexecute (pgrepl_\d+): (.*)$")
SIMPLE = re.compile(r"\bstatement: (.*)$")


def log_path(name):
    return os.path.join(cluster.dir, f"{name}.log")


def log_size(name):
    return os.path.getsize(log_path(name))


def exporter_lines(name, since):
    """The exporter's log lines on `name`'s server after byte `since`."""
    with open(log_path(name), errors="replace") as f:
        f.seek(since)
        return [line.rstrip("\n") for line in f if f" {APP} " in line]


def count(lines, pattern):
    """{statement name: times} of the lines matching `pattern`."""
    c = collections.Counter()
    for line in lines:
        m = pattern.search(line)
        if m:
            c[m.group(1)] += 1
    return c


def backend_pid(name):
    return cluster.sql(name, "SELECT pid FROM pg_stat_activity "
                             f"WHERE application_name = '{APP}' "
                             "AND backend_type = 'client backend'")


def test_one_round_trip_and_one_parse_per_statement_and_session():
    user = cluster.info["monitor_user"]
    cluster.sql("primary", f"ALTER ROLE {user} SET log_min_duration_statement = 0")
    try:
        # The role setting replicates; wait until every replica has it.
        for name in cluster.names():
            wait_until(lambda: cluster.sql(
                name, "SELECT count(*) FROM pg_db_role_setting s "
                      "JOIN pg_roles r ON r.oid = s.setrole "
                      f"WHERE r.rolname = '{user}'") == "1",
                15, what=f"role setting on {name}")
        since = {name: log_size(name) for name in cluster.names()}
        with Exporter(cluster.config(), ARGS, password=cluster.password()) as e:
            for name in cluster.names():
                e.wait_metric("pgrepl_up", {"instance": name},
                              lambda v: v == 1, 15)
            time.sleep(4)  # a few steady-state polls
            totals = {}
            for _ in range(3):
                m = e.scrape()
                for name in cluster.names():
                    assert m.get("pgrepl_poll_round_trips", instance=name) == 1, \
                        (name, m.get("pgrepl_poll_round_trips", instance=name))
                    totals.setdefault(name, []).append(
                        m.get("pgrepl_poll_round_trips_total", instance=name))
                time.sleep(1.1)
            for name, seen in totals.items():
                assert seen[-1] > seen[0], (name, seen)
            polls = 5  # at least, since the exporter started
            # Every collector's statements are declared for both roles, so
            # every instance prepares the same set: one per statement.
            prepared = {}
            for name in cluster.names():
                lines = exporter_lines(name, since[name])
                parses = count(lines, PARSE)
                executes = count(lines, EXECUTE)
                simple = [l for l in lines if SIMPLE.search(l)]
                log(f"{name}: parsed {dict(parses)}, executed "
                    f"{dict(executes)}, {len(simple)} simple queries")
                # Each declared statement (role, receiver and its settings,
                # standbys, slots, and the other collectors'): parsed exactly
                # once in this session, run by name since.
                assert len(parses) >= 5, (name, parses)
                prepared[name] = len(parses)
                assert set(parses.values()) == {1}, (name, parses)
                for stmt in parses:
                    assert executes[stmt] >= 1, (name, stmt, executes)
                for stmt in parses:
                    if executes[stmt] > 1:
                        break
                else:
                    raise AssertionError(f"{name}: nothing executed twice")
                # Every poll: the role and positions (2 statements on a
                # replica that keeps up, 3 on a primary). Full polls only
                # (the first, then every 30th): the rest, among them the
                # counters, run once in these few seconds.
                every = [s for s, n in executes.items() if n >= polls]
                assert len(every) >= 2, (name, executes)
                once = [s for s, n in executes.items() if n == 1]
                assert len(once) >= 4, (name, executes)
                # Simple queries only at connect: the session settings and
                # the identity check.
                assert len(simple) == 2, (name, simple)
            assert len(set(prepared.values())) == 1, prepared

            # A new session prepares everything again.
            victim = "replica1"
            pid = backend_pid(victim)
            before = log_size(victim)
            cluster.sql(victim, f"SELECT pg_terminate_backend({pid})")
            wait_until(lambda: backend_pid(victim) not in ("", pid), 15,
                       what="a new session on replica1")
            e.wait_metric("pgrepl_connections_opened_total",
                          {"instance": victim}, lambda v: v == 2, 15)
            time.sleep(3)
            lines = exporter_lines(victim, before)
            parses = count(lines, PARSE)
            assert len(parses) == prepared[victim], (prepared, parses)
            assert set(parses.values()) == {1}, parses
            e.wait_metric("pgrepl_poll_round_trips", {"instance": victim},
                          lambda v: v == 1, 10)
    finally:
        cluster.sql("primary", f"ALTER ROLE {user} RESET log_min_duration_statement")


def test_a_failing_statement_fails_only_its_collector():
    # The walsenders' function, revoked: the primary's pg_stat_replication
    # statements fail on every poll, and abort the statements sent after
    # them in the same pipeline (the slots' among them); those go again.
    fn = "pg_stat_get_wal_senders()"
    cluster.sql("primary", f"REVOKE EXECUTE ON FUNCTION {fn} FROM PUBLIC")
    try:
        with Exporter(cluster.config(), ARGS, password=cluster.password()) as e:
            e.wait_metric("pgrepl_up", {"instance": "primary"},
                          lambda v: v == 1, 15)
            time.sleep(3)
            m = e.scrape()
            ok = {c: m.get("pgrepl_collector_success", instance="primary",
                           collector=c)
                  for c in ("pg_is_in_recovery", "pg_stat_replication",
                            "pg_replication_slots")}
            assert ok == {"pg_is_in_recovery": 1, "pg_stat_replication": 0,
                          "pg_replication_slots": 1}, ok
            # The slots were read all the same: one series per replica.
            slots = m.all("pgrepl_slot_active", instance="primary")
            assert len(slots) == 2, slots
            # Between full polls the positions' statement fails and
            # aborts the statements after it, which go out again: two round
            # trips (three on a full poll, whose view statement calls the
            # same function and fails too).
            e.wait_metric("pgrepl_poll_round_trips", {"instance": "primary"},
                          lambda v: v == 2, 10)
            assert "permission denied" in e.get("/status")[1], "status page"
    finally:
        cluster.sql("primary", f"GRANT EXECUTE ON FUNCTION {fn} TO PUBLIC")


def main():
    global cluster
    with Cluster(replicas=2) as c:
        cluster = c
        return run_tests([
            test_one_round_trip_and_one_parse_per_statement_and_session,
            test_a_failing_statement_fails_only_its_collector,
        ])


if __name__ == "__main__":
    sys.exit(main())
