"""Fault and soak test: the exporter against a real 1 primary + 2 replica
cluster for at least PGREPL_SOAK_SECONDS (default 180) while faults cycle,
under a bounded load of scrapers and health checks.

Faults, in a loop until the time is up (each cycle runs to its end):
  1. stop / start replica1;
  2. freeze / thaw replica1 (SIGSTOP: the poll times out);
  3. restart the primary;
  4. pg_terminate_backend() of the exporter's own sessions on every instance;
  5. DNS: replica2 is found through replica_discovery; its name vanishes
     from the exporter's hosts file and comes back (a private mount
     namespace with a bind-mounted hosts file, as in
     tests/integration/test_discovery.py, and an nsswitch.conf of
     "hosts: files", so a vanished name is NXDOMAIN at once whatever the
     machine's DNS does). Without a mount namespace, replica2 is
     configured statically, the other faults run, and the test exits 77
     (SKIP_RETURN_CODE: ctest reports it skipped, never passed) unless
     something else failed.

Load, all the time: 4 threads each GET /metrics every 100 ms over a
keep-alive connection, and one thread cycling through /healthz, /ready,
/replica?instance=replica1 and /replica?instance=replica2.

Asserted:
  - no failed or slow response: every response within SLOW_S (1.5 s); no
    connection error, timeout or 5xx, except the documented 503 of
    /replica; /metrics, /healthz and /ready always 200;
  - no Nagle/delayed-ACK stall on keep-alive /metrics: the fastest quarter
    of the scrapes under 20 ms (a stall costs each request it hits 40 ms);
  - every fault visible in the metrics (up 0 while stopped, timeout errors
    while frozen, no primary while it restarts, connections_opened_total
    rising after terminate, discovered_replicas 0 while DNS fails);
  - every instance back to up=1 after each fault, with the same process;
  - open fds and pg_stat_activity sessions back to their baseline;
  - RSS within baseline + 8 MiB;
  - the process never exits.
"""

import http.client
import os
import shutil
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "integration"))

from harness import (Cluster, Exporter, Metrics, log,  # noqa: E402
                     mount_namespace, run_tests, wait_until, with_private_hosts)

SOAK_SECONDS = float(os.environ.get("PGREPL_SOAK_SECONDS", "180"))
# A response slower than this fails. What it guards against: a request
# waiting on a poll. The frozen replica's polls and reconnects hang for up
# to the 2 s poll timeout, over and over during each freeze, and the load
# sends about 40 requests a second, so such a wait would put many
# responses between 1.5 and 2 s. Scheduling delay on this shared 2-core
# machine lifts single responses (a run at load average 6.5 had its
# slowest of 9005 at 30 ms), hence the half second between this bound
# and the poll timeout.
SLOW_S = 1.5
RSS_SLACK_KIB = 8 * 1024
# A Nagle/delayed-ACK stall adds at least 40 ms (Linux's minimum delayed-
# ACK time) to every keep-alive request it hits; load can delay requests
# but cannot make them faster, so the fastest quarter shows the floor: it
# must be under half a stall. (The p50 figure itself, about 1-3 ms, is
# bench/bench.py's; docs/BENCHMARKS.md tells how the stall was found.)
NAGLE_QUANTILE = 25
NAGLE_LIMIT_S = 0.020
DNS_NAME = "pgrepl-soak.test"
SKIP = 77  # SKIP_RETURN_CODE of soak.test_soak (tests/CMakeLists.txt)
state = {}


# ------------------------------------------------------------ helpers

def percentile(values, q):
    s = sorted(values)
    if not s:
        return 0.0
    return s[min(len(s) - 1, int(round((len(s) - 1) * q / 100.0)))]


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def write_hosts(present):
    # In place (same inode), so the bind mount sees the change.
    with open(state["hosts"], "w") as f:
        f.write("127.0.0.2 unrelated.test\n")
        if present:
            f.write(f"127.0.0.1 replica2.{DNS_NAME} {DNS_NAME}\n")


