"""Replica discovery through DNS, re-resolved every poll cycle, and DNS that
never answers.

The exporter runs in a private mount namespace (unshare -m, then bind
mounts) with an /etc/hosts and an /etc/resolv.conf of the test's own, so no
system file changes:

- /etc/hosts: pgrepl-replicas.test resolves to 127.0.0.1, whose reverse name
  is replica1.pgrepl-replicas.test: the discovered instance is "replica1".
  Editing the file in place makes the name vanish, move to another address
  and come back. The primary is configured by a host name from the file.
- /etc/resolv.conf names one DNS server: a UDP socket of this test on
  127.0.0.x:53 (FakeDns) that answers NXDOMAIN, except for the names the
  test makes hang: their queries are taken and never answered, so their
  lookups hang in getaddrinfo for resolv.conf's timeout (DNS_TIMEOUT,
  several poll intervals). One static target is such a name from the
  start; the discovery name hangs while a test removes it from the hosts
  file and marks it hung.

When this machine cannot make the namespace (or, not as root, bind port 53)
the test exits with SKIP, which ctest reports as skipped: never a pass.
"""

import datetime
import json
import os
import shutil
import socket
import struct
import sys
import tempfile
import threading
import time

from harness import (Cluster, Exporter, Metrics, log, mount_namespace,
                     run_tests, wait_until, with_private_hosts)

NAME = "pgrepl-replicas.test"
PRIMARY_NAME = "pgrepl-primary.test"  # in /etc/hosts: resolved at once
HUNG_NAME = "pgrepl-hung.test"  # never in /etc/hosts: every lookup hangs
MOVED_ADDRESS = "127.0.0.3"  # where NAME moves; replica2 answers there
INTERVAL = 1.0  # --poll.interval
POLL_TIMEOUT = 2.0  # --poll.timeout and --pg.connect-timeout
DNS_TIMEOUT = 8  # resolv.conf: one hung getaddrinfo lasts this long
SLACK = 1.5  # seconds of scheduling delay a loaded 2-core machine may add
SCRAPE_LIMIT = 1.0  # a scrape during the DNS hang must answer within this
SKIP = 77  # SKIP_RETURN_CODE of the integration tests (tests/CMakeLists.txt)
state = {}


def write_hosts(address="127.0.0.1"):
    """NAME at `address` (None: absent). In place (same inode), so the bind
    mount sees the change. NAME's line comes first: the reverse lookup of
    127.0.0.1 answers with the first line that has it."""
    with open(state["hosts"], "w") as f:
        f.write("127.0.0.2 unrelated.test\n")
        if address:
            f.write(f"{address} replica1.{NAME} {NAME}\n")
        f.write(f"127.0.0.1 {PRIMARY_NAME}\n")


class BackgroundServer:
    """A serving loop on a daemon thread: started by `with`, stopped (the
    loop sees `stopping`) and closed (`_close`) on exit."""

    def _start_thread(self, loop):
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=loop, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        self.thread.join(5)
        self._close()
        return False


