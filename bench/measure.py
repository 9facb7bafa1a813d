"""Measurement primitives for the benchmark: an HTTP scrape client, process
CPU and memory from /proc, and order statistics.

Python standard library only. Everything here is bounded: every request
has a timeout, every loop a count or a deadline.
"""

import http.client
import os
import socket
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


# ------------------------------------------------------------ statistics

def percentile(values, q):
    """The q-th percentile (0..100) by linear interpolation; None if empty."""
    if not values:
        return None
    s = sorted(values)
    if len(s) == 1:
        return s[0]
    pos = (len(s) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def median(values):
    values = [v for v in values if v is not None]
    return percentile(values, 50)


def summary_ms(seconds):
    """p50/p99/max/mean of a list of durations in seconds, in milliseconds."""
    if not seconds:
        return {"n": 0}
    ms = [s * 1000.0 for s in seconds]
    return {"n": len(ms), "p50_ms": percentile(ms, 50), "p99_ms": percentile(ms, 99),
            "max_ms": max(ms), "mean_ms": sum(ms) / len(ms)}


# ------------------------------------------------------------ /proc

def proc_cpu_seconds(pid):
    """utime + stime of a whole process (every thread, live or exited)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def cpu_seconds_of(pids):
    return sum(proc_cpu_seconds(p) for p in pids)


def task_cpu_ns(pid):
    """Scheduler run time of a single-threaded process (a PostgreSQL
    backend) in nanoseconds, from /proc/PID/schedstat: far finer than the
    10 ms ticks of /proc/PID/stat. None when the process is gone."""
    try:
        with open(f"/proc/{pid}/schedstat") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def threads_cpu_ns(pid):
    """Sum of the scheduler run time of a process's live threads, in
    nanoseconds: finer than ticks, but blind to threads that exited, so
    only for periods in which the thread set does not change."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        v = task_cpu_ns(f"{pid}/task/{tid}")
        total += v or 0
    return total


def backends_cpu_ns(pids):
    """Sum of task_cpu_ns over pids, and how many of them were gone."""
    total, gone = 0, 0
    for p in pids:
        v = task_cpu_ns(p)
        if v is None:
            gone += 1
        else:
            total += v
    return total, gone


def memory_kib(pid):
    """VmRSS, RssAnon, RssFile and Pss of a process, in KiB."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "RssAnon", "RssFile", "VmHWM", "Threads"):
                out[key] = int(rest.split()[0])
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                key, _, rest = line.partition(":")
                if key == "Pss":
                    out["Pss"] = int(rest.split()[0])
    except OSError:
        pass
    return out


def rss_by_file_kib(pid, top=6):
    """The file mappings with the most resident pages: [(basename, KiB)]."""
    per = {}
    name = None
    try:
        with open(f"/proc/{pid}/smaps") as f:
            for line in f:
                parts = line.split()
                if parts and "-" in parts[0] and not parts[0].endswith(":"):
                    name = os.path.basename(parts[5]) if len(parts) > 5 and parts[5].startswith("/") else None
                elif parts and parts[0] == "Rss:" and name:
                    per[name] = per.get(name, 0) + int(parts[1])
    except OSError:
        return []
    return sorted(per.items(), key=lambda kv: -kv[1])[:top]


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


# ------------------------------------------------------------ HTTP

class ScrapeClient:
    """HTTP/1.1 GETs over one keep-alive connection to 127.0.0.1:port.

    get() returns (status, body bytes, seconds); status is None for a
    connection error or a timeout. A connection the server closed while
    idle (keep-alive expiry) is reopened and the request retried once; only
    the successful attempt is timed."""

    def __init__(self, port, timeout=10.0, keep_alive=True):
        self.port = port
        self.timeout = timeout
        self.keep_alive = keep_alive
        self.conn = None
        self.reused = False

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def _once(self, path):
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                                   timeout=self.timeout)
            self.reused = False
        headers = {} if self.keep_alive else {"Connection": "close"}
        t0 = time.perf_counter()
        self.conn.request("GET", path, headers=headers)
        r = self.conn.getresponse()
        body = r.read()
        dt = time.perf_counter() - t0
        if not self.keep_alive or r.will_close:
            self.close()
        else:
            self.reused = True
        return r.status, body, dt

    def get(self, path="/metrics"):
        t0 = time.perf_counter()
        try:
            return self._once(path)
        except (http.client.RemoteDisconnected, BrokenPipeError,
                ConnectionResetError) as e:
            was_reused = self.reused
            self.close()
            if not was_reused:
                return None, repr(e).encode(), time.perf_counter() - t0
        except (OSError, http.client.HTTPException) as e:
            self.close()
            return None, repr(e).encode(), time.perf_counter() - t0
        try:
            return self._once(path)
        except (OSError, http.client.HTTPException) as e:
            self.close()
            return None, repr(e).encode(), time.perf_counter() - t0


def wait_listening(port, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), 0.2):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def sample_value(text, name, **labels):
    """Value of the first sample of `name` whose labels include `labels`,
    from exposition text; None when absent. Cheap enough for 50 ms polls."""
    want = [f'{k}="{v}"' for k, v in labels.items()]
    for line in text.splitlines():
        if not line.startswith(name):
            continue
        rest = line[len(name):]
        if rest[:1] not in ("{", " "):
            continue
        if all(w in rest for w in want):
            try:
                return float(rest.rsplit(" ", 1)[1])
            except ValueError:
                return None
    return None


def count_samples(text):
    return sum(1 for line in text.splitlines() if line and not line.startswith("#"))


# ------------------------------------------------------------ load workers

def scrape_rounds(ports, rounds, timeout=10.0, keep_alive=True, start=0):
    """Scrapes every port once per round, `rounds` times, starting at
    ports[start]; returns a list of (port, seconds, ok). Runs in a worker
    process of the concurrent phase (no shared interpreter lock)."""
    clients = {p: ScrapeClient(p, timeout, keep_alive) for p in ports}
    order = ports[start % len(ports):] + ports[:start % len(ports)]
    out = []
    for _ in range(rounds):
        for p in order:
            status, _, dt = clients[p].get()
            out.append((p, dt, status == 200))
    for c in clients.values():
        c.close()
    return out


def scrape_for(port, seconds, timeout, pause):
    """Scrapes one port repeatedly for `seconds`; returns a list of
    (start offset s, seconds, status or None)."""
    c = ScrapeClient(port, timeout)
    t_end = time.monotonic() + seconds
    t0 = time.monotonic()
    out = []
    while time.monotonic() < t_end:
        start = time.monotonic() - t0
        status, _, dt = c.get()
        out.append((start, dt, status))
        time.sleep(pause)
    c.close()
    return out