class Recorder:
    """Every HTTP response of the load threads: time, status, failures."""

    def __init__(self):
        self.lock = threading.Lock()
        self.times = {}      # endpoint -> [seconds]
        self.failures = []   # (time, endpoint, what)
        self.statuses = {}   # (endpoint, status) -> count

    def add(self, endpoint, status, seconds, allowed):
        with self.lock:
            self.times.setdefault(endpoint, []).append(seconds)
            self.statuses[(endpoint, status)] = self.statuses.get((endpoint, status), 0) + 1
            if status not in allowed:
                self.failures.append((time.strftime("%H:%M:%S"), endpoint,
                                      f"status {status}"))
            elif seconds > SLOW_S:
                self.failures.append((time.strftime("%H:%M:%S"), endpoint,
                                      f"slow: {seconds:.2f}s"))


def timed_get(conn, path):
    """(status or error text, seconds) over an http.client connection."""
    t0 = time.monotonic()
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        r.read()
        return r.status, time.monotonic() - t0
    except (OSError, http.client.HTTPException) as e:
        conn.close()
        return f"{type(e).__name__}: {e}", time.monotonic() - t0


def scraper(port, rec, stop):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    while not stop.is_set():
        t0 = time.monotonic()
        status, dt = timed_get(conn, "/metrics")
        rec.add("/metrics", status, dt, (200,))
        stop.wait(max(0.0, 0.1 - (time.monotonic() - t0)))
    conn.close()


def health_checker(port, rec, stop):
    paths = [("/healthz", (200,)), ("/ready", (200,)),
             ("/replica?instance=replica1", (200, 503)),
             ("/replica?instance=replica2", (200, 503))]
    i = 0
    while not stop.is_set():
        path, allowed = paths[i % len(paths)]
        i += 1
        # A new connection per check, as a load balancer's probe does.
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        status, dt = timed_get(conn, path)
        conn.close()
        rec.add(path, status, dt, allowed)
        stop.wait(0.25)


# ------------------------------------------------------------ faults

def scrape():
    return state["exporter"].scrape()


def value(name, **labels):
    return scrape().get(name, cluster="soak", **labels)


def wait_value(name, labels, predicate, timeout, what):
    return wait_until(lambda: predicate(value(name, **labels)), timeout,
                      interval=0.1, what=what)


def all_up(timeout, what):
    names = state["names"]
    wait_until(lambda: all(value("pgrepl_up", instance=n) == 1 for n in names),
               timeout, interval=0.2, what=what)


def fault_stop_replica(c):
    c.tool("stop", "replica1")
    wait_value("pgrepl_up", {"instance": "replica1"}, lambda v: v == 0, 5,
               "replica1 up=0 after stop")
    time.sleep(2)
    c.tool("start", "replica1")
    all_up(20, "every instance up after replica1 restarted")


def fault_freeze_replica(c):
    before = value("pgrepl_poll_errors_total", instance="replica1", kind="timeout") or 0
    c.tool("freeze", "replica1")
    try:
        wait_value("pgrepl_poll_errors_total", {"instance": "replica1", "kind": "timeout"},
                   lambda v: (v or 0) > before, 8, "a timeout error while replica1 is frozen")
        wait_value("pgrepl_up", {"instance": "replica1"}, lambda v: v == 0, 8,
                   "replica1 up=0 while frozen")
        time.sleep(3)
    finally:
        c.tool("thaw", "replica1")
    all_up(20, "every instance up after the thaw")


def fault_restart_primary(c):
    c.tool("stop", "primary")
    try:
        wait_value("pgrepl_up", {"instance": "primary"}, lambda v: v == 0, 5,
                   "primary up=0 while stopped")
        wait_until(lambda: scrape().get("pgrepl_cluster_primaries", cluster="soak") == 0,
                   5, interval=0.1, what="pgrepl_cluster_primaries 0")
    finally:
        c.tool("start", "primary")
    all_up(20, "every instance up after the primary restarted")
    wait_until(lambda: all(value("pgrepl_wal_receiver_up", instance=r) == 1
                           for r in state["names"][1:]),
               30, interval=0.2, what="WAL receivers streaming again")