class FakeDns(BackgroundServer):
    """A DNS server on 127.0.0.x:53 that answers NXDOMAIN to every query,
    except that it takes the queries for the names in `hung` (a set the
    test may change) and never answers them."""

    def __init__(self, hung):
        self.sock = None
        for last in range(153, 163):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                s.bind((f"127.0.0.{last}", 53))
            except PermissionError:
                s.close()
                raise
            except OSError:
                s.close()
                continue
            self.sock, self.address = s, f"127.0.0.{last}"
            break
        if self.sock is None:
            raise AssertionError("no free 127.0.0.153-162 port 53 for the "
                                 "fake DNS server")
        self.sock.settimeout(0.2)
        self.lock = threading.Lock()
        self.hung = set(hung)  # GUARDED_BY(lock)
        self.dropped = 0  # GUARDED_BY(lock)
        self._start_thread(self._serve)

    def _close(self):
        self.sock.close()

    def set_hung(self, name, hung):
        with self.lock:
            (self.hung.add if hung else self.hung.discard)(name)

    def dropped_queries(self):
        with self.lock:
            return self.dropped

    @staticmethod
    def _question(query):
        """(name, end of the question section) of a DNS query."""
        labels, i = [], 12
        while query[i] != 0:
            labels.append(query[i + 1:i + 1 + query[i]].decode("ascii", "replace"))
            i += 1 + query[i]
        return ".".join(labels).lower(), i + 1 + 4  # root label, type, class

    def _serve(self):
        while not self.stopping.is_set():
            try:
                query, peer = self.sock.recvfrom(4096)
                name, end = self._question(query)
            except socket.timeout:
                continue
            except (IndexError, ValueError):
                continue  # not a query we understand: no answer
            except OSError:
                return
            with self.lock:
                if name in self.hung:
                    self.dropped += 1
                    continue
            # NXDOMAIN: the query's id and question, QR, RD as asked, RA,
            # RCODE 3; no answer, authority or additional records.
            rd = struct.unpack(">H", query[2:4])[0] & 0x0100
            reply = (query[:2] + struct.pack(">HHHHH", 0x8080 | rd | 3, 1,
                                             0, 0, 0) + query[12:end])
            try:
                self.sock.sendto(reply, peer)
            except OSError:
                pass


