"""The PostgreSQL router on loopback: Debian's HAProxy with k8s/router/haproxy.cfg.

The configuration file is the one the postgres-router ConfigMap is generated
from (tests/k8s/check.sh router proves the rendered ConfigMap holds the
same bytes as CONFIG). Only the environment differs from Kubernetes:
loopback addresses and ports instead of pod DNS names (router_env()).
"""

import csv
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "integration"))
from harness import (SOURCE_DIR, free_port, log, stop_process,  # noqa: E402
                     wait_until)

CONFIG = os.path.join(SOURCE_DIR, "k8s", "router", "haproxy.cfg")
HAPROXY = (os.environ.get("PGREPL_HAPROXY") or shutil.which("haproxy") or
           "/usr/sbin/haproxy")
WRITE_BACKEND = "postgres_write"
READ_BACKEND = "postgres_read"
SERVERS = ("db0", "db1", "db2")

# "Server postgres_read/db1 is DOWN, reason: Layer7 wrong status, ..."
_STATE_LINE = re.compile(r"Server (\w+)/(\w+) is (UP|DOWN)\b")


def config_sha256():
    with open(CONFIG, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def router_env(write_bind, read_bind, stats_bind, databases):
    """The environment the configuration reads: `databases` lists
    (host:port, exporter port) for db0, db1 and db2 in order."""
    if len(databases) != len(SERVERS):
        raise ValueError(f"the router has {len(SERVERS)} database servers")
    env = {"ROUTER_WRITE_BIND": write_bind, "ROUTER_READ_BIND": read_bind,
           "ROUTER_STATS_BIND": stats_bind}
    for i, (addr, check_port) in enumerate(databases):
        env[f"ROUTER_DB{i}_ADDR"] = addr
        env[f"ROUTER_DB{i}_CHECK_PORT"] = str(check_port)
    return env


def check_config(env):
    """haproxy -c with env; returns the CompletedProcess."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("ROUTER_")}
    full.update(env)
    return subprocess.run([HAPROXY, "-c", "-f", CONFIG], env=full, text=True,
                          capture_output=True, timeout=30)


class Router:
    """HAProxy in the foreground with the shipped configuration.

    Every server state change HAProxy logs is kept with the monotonic time
    it was read (events()); stats() reads the CSV of the stats page."""

    def __init__(self, directory):
        self.write_port = free_port()
        self.read_port = free_port()
        self.stats_port = free_port()
        self.env = None
        self.dir = directory
        self.proc = None
        self._events = []
        self._lock = threading.Lock()
        self._reader = None
        self.sha256 = config_sha256()

    def configure(self, databases):
        """Before starting: (host:port, exporter port) of db0, db1, db2."""
        self.env = router_env(f"127.0.0.1:{self.write_port}",
                              f"127.0.0.1:{self.read_port}",
                              f"127.0.0.1:{self.stats_port}", databases)

    def __enter__(self):
        r = check_config(self.env)
        if r.returncode != 0:
            raise AssertionError(f"haproxy -c failed: {r.stdout}{r.stderr}")
        full = {k: v for k, v in os.environ.items() if not k.startswith("ROUTER_")}
        full.update(self.env)
        self._stderr = open(os.path.join(self.dir, "haproxy.stderr"), "w")
        self.proc = subprocess.Popen([HAPROXY, "-db", "-f", CONFIG], env=full,
                                     stdout=subprocess.PIPE,
                                     stderr=self._stderr, text=True, bufsize=1)
        self._log = open(os.path.join(self.dir, "haproxy.log"), "w")
        self._reader = threading.Thread(target=self._read_log, daemon=True)
        self._reader.start()
        wait_until(self._listening, 10, what="haproxy to serve its stats page")
        log(f"router: write 127.0.0.1:{self.write_port}, read "
            f"127.0.0.1:{self.read_port}, stats "
            f"http://127.0.0.1:{self.stats_port}/stats (config sha256 "
            f"{self.sha256[:12]})")
        return self

    def __exit__(self, *exc):
        stop_process(self.proc)
        if self._reader:
            self._reader.join(5)
        self._log.close()
        self._stderr.close()
        return False

    def _read_log(self):
        for line in self.proc.stdout:
            now = time.monotonic()
            self._log.write(f"{now:.3f} {line}")
            self._log.flush()
            m = _STATE_LINE.search(line)
            if m:
                with self._lock:
                    self._events.append((now, m.group(1), m.group(2),
                                         m.group(3), line.strip()))

    def _listening(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"haproxy exited with {self.proc.returncode}")
        try:
            self.stats()
            return True
        except OSError:
            return False

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def events(self, backend=None, server=None, since=None, until=None):
        """[(t, backend, server, "UP"|"DOWN", line)] in order."""
        with self._lock:
            out = list(self._events)
        return [e for e in out
                if (backend is None or e[1] == backend) and
                (server is None or e[2] == server) and
                (since is None or e[0] >= since) and
                (until is None or e[0] < until)]

    def stats(self):
        """The stats CSV: {(backend, server): row dict}."""
        url = f"http://127.0.0.1:{self.stats_port}/stats;csv"
        with urllib.request.urlopen(url, timeout=2) as r:
            text = r.read().decode()
        rows = csv.DictReader(io.StringIO(text.lstrip("# ")))
        return {(row["pxname"], row["svname"]): row for row in rows}

    def status(self, backend, server):
        """"UP", "DOWN", "MAINT", ... as the stats page shows it."""
        return self.stats()[(backend, server)]["status"].split()[0]

    def wait_status(self, backend, want, timeout):
        """Waits until the backend's servers have the statuses in `want`
        ({server: "UP"|"DOWN"}), UP meaning that the last check passed too
        (HAProxy counts a server UP before its first check); returns the
        seconds waited."""
        t0 = time.monotonic()

        def has(row, state):
            if row["status"].split()[0] != state:
                return False
            return state != "UP" or row["check_status"] == "L7OK"

        def reached():
            s = self.stats()
            return all(has(s[(backend, srv)], st) for srv, st in want.items())
        wait_until(reached, timeout, interval=0.1,
                   what=f"{backend} servers {want}")
        return time.monotonic() - t0
