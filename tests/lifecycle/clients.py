"""The lifecycle test's applications: a writer and a reader that use only the
router's two endpoints, as the applications use postgres-primary and
postgres-replica.

Writer: commits the heartbeat row (its commit time, epoch seconds, on the
primary's clock) about 20 times a second through the write endpoint, on one
connection that it reopens after any failure. Each attempt is recorded with
its duration, so a write that fails is known to have failed fast (or not).

Reader: about 25 times a second (8 threads), opens a connection to the read endpoint,
reads the heartbeat row with inet_server_port() and pg_is_in_recovery(),
and closes it (a new connection per read, so the router's balancing shows).
Its staleness is the newest heartbeat the writer had seen committed when
the read started, minus the one read (0 when the read is newer).

Everything runs on one machine, so the writer's and reader's clocks and the
servers' are the same clock.
"""

import collections
import threading
import time

import pq

Write = collections.namedtuple("Write", "t0 t1 ok port error")
Read = collections.namedtuple("Read", "t0 t1 ok port in_recovery staleness error")

WRITE_INTERVAL = 0.05  # 20 a second: the issue asks for at least 10
# 25 reads a second (the issue asks for at least 20) from 8 threads: a read
# on a fresh connection takes 20 ms on an idle 2-core machine and up to
# 500 ms while the heavy load saturates it, so fewer threads fall behind.
READERS = 8
READ_INTERVAL = READERS * 0.04

SETUP_SQL = """
CREATE ROLE {role} LOGIN PASSWORD '{password}';
CREATE TABLE lifecycle_heartbeat (
  id           int PRIMARY KEY,
  committed_at double precision NOT NULL
);
INSERT INTO lifecycle_heartbeat VALUES (1, extract(epoch FROM clock_timestamp()));
CREATE TABLE lifecycle_load (
  id      bigserial PRIMARY KEY,
  payload text NOT NULL
);
GRANT SELECT, UPDATE ON lifecycle_heartbeat TO {role};
GRANT INSERT ON lifecycle_load TO {role};
GRANT USAGE ON SEQUENCE lifecycle_load_id_seq TO {role};
"""
WRITE_SQL = ("UPDATE lifecycle_heartbeat"
             " SET committed_at = extract(epoch FROM clock_timestamp())"
             " WHERE id = 1 RETURNING committed_at, inet_server_port()")
READ_SQL = ("SELECT committed_at, inet_server_port(), pg_is_in_recovery()"
            " FROM lifecycle_heartbeat WHERE id = 1")
LOAD_SQL = "INSERT INTO lifecycle_load (payload) VALUES (md5(random()::text));\n"


def conninfo(port, role, password, name):
    return (f"host=127.0.0.1 port={port} user={role} dbname=postgres "
            f"password='{password}' connect_timeout=5 application_name={name} "
            "options='-c statement_timeout=5s'")


class Clients:
    def __init__(self, write_port, read_port, role, password):
        self._write = conninfo(write_port, role, password, "lifecycle-writer")
        self._read = conninfo(read_port, role, password, "lifecycle-reader")
        self.latest = None  # newest heartbeat known committed
        self.writes = []
        self.reads = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._writer, daemon=True)]
        self._threads += [threading.Thread(target=self._reader, args=(i,), daemon=True)
                          for i in range(READERS)]

    def __enter__(self):
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for t in self._threads:
            t.join(15)
        return False

    @staticmethod
    def _pace(next_at, interval):
        next_at += interval
        delay = next_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
            return next_at
        return time.monotonic()  # behind: go on at once, do not catch up

    def _writer(self):
        conn = None
        next_at = time.monotonic()
        while not self._stop.is_set():
            t0 = time.monotonic()
            try:
                if conn is None:
                    conn = pq.Connection(self._write)
                value, port = conn.query(WRITE_SQL)[0]
                value = float(value)
                if self.latest is None or value > self.latest:
                    self.latest = value
                self.writes.append(Write(t0, time.monotonic(), True, int(port), ""))
            except pq.PqError as e:
                self.writes.append(Write(t0, time.monotonic(), False, None,
                                         str(e).splitlines()[0] if str(e) else "?"))
                if conn is not None:
                    conn.close()
                    conn = None
            next_at = self._pace(next_at, WRITE_INTERVAL)
        if conn is not None:
            conn.close()

    def _reader(self, i):
        next_at = time.monotonic() + i * READ_INTERVAL / READERS
        time.sleep(i * READ_INTERVAL / READERS)
        while not self._stop.is_set():
            newest = self.latest
            t0 = time.monotonic()
            try:
                with pq.Connection(self._read) as conn:
                    value, port, recovery = conn.query(READ_SQL)[0]
                stale = 0.0
                if newest is not None:
                    stale = max(0.0, newest - float(value))
                self.reads.append(Read(t0, time.monotonic(), True, int(port),
                                       recovery == "t", stale, ""))
            except pq.PqError as e:
                self.reads.append(Read(t0, time.monotonic(), False, None, None,
                                       None, str(e).splitlines()[0] if str(e) else "?"))
            next_at = self._pace(next_at, READ_INTERVAL)

    def longest_read_gap(self, t0, t1):
        """The longest time within [t0, t1] in which no read succeeded."""
        done = sorted(r.t1 for r in list(self.reads) if r.ok and t0 <= r.t1 <= t1)
        marks = [t0, *done, t1]
        return max(b - a for a, b in zip(marks, marks[1:]))

    def first_write_ok(self, since, timeout):
        """Seconds from `since` to the first successful write started after
        it; None when none within timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for w in list(self.writes):
                if w.ok and w.t0 >= since:
                    return w.t1 - since
            time.sleep(0.05)
        return None