class Forwarder(BackgroundServer):
    """A TCP forwarder from `listen` to `target` (host, port pairs): a
    second server behind the address the discovery name moves to."""

    def __init__(self, listen, target):
        self.target = target
        self.listener = socket.create_server(listen)
        self.listener.settimeout(0.2)
        self.lock = threading.Lock()
        self.sockets = []
        self.accepted = 0
        self._start_thread(self._accept)

    def _close(self):
        self.listener.close()
        with self.lock:
            for s in self.sockets:
                s.close()

    def _accept(self):
        while not self.stopping.is_set():
            try:
                client, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, 5)
            except OSError:
                client.close()
                continue
            client.settimeout(None)
            upstream.settimeout(None)
            with self.lock:
                self.accepted += 1
                self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b),
                                 daemon=True).start()

    @staticmethod
    def _pump(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def log_records(msg, level=None, cluster=None):
    """The exporter's JSON log records with message `msg`."""
    out = []
    for line in state["exporter"].log().splitlines():
        try:
            r = json.loads(line)
        except ValueError:
            continue  # not a record (e.g. the wrapper's own output)
        if (r.get("msg") == msg and (level is None or r.get("level") == level)
                and (cluster is None or r.get("cluster") == cluster)):
            out.append(r)
    return out


def receiver_slot(m, instance):
    """The slot label of the instance's WAL receiver, None without one."""
    for labels in m.all("pgrepl_wal_receiver_info", instance=instance):
        return dict(labels)["slot"]
    return None


def test_discovered_replica_is_polled():
    e = state["exporter"]
    want = [
        ("pgrepl_up", {"instance": "primary"}, 1),
        ("pgrepl_up", {"instance": "replica1"}, 1),
        ("pgrepl_discovered_replicas", {"cluster": "disc"}, 1),
        ("pgrepl_role", {"instance": "replica1", "role": "replica"}, 1),
        ("pgrepl_standby_connected", {"instance": "primary", "standby": "replica1"}, 1),
        # replica2 is not discovered, but its slot makes it expected.
        ("pgrepl_standby_connected", {"instance": "primary", "standby": "replica2"}, 1),
        ("pgrepl_cluster_replicas_expected", {"cluster": "disc"}, 1),
    ]

    def wrong():
        m = e.scrape()
        return [(n, l, m.get(n, **l)) for n, l, v in want if m.get(n, **l) != v]
    last = []

    def ok():
        last[:] = wrong()
        return not last
    try:
        wait_until(ok, 20, what="discovered replica metrics")
    except AssertionError as err:
        raise AssertionError(f"{err}: still wrong {last}") from None


def test_name_vanishes_and_returns():
    e = state["exporter"]
    write_hosts(None)
    wait_until(lambda: e.scrape().get("pgrepl_up", instance="replica1") is None,
               10, what="replica1 series to disappear")
    assert e.scrape().get("pgrepl_discovered_replicas", cluster="disc") == 0
    write_hosts()
    e.wait_metric("pgrepl_up", {"instance": "replica1"}, lambda v: v == 1, 15)
    assert e.proc.poll() is None


def follow_move(fwd, opened):
    """Moves NAME to MOVED_ADDRESS and checks that replica1 follows."""
    e = state["exporter"]
    moved = time.monotonic()
    write_hosts(MOVED_ADDRESS)
    wait_until(lambda: receiver_slot(e.scrape(), "replica1") == "replica2",
               2 * INTERVAL + 2 * SLACK + 2,
               what="replica1's series to come from the new address")
    took = time.monotonic() - moved
    log(f"followed the move in {took:.2f}s (discovery every {INTERVAL}s; "
        f"the moved poller polls the new address at once)")
    # One discovery cycle (the poller is woken by the move), plus slack.
    assert took <= INTERVAL + SLACK, took
    m = e.scrape()
    assert m.get("pgrepl_up", instance="replica1") == 1
    assert m.get("pgrepl_connections_opened_total",
                 instance="replica1") == opened + 1
    assert m.get("pgrepl_discovered_replicas", cluster="disc") == 1
    assert fwd.accepted >= 1, "nothing connected to the new address"
    records = log_records("discovered replica moved", cluster="disc")
    assert [(r.get("from"), r.get("address")) for r in records] == [
        ("127.0.0.1", MOVED_ADDRESS)], records
    # It stays there: no second reconnect, the counter not reset.
    time.sleep(3 * INTERVAL)
    m = e.scrape()
    assert receiver_slot(m, "replica1") == "replica2"
    assert m.get("pgrepl_connections_opened_total",
                 instance="replica1") == opened + 1


def test_name_moves_to_another_address():
    """Issue 13, defect 1: a name that moves to another address in one step
    (a restarted pod) is followed within a poll cycle, by a reconnect that
    pgrepl_connections_opened_total counts, and the data comes from the
    server behind the new address: replica2, whose WAL receiver uses slot
    replica2, behind a forwarder on MOVED_ADDRESS."""
    e, c = state["exporter"], state["cluster"]
    wait_until(lambda: receiver_slot(e.scrape(), "replica1") == "replica1",
               15, what="replica1 polled at 127.0.0.1")
    time.sleep(2 * INTERVAL)  # any reconnect of the previous test is done
    opened = e.scrape().get("pgrepl_connections_opened_total",
                            instance="replica1")
    assert opened is not None and opened >= 1, opened
    with Forwarder((MOVED_ADDRESS, c.port("replica1")),
                   ("127.0.0.1", c.port("replica2"))) as fwd:
        try:
            follow_move(fwd, opened)
        finally:
            write_hosts()  # back, before the forwarder goes away
        wait_until(lambda: receiver_slot(e.scrape(), "replica1") == "replica1",
                   2 * INTERVAL + 2 * SLACK + 2, what="the move back")
    assert e.scrape().get("pgrepl_connections_opened_total",
                          instance="replica1") == opened + 2


def test_name_moves_to_another_database_cluster():
    """Issue 13, defect 1, the server behind the name: when the name moves
    to an address where another database cluster answers (an IP reused by
    an unrelated PostgreSQL), with the same monitoring login, the exporter
    refuses it (its system identifier differs) and reports the instance
    down with the reason, rather than the other server's data under
    replica1's name. Moving back brings replica1 up again."""
    e, c = state["exporter"], state["cluster"]
    wait_until(lambda: receiver_slot(e.scrape(), "replica1") == "replica1",
               15, what="replica1 polled at 127.0.0.1")
    with Cluster(replicas=1) as other:
        other.sql("primary", f"ALTER ROLE pgrepl_monitor PASSWORD "
                             f"'{c.password()}'")
        ids = {x.sql("primary", "SELECT system_identifier FROM "
                                "pg_control_system()") for x in (c, other)}
        assert len(ids) == 2, ids
        with Forwarder((MOVED_ADDRESS, c.port("replica1")),
                       ("127.0.0.1", other.port("replica1"))) as fwd:
            try:
                write_hosts(MOVED_ADDRESS)
                wait_until(lambda: e.scrape().get(
                    "pgrepl_up", instance="replica1") == 0,
                    2 * INTERVAL + 2 * SLACK + 2,
                    what="replica1 down behind the other cluster")
                err = instance_status("replica1")["last_error"]
                log(f"replica1 behind another cluster: {err}")
                assert "a different database cluster" in err, err
                assert fwd.accepted >= 1, "nothing connected to the new address"
                m = e.scrape()
                # Still replica1's own last slot, never the other's data.
                assert receiver_slot(m, "replica1") in (None, "replica1"), m
            finally:
                write_hosts()
            wait_until(lambda: e.scrape().get(
                "pgrepl_up", instance="replica1") == 1,
                2 * INTERVAL + 2 * SLACK + 6, what="replica1 back up")


def instance_status(name):
    """The instance's entry in /status."""
    status, body, _ = state["exporter"].get("/status")
    assert status == 200, status
    for cluster in json.loads(body)["clusters"]:
        for instance in cluster["instances"]:
            if instance["name"] == name:
                return instance
    raise AssertionError(f"{name} not in /status")


def seconds_of(timestamp):
    """/status's "2026-01-02T03:04:05.678Z" as Unix seconds."""
    return datetime.datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%S.%fZ") \
        .replace(tzinfo=datetime.timezone.utc).timestamp()


def test_static_target_named_by_a_hung_name():
    """Issue 13, defect 5: a static target whose host name hangs in DNS
    fails each connect within --poll.timeout, as kind "timeout" (libpq
    would block inside PQconnectStartParams for the resolver's whole
    DNS_TIMEOUT), and the other targets keep their cadence."""
    e = state["exporter"]
    timeouts0 = e.scrape().get("pgrepl_poll_errors_total", instance="byname",
                               kind="timeout") or 0
    starts, errors, ages = set(), set(), []
    # Long enough for one hung lookup to end and the next to be waited on.
    window = DNS_TIMEOUT + 3 * POLL_TIMEOUT
    end = time.monotonic() + window
    while time.monotonic() < end:
        byname = instance_status("byname")
        assert byname["up"] is False, byname
        starts.add(byname["last_poll"])  # when the latest poll began
        errors.add(byname["last_error"])
        m = e.scrape()
        for instance in ("primary", "replica1"):
            ages.append(m.get("pgrepl_last_poll_success_age_seconds",
                              instance=instance))
        time.sleep(0.1)
    m = e.scrape()
    timeouts = m.get("pgrepl_poll_errors_total", instance="byname",
                     kind="timeout") or 0
    times = sorted(seconds_of(t) for t in starts if t)
    gaps = [b - a for a, b in zip(times, times[1:])]
    log(f"hung-name target: {timeouts - timeouts0:.0f} timeouts in "
        f"{window:.0f}s, {len(times)} polls seen, longest gap between poll "
        f"starts {max(gaps):.2f}s; other targets' success age up to "
        f"{max(ages):.2f}s")
    assert timeouts - timeouts0 >= 2, (timeouts0, timeouts)
    # A lookup that hangs is a timeout, never a connect error.
    assert (m.get("pgrepl_poll_errors_total", instance="byname",
                  kind="connect") or 0) == 0
    assert errors <= {"timeout: resolving pgrepl-hung.test timed out",
                      "timeout: resolving pgrepl-hung.test timed out: the "
                      "previous lookup still runs"}, errors
    # The poller goes on: a poll that waits on the hung lookup ends at
    # --poll.timeout, and the next starts at once (the one after that, a
    # poll interval later), never after the resolver's DNS_TIMEOUT. At
    # least one poll did wait on a lookup, to its deadline.
    assert len(times) >= window / (INTERVAL + POLL_TIMEOUT), times
    assert max(gaps) <= INTERVAL + POLL_TIMEOUT + SLACK, gaps
    assert max(gaps) >= POLL_TIMEOUT - 0.25, gaps
    assert None not in ages and max(ages) <= INTERVAL + SLACK, ages
    assert state["dns"].dropped_queries() > 0, "no lookup reached the DNS"


def hang_discovery(seconds):
    """Removes NAME from /etc/hosts for `seconds`, so every discovery
    lookup hangs in DNS, scraping all along. Returns the figures."""
    e = state["exporter"]
    latencies, ages, success_times = [], [], set()
    state["dns"].set_hung(NAME, True)
    write_hosts(None)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        status, body, took = e.get("/metrics")
        assert status == 200, status
        latencies.append(took)
        m = Metrics(body)
        for instance in ("primary", "replica1"):
            ages.append(m.get("pgrepl_last_poll_success_age_seconds",
                              instance=instance))
        success_times.add(m.get("pgrepl_last_poll_success_timestamp_seconds",
                                instance="primary"))
        # The previous replica set is kept while DNS fails.
        assert m.get("pgrepl_discovered_replicas", cluster="disc") == 1
        assert m.get("pgrepl_up", instance="replica1") == 1
        time.sleep(0.2)
    return latencies, ages, success_times


def test_hung_resolver_stalls_neither_polls_nor_scrapes():
    """Issue 13, defect 5: while every discovery lookup hangs, the polls
    keep their cadence, /metrics stays fast, the previous replica set is
    kept and discovery errors are counted every cycle."""
    e, dns = state["exporter"], state["dns"]
    errors0 = e.scrape().get("pgrepl_discovery_errors_total", cluster="disc")
    recovered0 = len(log_records("discovery recovered", cluster="disc"))
    queries0 = dns.dropped_queries()

    hang = DNS_TIMEOUT + 2
    latencies, ages, success_times = hang_discovery(hang)
    errors1 = e.scrape().get("pgrepl_discovery_errors_total", cluster="disc")
    latencies.sort()
    log(f"DNS hang of {hang}s: {len(latencies)} scrapes, latency median "
        f"{latencies[len(latencies) // 2] * 1000:.1f} ms, max "
        f"{latencies[-1] * 1000:.1f} ms; success age up to {max(ages):.2f}s; "
        f"primary polled {len(success_times)} times; discovery errors "
        f"{errors0:.0f} -> {errors1:.0f}; DNS queries "
        f"dropped {dns.dropped_queries() - queries0}")
    assert latencies[-1] < SCRAPE_LIMIT, latencies[-1]
    assert None not in ages and max(ages) <= INTERVAL + SLACK, ages
    assert len(success_times) >= hang / INTERVAL / 2, success_times
    # An error every discovery cycle (an interval plus a lookup bounded by
    # one), not one per resolver timeout.
    assert errors1 - errors0 >= hang / (2 * INTERVAL + SLACK), (errors0,
                                                              errors1)
    assert dns.dropped_queries() > queries0, "discovery never reached the DNS"

    # The name comes back: discovery recovers once the hung lookup ends.
    end_outage(recovered0 + 1)


def end_outage(recovered):
    """Puts NAME back and waits for the `recovered`th recovery (a hung
    lookup still running holds it up to DNS_TIMEOUT)."""
    write_hosts()
    state["dns"].set_hung(NAME, False)
    wait_until(lambda: len(log_records("discovery recovered",
                                       cluster="disc")) == recovered,
               DNS_TIMEOUT + 2 * INTERVAL + 2 * SLACK, what="recovery")
    state["exporter"].wait_metric("pgrepl_up", {"instance": "replica1"},
                                  lambda v: v == 1, 5)


def test_discovery_failures_warn_once_per_outage():
    """Issue 13, defect 9: pgrepl_discovery_errors_total counts every failed
    discovery; the log has one warning per outage (the repeats at debug
    level, and one info line when it recovers), not one per poll cycle."""
    e, dns = state["exporter"], state["dns"]
    errors0 = e.scrape().get("pgrepl_discovery_errors_total", cluster="disc")
    failed0 = len(log_records("discovery failed", cluster="disc"))
    warned0 = len(log_records("discovery failed", "warn", "disc"))
    recovered0 = len(log_records("discovery recovered", cluster="disc"))
    for outage in (1, 2):
        before = e.scrape().get("pgrepl_discovery_errors_total",
                                cluster="disc")
        dns.set_hung(NAME, True)
        write_hosts(None)
        e.wait_metric("pgrepl_discovery_errors_total", {"cluster": "disc"},
                      lambda v: v >= before + 3, 3 * (2 * INTERVAL + SLACK))
        end_outage(recovered0 + outage)
    errors = e.scrape().get("pgrepl_discovery_errors_total",
                            cluster="disc") - errors0
    failed = log_records("discovery failed", cluster="disc")[failed0:]
    warned = log_records("discovery failed", "warn", "disc")[warned0:]
    log(f"two outages: {errors:.0f} discovery errors, {len(failed)} logged, "
        f"{len(warned)} of them warnings")
    assert errors >= 6, errors
    assert len(failed) == errors, (len(failed), errors)  # debug level too
    assert len(warned) == 2, warned
    assert all("timed out" in r.get("err", "") for r in warned), warned


def main():
    unshare = mount_namespace()
    if unshare is None:
        print("SKIPPED: cannot create a mount namespace (unshare -m) here")
        return SKIP
    try:
        dns = FakeDns(hung={HUNG_NAME})
    except PermissionError:
        print("SKIPPED: binding 127.0.0.x port 53 (the silent DNS server) "
              "needs root")
        return SKIP
    with dns, Cluster(replicas=2) as c:
        tmp = tempfile.mkdtemp(prefix="pgrepl-hosts-")
        state["hosts"] = os.path.join(tmp, "hosts")
        state["dns"] = dns
        state["cluster"] = c
        write_hosts()
        resolv = os.path.join(tmp, "resolv.conf")
        with open(resolv, "w") as f:
            f.write(f"nameserver {dns.address}\n"
                    f"options timeout:{DNS_TIMEOUT} attempts:1\n")
        user = "user=pgrepl_monitor dbname=postgres"
        config = {"clusters": [
            {"name": "disc",
             "primary": {"name": "primary", "conninfo":
                         f"host={PRIMARY_NAME} port={c.port('primary')} {user}"},
             "replica_discovery": {"host": NAME, "port": c.port("replica1"),
                                   "conninfo": user}},
            {"name": "hung",
             "replicas": [{"name": "byname", "conninfo":
                           f"host={HUNG_NAME} port={c.port('replica2')} "
                           f"{user}"}]},
        ]}
        e = Exporter(config, [f"--poll.interval={INTERVAL:g}s",
                              f"--poll.timeout={POLL_TIMEOUT:g}s",
                              f"--pg.connect-timeout={POLL_TIMEOUT:g}s",
                              f"--pg.reconnect-backoff-max={POLL_TIMEOUT:g}s",
                              "--log.format=json", "--log.level=debug"],
                     password=c.password())
        e.command = with_private_hosts(unshare, state["hosts"], tmp, resolv)
        try:
            with e:
                state["exporter"] = e
                rc = run_tests([
                    test_discovered_replica_is_polled,
                    test_name_vanishes_and_returns,
                    test_name_moves_to_another_address,
                    test_name_moves_to_another_database_cluster,
                    test_static_target_named_by_a_hung_name,
                    test_hung_resolver_stalls_neither_polls_nor_scrapes,
                    test_discovery_failures_warn_once_per_outage])
                if rc:
                    sys.stdout.write("---- exporter log (tail) ----\n")
                    sys.stdout.write("\n".join(e.log().splitlines()[-60:]))
                    sys.stdout.write("\n")
                return rc
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