def fault_terminate_backends(c):
    names = state["names"]
    before = {n: value("pgrepl_connections_opened_total", instance=n) for n in names}
    for n in names:
        out = c.sql(n, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                       "WHERE application_name = 'pgrepl_exporter'")
        assert out == "1", f"{n}: terminated {out} exporter sessions, expected 1"
    for n in names:
        wait_value("pgrepl_connections_opened_total", {"instance": n},
                   lambda v, b=before[n]: v is not None and v > b, 15,
                   f"{n} reconnected after pg_terminate_backend")
    all_up(20, "every instance up after terminate")


def fault_dns(c):
    write_hosts(False)
    try:
        wait_until(lambda: scrape().get("pgrepl_discovered_replicas", cluster="soak") == 0,
                   10, interval=0.1, what="discovered_replicas 0 when the name vanishes")
        wait_until(lambda: value("pgrepl_up", instance="replica2") is None, 10,
                   interval=0.1, what="replica2's series gone")
        time.sleep(2)
    finally:
        write_hosts(True)
    wait_until(lambda: scrape().get("pgrepl_discovered_replicas", cluster="soak") == 1,
               10, interval=0.1, what="discovered_replicas 1 again")
    all_up(20, "every instance up after the name came back")


# ------------------------------------------------------------ the test

def sessions(c):
    return {n: c.sql(n, "SELECT count(*) FROM pg_stat_activity "
                        "WHERE application_name = 'pgrepl_exporter'")
            for n in state["names"]}


def test_soak():
    c, e = state["cluster"], state["exporter"]
    pid = e.proc.pid
    with open(f"/proc/{pid}/comm") as f:
        assert f.read().strip() == "pgrepl_exporter", "pid is not the exporter"
    all_up(20, "every instance up at start")
    time.sleep(2)
    base_sessions = sessions(c)
    assert all(v == "1" for v in base_sessions.values()), base_sessions
    base_fds = fd_count(pid)
    rss_start = rss_kib(pid)

    rec, stop = Recorder(), threading.Event()
    threads = [threading.Thread(target=scraper, args=(e.port, rec, stop))
               for _ in range(4)]
    threads.append(threading.Thread(target=health_checker, args=(e.port, rec, stop)))
    for t in threads:
        t.start()
    faults = [fault_stop_replica, fault_freeze_replica, fault_restart_primary,
              fault_terminate_backends]
    if state["dns"]:
        faults.append(fault_dns)
    else:
        log("DNS fault not run: no private mount namespace on this machine "
            "(the test exits 77, skipped, if nothing else fails)")
    done = {f.__name__: [] for f in faults}
    try:
        time.sleep(5)  # the load's own allocations settle first
        rss_base = rss_kib(pid)
        t0 = time.monotonic()
        cycle = 0
        while time.monotonic() - t0 < SOAK_SECONDS:
            cycle += 1
            for fault in faults:
                f0 = time.monotonic()
                fault(c)
                done[fault.__name__].append(time.monotonic() - f0)
                assert e.proc.poll() is None, "the exporter exited"
                log(f"cycle {cycle}: {fault.__name__} seen and recovered in "
                    f"{time.monotonic() - f0:.1f}s; RSS {rss_kib(pid)} KiB, "
                    f"fds {fd_count(pid)}")
        soak_s = time.monotonic() - t0
        time.sleep(3)  # steady load after the last fault
    finally:
        stop.set()
        for t in threads:
            t.join(10)

    assert e.proc.poll() is None, "the exporter exited"
    rss_end = rss_kib(pid)
    # Keep-alive connections of the load close within the server's 2 s
    # keep-alive timeout; sessions are re-opened within a poll.
    end_fds = wait_until(lambda: (fd_count(pid) == base_fds) and fd_count(pid) or None,
                         15, what=f"open fds back to {base_fds} (now {fd_count(pid)})")
    end_sessions = wait_until(lambda: (lambda s: s if s == base_sessions else None)(sessions(c)),
                              15, what="one session per instance again")
    metrics = Metrics(e.get("/metrics")[1])
    opened = {n: metrics.get("pgrepl_connections_opened_total", instance=n)
              for n in state["names"]}

    all_times = [t for ts in rec.times.values() for t in ts]
    m_times = rec.times.get("/metrics", [])
    log(f"soak: {soak_s:.0f}s of faults, {cycle} cycles; faults: "
        + ", ".join(f"{k} x{len(v)} (max {max(v):.1f}s)" for k, v in done.items()))
    log(f"responses: {len(all_times)} total; " + ", ".join(
        f"{k} n={len(v)} max={max(v) * 1000:.1f}ms p99={percentile(v, 99) * 1000:.1f}ms"
        for k, v in sorted(rec.times.items())))
    log(f"/metrics keep-alive p{NAGLE_QUANTILE} "
        f"{percentile(m_times, NAGLE_QUANTILE) * 1000:.2f} ms, "
        f"p50 {percentile(m_times, 50) * 1000:.2f} ms, "
        f"p99 {percentile(m_times, 99) * 1000:.2f} ms, max {max(m_times) * 1000:.1f} ms; "
        "load average %.1f %.1f %.1f" % os.getloadavg())
    log("statuses: " + ", ".join(f"{k[0]} {k[1]}: {v}" for k, v in sorted(
        rec.statuses.items(), key=lambda kv: (kv[0][0], str(kv[0][1])))))
    log(f"RSS start {rss_start} KiB, after warm-up {rss_base} KiB, end {rss_end} KiB "
        f"(bound {rss_base + RSS_SLACK_KIB} KiB); fds start {base_fds}, end {end_fds}; "
        f"sessions end {end_sessions}; connections_opened_total {opened}")

    assert not rec.failures, f"{len(rec.failures)} failed or slow responses: {rec.failures[:10]}"
    assert len(m_times) > 100 * SOAK_SECONDS / 60, f"only {len(m_times)} scrapes"
    fast = percentile(m_times, NAGLE_QUANTILE)
    assert fast < NAGLE_LIMIT_S, \
        f"/metrics p{NAGLE_QUANTILE} {fast * 1000:.1f} ms: a write/ACK stall is back"
    assert rss_end <= rss_base + RSS_SLACK_KIB, f"RSS grew from {rss_base} to {rss_end} KiB"
    assert all(len(v) >= 1 for v in done.values())


def main():
    unshare = mount_namespace()
    dns = unshare is not None
    with Cluster(replicas=2) as c:
        state["cluster"] = c
        state["names"] = c.names()
        state["dns"] = dns
        tmp = tempfile.mkdtemp(prefix="pgrepl-soak-")
        try:
            cfg = {"clusters": [{
                "name": "soak",
                "primary": {"name": "primary", "conninfo": c.conninfo("primary")},
                "replicas": [{"name": "replica1", "conninfo": c.conninfo("replica1")}],
            }]}
            if dns:
                state["hosts"] = os.path.join(tmp, "hosts")
                write_hosts(True)
                nsswitch = os.path.join(tmp, "nsswitch.conf")
                with open(nsswitch, "w") as f:
                    f.write("hosts: files\n")
                cfg["clusters"][0]["replica_discovery"] = {
                    "host": DNS_NAME, "port": c.port("replica2"),
                    "conninfo": "user=pgrepl_monitor dbname=postgres"}
            else:
                cfg["clusters"][0]["replicas"].append(
                    {"name": "replica2", "conninfo": c.conninfo("replica2")})
            e = Exporter(cfg, ["--poll.interval=1s", "--poll.timeout=2s"],
                         password=c.password())
            if dns:
                e.command = with_private_hosts(unshare, state["hosts"], tmp,
                                               nsswitch=nsswitch)
            with e:
                state["exporter"] = e
                rc = run_tests([test_soak])
            if rc == 0 and not dns:
                print("SKIPPED: the DNS fault needs a mount namespace "
                      "(unshare -m); the other faults passed")
                return SKIP
            return rc
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
