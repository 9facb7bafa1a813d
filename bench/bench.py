"""Side-by-side benchmark: pgrepl_exporter against postgres_exporter 0.11
(Debian's prometheus-postgres-exporter) on the same real clusters, in the
same run, interleaved.

Run through bench/run.sh, which builds, installs the reference and renders
docs/BENCHMARKS.md from the JSON this writes. Usage:

  bench.py --exporter PATH --reference PATH --out FILE [--quick]

Every figure comes from repetitions that alternate between the two
exporters (ours, reference, ours, reference, ...); the report gives
medians of the repetitions and ratios of those medians, because the
machine may be shared with other work.
"""

import argparse
import concurrent.futures
import json
import multiprocessing
import os
import platform
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))

import harness  # noqa: E402
import measure as m  # noqa: E402

SEQ_BLOCKS = 20    # interleaved blocks per sequential repetition
SETTLE_S = 0.1     # untimed pause before each block
OURS_APP = "pgrepl_exporter"
REF_APP = "postgres_exporter"
POLL_INTERVAL = 1.0


def log(msg):
    harness.log(msg)


# ------------------------------------------------------------ plans

FULL = {
    "topologies": [2, 20],
    "idle_cpu_s": 60,
    "seq_reps": 5,
    "seq_ours": {2: 2000, 20: 2000},      # per repetition: 5 x 2000 = 10,000
    "seq_ref_rounds": {2: 100, 20: 20},   # rounds over every reference process
    "conc_reps": 3,
    "conc_ours": {2: 250, 20: 125},       # per worker per repetition
    "conc_ref_rounds": {2: 12, 20: 2},
    "freeze_s": 20,
    "ref_timeout_s": 10.0,                # Prometheus' default scrape_timeout
    "trials": 3,
    "walreceiver_trials": 5,
    "delay_sample_s": 10,
    "idle_lag_s": 60,
}

QUICK = dict(FULL, **{
    "topologies": [2],
    "idle_cpu_s": 5,
    "seq_reps": 2,
    "seq_ours": {2: 200, 20: 200},
    "seq_ref_rounds": {2: 10, 20: 2},
    "conc_reps": 1,
    "conc_ours": {2: 20, 20: 10},
    "conc_ref_rounds": {2: 2, 20: 1},
    "freeze_s": 12,
    "trials": 1,
    "walreceiver_trials": 2,
    "delay_sample_s": 3,
    "idle_lag_s": 5,
})


# ------------------------------------------------------------ machine facts

def machine_facts(exporter, reference):
    def run(cmd):
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
            return (r.stdout or r.stderr).strip()
        except (OSError, subprocess.TimeoutExpired):
            return "unknown"

    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_kib = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    pg_bindir = os.environ.get("PG_BINDIR", "/usr/lib/postgresql/15/bin")
    return {
        "cpu_model": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "kernel": platform.release(),
        "os": run(["sh", "-c", ". /etc/os-release && echo $PRETTY_NAME"]),
        "postgresql": run([os.path.join(pg_bindir, "postgres"), "--version"]),
        "ours_version": run([exporter, "--version"]).splitlines()[0],
        "reference_version": run([reference, "--version"]).splitlines()[0],
        "python": platform.python_version(),
        "loadavg_start": open("/proc/loadavg").read().split()[:3],
    }


# ------------------------------------------------------------ the exporters

class Reference:
    """One postgres_exporter process per instance (its collectors only use
    the first DSN), each with the replication-lag query of the package's
    own examples/queries.yaml."""

    def __init__(self, binary, cluster, queries):
        self.binary = binary
        self.cluster = cluster
        self.queries = queries
        self.dir = tempfile.mkdtemp(prefix="pgrepl-bench-ref-")
        self.procs = {}  # instance name -> (Popen, port)

    def __enter__(self):
        try:
            return self._start()
        except BaseException:
            self.__exit__(None, None, None)  # no process or temp dir left
            raise

    def _start(self):
        pw = self.cluster.password()
        for name in self.cluster.names():
            port = harness.free_port()
            dsn = (f"postgresql://pgrepl_monitor:{pw}@127.0.0.1:"
                   f"{self.cluster.port(name)}/postgres?sslmode=disable"
                   f"&application_name={REF_APP}")
            args = [self.binary, f"--web.listen-address=127.0.0.1:{port}"]
            if self.queries:
                args.append(f"--extend.query-path={self.queries}")
            logf = open(os.path.join(self.dir, f"{name}.log"), "w")
            p = subprocess.Popen(args, env={"DATA_SOURCE_NAME": dsn,
                                            "PATH": os.environ.get("PATH", "")},
                                 stdout=logf, stderr=subprocess.STDOUT)
            logf.close()
            self.procs[name] = (p, port)
        for name, (p, port) in self.procs.items():
            if not m.wait_listening(port):
                raise RuntimeError(f"postgres_exporter for {name} did not listen")
        return self

    def __exit__(self, *exc):
        for p, _ in self.procs.values():
            if p.poll() is None:
                p.terminate()
        for p, _ in self.procs.values():
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
        return False

    def ports(self):
        return [port for _, port in self.procs.values()]

    def pids(self):
        return [p.pid for p, _ in self.procs.values()]

    def port(self, name):
        return self.procs[name][1]

    def pid(self, name):
        return self.procs[name][0].pid


def start_ours(binary, cluster):
    e = harness.Exporter(cluster.config("bench"),
                         [f"--poll.interval={POLL_INTERVAL:g}s", "--poll.timeout=2s"],
                         password=cluster.password())
    e.command = [binary]
    return e


# ------------------------------------------------------------ database side

def sessions(cluster):
    """{instance: {app: [backend pids]}} for both exporters' sessions."""
    out = {}
    q = ("SELECT application_name || ' ' || pid FROM pg_stat_activity "
         f"WHERE application_name IN ('{OURS_APP}', '{REF_APP}') "
         "AND backend_type = 'client backend' ORDER BY 1")
    for name in cluster.names():
        rows = cluster.sql(name, q).splitlines()
        per = {OURS_APP: [], REF_APP: []}
        for row in rows:
            app, pid = row.split()
            per[app].append(int(pid))
        out[name] = per
    return out


def backend_pids(sess, app):
    return [pid for per in sess.values() for pid in per[app]]


# ------------------------------------------------------------ phases

def wait_ready(ours, ref, cluster):
    names = cluster.names()
    harness.wait_until(
        lambda: all(ours.scrape().get("pgrepl_up", instance=n) == 1 for n in names),
        30, what="every instance up in pgrepl_exporter")
    for name in names:  # the reference connects on its first scrape
        c = m.ScrapeClient(ref.port(name), 15)
        status, body, _ = c.get()
        c.close()
        if status != 200 or m.sample_value(body.decode(), "pg_up") != 1:
            raise RuntimeError(f"postgres_exporter for {name}: pg_up is not 1")


def phase_idle_cpu(ours, ref, cluster, seconds):
    """Exporter and backend CPU over a period without scrapes."""
    sess = sessions(cluster)
    ours_b, ref_b = backend_pids(sess, OURS_APP), backend_pids(sess, REF_APP)
    o0, r0 = m.proc_cpu_seconds(ours.proc.pid), m.cpu_seconds_of(ref.pids())
    ot0 = m.threads_cpu_ns(ours.proc.pid)
    ob0, _ = m.backends_cpu_ns(ours_b)
    rb0, _ = m.backends_cpu_ns(ref_b)
    t0 = time.monotonic()
    time.sleep(seconds)
    dt = time.monotonic() - t0
    o1, r1 = m.proc_cpu_seconds(ours.proc.pid), m.cpu_seconds_of(ref.pids())
    ot1 = m.threads_cpu_ns(ours.proc.pid)
    ob1, ob_gone = m.backends_cpu_ns(ours_b)
    rb1, _ = m.backends_cpu_ns(ref_b)
    instances = len(cluster.names())
    polls = dt / POLL_INTERVAL * instances
    return {
        "seconds": dt,
        "instances": instances,
        # Thread run times (ns) where the kernel keeps them; ticks otherwise.
        "ours_cpu_ms_per_s": ((ot1 - ot0) / 1e6 if ot1 > ot0 else (o1 - o0) * 1000) / dt,
        "ours_cpu_ms_per_s_ticks": (o1 - o0) * 1000 / dt,
        "ours_cpu_ms_per_s_per_instance":
            ((ot1 - ot0) / 1e6 if ot1 > ot0 else (o1 - o0) * 1000) / dt / instances,
        "ref_cpu_ms_per_s": (r1 - r0) * 1000 / dt,
        "ours_polls_estimated": polls,
        "ours_server_cpu_ms_per_poll": (ob1 - ob0) / 1e6 / polls,
        "ours_server_cpu_ms_per_s": (ob1 - ob0) / 1e6 / dt,
        "ours_backends_gone": ob_gone,
        "ref_server_cpu_ms_per_s": (rb1 - rb0) / 1e6 / dt,
    }


class SeqRun:
    """Accumulates one exporter's sequential scrapes over interleaved
    blocks: latencies, and CPU and server-CPU deltas read around each
    block only (so the other exporter's blocks do not count)."""

    def __init__(self, clients, cpu_pids, backends):
        self.clients = clients          # ScrapeClient per target
        self.cpu_pids = cpu_pids
        self.backends = backends
        self.lat, self.rounds = [], []
        self.failed = self.scrapes = 0
        self.cpu_s = self.server_ns = self.wall_s = 0.0
        self.bytes = 0
        self.gone = 0

    def block(self, rounds):
        cpu0 = m.cpu_seconds_of(self.cpu_pids)
        b0, _ = m.backends_cpu_ns(self.backends)
        t0 = time.monotonic()
        for _ in range(rounds):
            total = 0.0
            for c in self.clients:
                status, body, dt = c.get()
                total += dt
                self.scrapes += 1
                if status == 200:
                    self.lat.append(dt)
                    self.bytes = len(body)
                else:
                    self.failed += 1
            self.rounds.append(total)
        self.wall_s += time.monotonic() - t0
        self.cpu_s += m.cpu_seconds_of(self.cpu_pids) - cpu0
        b1, gone = m.backends_cpu_ns(self.backends)
        self.server_ns += b1 - b0
        self.gone = max(self.gone, gone)

    def result(self):
        for c in self.clients:
            c.close()
        return {"latency": m.summary_ms(self.lat), "round_latency": m.summary_ms(self.rounds),
                "failed": self.failed, "scrapes": self.scrapes, "wall_s": self.wall_s,
                "cpu_s": self.cpu_s, "server_cpu_ms": self.server_ns / 1e6,
                "bytes": self.bytes, "backends_gone": self.gone}


def phase_sequential(ours, ref, cluster, plan, n, idle_rate_ms_per_s):
    """Each repetition alternates blocks: a slice of our scrapes, then a
    slice of the rounds over every reference process, so that both see
    the same stretch of a shared machine's load. A short untimed pause
    before each block lets the other exporter's leftover work (Go's
    background GC, its backends finishing) end first."""
    sess = sessions(cluster)
    reps = []
    blocks = min(SEQ_BLOCKS, plan["seq_ref_rounds"][n])
    per_block = max(1, plan["seq_ours"][n] // blocks)
    ref_per_block = max(1, plan["seq_ref_rounds"][n] // blocks)
    for rep in range(plan["seq_reps"]):
        so = SeqRun([m.ScrapeClient(ours.port)], [ours.proc.pid], backend_pids(sess, OURS_APP))
        sr = SeqRun([m.ScrapeClient(p, plan["ref_timeout_s"]) for p in ref.ports()],
                    ref.pids(), backend_pids(sess, REF_APP))
        for _ in range(blocks):
            time.sleep(SETTLE_S)
            so.block(per_block)
            time.sleep(SETTLE_S)
            sr.block(ref_per_block)
        o, r = so.result(), sr.result()
        # Our CPU over the repetition includes background polling; the net
        # figure subtracts the rate measured without scrapes.
        o["cpu_ms_per_scrape_raw"] = o["cpu_s"] * 1000 / o["scrapes"]
        o["cpu_ms_per_scrape_net"] = max(
            0.0, (o["cpu_s"] * 1000 - idle_rate_ms_per_s * o["wall_s"]) / o["scrapes"])
        r["cpu_ms_per_scrape"] = r["cpu_s"] * 1000 / r["scrapes"]
        r["server_cpu_ms_per_scrape"] = r["server_cpu_ms"] / r["scrapes"]
        log(f"  seq rep {rep + 1}: ours p50 {o['latency']['p50_ms']:.2f} ms "
            f"p99 {o['latency']['p99_ms']:.2f} ms; ref p50 "
            f"{r['latency']['p50_ms']:.1f} ms p99 {r['latency']['p99_ms']:.1f} ms")
        reps.append({"ours": o, "ref": r})
    return reps


def phase_concurrent(ours, ref, plan, n, workers=8):
    reps = []
    ctx = multiprocessing.get_context("fork")
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=ctx) as pool:
        for rep in range(plan["conc_reps"]):
            res = {}
            for who in ("ours", "ref"):
                if who == "ours":
                    ports, rounds = [ours.port], plan["conc_ours"][n]
                else:
                    ports, rounds = ref.ports(), plan["conc_ref_rounds"][n]
                t0 = time.monotonic()
                futs = [pool.submit(m.scrape_rounds, ports, rounds,
                                    plan["ref_timeout_s"], True, i * len(ports) // workers)
                        for i in range(workers)]
                rows = [row for f in futs for row in f.result()]
                wall = time.monotonic() - t0
                ok = [dt for _, dt, good in rows if good]
                res[who] = {"latency": m.summary_ms(ok), "requests": len(rows),
                            "failed": len(rows) - len(ok), "wall_s": wall,
                            "requests_per_s": len(rows) / wall}
            log(f"  conc rep {rep + 1}: ours p99 {res['ours']['latency']['p99_ms']:.2f} ms"
                f"; ref p99 {res['ref']['latency']['p99_ms']:.1f} ms")
            reps.append(res)
    return reps


def phase_freeze(ours, ref, cluster, plan, victim="replica1"):
    """Scrape latency before and while `victim` is SIGSTOPped."""
    def ours_loop(seconds):
        c = m.ScrapeClient(ours.port, 5)
        lat, failed = [], 0
        t_end = time.monotonic() + seconds
        while time.monotonic() < t_end:
            status, _, dt = c.get()
            if status == 200:
                lat.append(dt)
            else:
                failed += 1
            time.sleep(0.01)
        c.close()
        return {"latency": m.summary_ms(lat), "failed": failed}

    before = ours_loop(plan["freeze_s"] / 2)
    ctx = multiprocessing.get_context("fork")
    others = [x for x in cluster.names() if x != victim][:1]
    with concurrent.futures.ProcessPoolExecutor(2, mp_context=ctx) as pool:
        cluster.tool("freeze", victim)
        t_frozen = time.monotonic()
        try:
            f_victim = pool.submit(m.scrape_for, ref.port(victim), plan["freeze_s"],
                                   plan["ref_timeout_s"], 0.2)
            f_other = pool.submit(m.scrape_for, ref.port(others[0]), plan["freeze_s"],
                                  plan["ref_timeout_s"], 0.2)
            during = ours_loop(plan["freeze_s"])
            metrics = ours.scrape()
            up = metrics.get("pgrepl_up", instance=victim)
            timeouts = metrics.get("pgrepl_poll_errors_total", instance=victim,
                                   kind="timeout")
            ref_victim = f_victim.result()
            ref_other = f_other.result()
        finally:
            cluster.tool("thaw", victim)
    t_thaw = time.monotonic()
    # After the thaw: how long until each answers for the victim again.
    c = m.ScrapeClient(ref.port(victim), 30)
    status, body, dt = c.get()
    c.close()
    ref_after = {"status": status, "seconds": dt,
                 "pg_up": m.sample_value(body.decode(errors="replace"), "pg_up")
                 if status == 200 else None}
    harness.wait_until(lambda: ours.scrape().get("pgrepl_up", instance=victim) == 1,
                       30, what=f"{victim} up again")
    ours_recovered = time.monotonic() - t_thaw

    def ref_summary(rows):
        ok = [dt for _, dt, s in rows if s == 200]
        return {"requests": len(rows), "ok": len(ok),
                "timed_out_or_failed": len(rows) - len(ok),
                "latency": m.summary_ms(ok),
                "durations_s": [round(dt, 3) for _, dt, _ in rows][:20]}

    return {
        "victim": victim,
        "frozen_s": t_thaw - t_frozen,
        "ours_before": before,
        "ours_during": during,
        "ours_victim_up_during": up,
        "ours_victim_timeout_errors": timeouts,
        "ours_recovered_after_thaw_s": ours_recovered,
        "ref_victim": ref_summary(ref_victim),
        "ref_other": dict(ref_summary(ref_other), instance=others[0]),
        "ref_victim_first_scrape_after_thaw": ref_after,
    }


# ------------------------------------------------------------ detection

def poll_until(client, predicate, timeout, proc=None, interval=0.05):
    """Polls /metrics every `interval` until predicate(text) holds.
    Returns (t_seen or None, t_proc_done or None), monotonic times."""
    t_end = time.monotonic() + timeout
    t_done = None
    while time.monotonic() < t_end:
        if proc is not None and t_done is None and proc.poll() is not None:
            t_done = time.monotonic()
        status, body, _ = client.get()
        if status == 200 and predicate(body.decode()):
            return time.monotonic(), t_done
        time.sleep(interval)
    if proc is not None and t_done is None:
        proc.wait(60)
        t_done = time.monotonic()
    return None, t_done


def run_tool_async(cluster, *args):
    return subprocess.Popen([harness.PGCLUSTER, args[0], cluster.dir, *args[1:]],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def value(text, name, **labels):
    return m.sample_value(text, name, cluster="bench", **labels)


def detect_stop(ours, cluster, trials, victim="replica2"):
    out = []
    c = m.ScrapeClient(ours.port, 5)
    for _ in range(trials):
        t_start = time.monotonic()
        p = run_tool_async(cluster, "stop", victim)
        seen, done = poll_until(c, lambda t: value(t, "pgrepl_up", instance=victim) == 0,
                                30, p)
        if done is None:
            p.wait(60)
            done = time.monotonic()
        cluster.tool("start", victim)
        t_started = time.monotonic()
        back, _ = poll_until(c, lambda t: value(t, "pgrepl_up", instance=victim) == 1, 30)
        out.append({"from_command_start_s": seen - t_start if seen else None,
                    "from_command_return_s": seen - done if seen else None,
                    "command_s": done - t_start,
                    "recovered_after_start_s": back - t_started if back else None})
        time.sleep(1)
    c.close()
    return out


def walreceiver_gap(cluster, victim):
    """How long the WAL receiver is really absent after a kill, by polling
    pg_stat_wal_receiver every ~5 ms from a persistent psql session."""
    p = subprocess.Popen([harness.PGCLUSTER, "psql", cluster.dir, victim, "-At", "-q"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
    q = ("SELECT coalesce((SELECT status FROM pg_stat_wal_receiver "
         "WHERE pid IS NOT NULL), 'none');\n")

    def ask():
        p.stdin.write(q)
        p.stdin.flush()
        # psql reports errors on stderr and prints no line: do not block.
        if not select.select([p.stdout], [], [], 5)[0]:
            raise RuntimeError("psql gave no answer in 5 s")
        return p.stdout.readline().strip()

    try:
        ask()
        kill = run_tool_async(cluster, "kill-walreceiver", victim)
        t_end = time.monotonic() + 5
        gone_at = back_at = None
        while time.monotonic() < t_end:
            s = ask()
            now = time.monotonic()
            if s != "streaming" and gone_at is None:
                gone_at = now
            if s == "streaming" and gone_at is not None:
                back_at = now
                break
        kill.wait(30)
    finally:
        p.stdin.close()
        p.wait(10)
    return back_at - gone_at if gone_at and back_at else None


def detect_walreceiver(ours, cluster, trials, victim="replica1", window=3.0):
    """A killed receiver is back within milliseconds, so the fault shows as
    pgrepl_wal_receiver_restarts_total going up (a new receiver pid), or as
    pgrepl_wal_receiver_up 0 when a poll lands inside the gap."""
    out = []
    c = m.ScrapeClient(ours.port, 5)

    def restarts(text):
        return value(text, "pgrepl_wal_receiver_restarts_total", instance=victim)

    for _ in range(trials):
        before = restarts(c.get()[1].decode())
        p = run_tool_async(cluster, "kill-walreceiver", victim)
        p.wait(30)
        t_ret = time.monotonic()
        seen, _ = poll_until(
            c, lambda t: value(t, "pgrepl_wal_receiver_up", instance=victim) == 0
            or (restarts(t) or 0) > (before or 0), window)
        out.append({"from_command_return_s": seen - t_ret if seen else None,
                    "restarts_before": before})
        harness.wait_until(lambda: value(c.get()[1].decode(), "pgrepl_wal_receiver_up",
                                         instance=victim) == 1, 20,
                           what="receiver streaming again")
        time.sleep(1.3)  # a new poll phase for the next kill
    c.close()
    gaps = []
    for _ in range(3):
        # PostgreSQL restarts a receiver at once unless it started one less
        # than wal_retrieve_retry_interval (1 s here) ago: space the kills
        # as the trials above are spaced.
        time.sleep(2)
        gaps.append(walreceiver_gap(cluster, victim))
    return {"trials": out, "receiver_absent_s": gaps}


def detect_primary_stop(ours, cluster, trials, victim="replica1"):
    """The receiver stays down: stop the primary, wait for the replica's
    pgrepl_wal_receiver_up 0."""
    out = []
    c = m.ScrapeClient(ours.port, 5)
    for _ in range(trials):
        # Start from a snapshot that shows the receiver streaming.
        poll_until(c, lambda t: value(t, "pgrepl_wal_receiver_up", instance=victim) == 1, 20)
        time.sleep(1.2)
        t_start = time.monotonic()
        p = run_tool_async(cluster, "stop", "primary")
        seen, done = poll_until(c, lambda t: value(t, "pgrepl_wal_receiver_up",
                                                   instance=victim) == 0, 30, p)
        if done is None:
            p.wait(60)
            done = time.monotonic()
        cluster.tool("start", "primary")
        poll_until(c, lambda t: all(value(t, "pgrepl_wal_receiver_up", instance=r) == 1
                                    for r in cluster.names()[1:]), 30)
        out.append({"from_command_start_s": seen - t_start if seen else None,
                    "from_command_return_s": seen - done if seen else None,
                    "command_s": done - t_start})
        time.sleep(1)
    c.close()
    return out


def detect_delay_and_accuracy(ours, ref, cluster, plan, victim="replica1"):
    """Under a steady write load: set a 5 s apply delay, time until
    pgrepl_replica_lag_seconds > 1, then sample both exporters' lag in the
    delayed steady state (truth: 5 s)."""
    trials = plan["trials"]
    load_s = trials * (plan["delay_sample_s"] + 22) + 10
    load = run_tool_async(cluster, "load", str(load_s), "200")
    c = m.ScrapeClient(ours.port, 5)
    rc = m.ScrapeClient(ref.port(victim), plan["ref_timeout_s"])
    out, ours_err, ref_err, ours_vals, ref_vals = [], [], [], [], []
    try:
        time.sleep(3)
        for _ in range(trials):
            poll_until(c, lambda t: value(t, "pgrepl_replica_lag_seconds",
                                          instance=victim) == 0, 20)
            cluster.tool("delay", victim, "5s")
            t_ret = time.monotonic()
            seen, _ = poll_until(c, lambda t: (value(t, "pgrepl_replica_lag_seconds",
                                                     instance=victim) or 0) > 1, 15)
            out.append({"from_command_return_s": seen - t_ret if seen else None,
                        "net_of_1s_threshold_s": seen - t_ret - 1.0 if seen else None})
            # Delayed steady state starts 5 s after the delay took effect.
            while time.monotonic() < t_ret + 6.5:
                time.sleep(0.05)
            t_end = time.monotonic() + plan["delay_sample_s"]
            next_ref = 0.0
            while time.monotonic() < t_end:
                v = value(c.get()[1].decode(), "pgrepl_replica_lag_seconds", instance=victim)
                if v is not None:
                    ours_vals.append(v)
                    ours_err.append(abs(v - 5.0))
                if time.monotonic() >= next_ref:
                    next_ref = time.monotonic() + 1.0
                    status, body, _ = rc.get()
                    if status == 200:
                        rv = m.sample_value(body.decode(), "pg_replication_lag")
                        if rv is not None:
                            ref_vals.append(rv)
                            ref_err.append(abs(rv - 5.0))
                time.sleep(0.25)
            cluster.tool("delay", victim, "0")
    finally:
        c.close()
        rc.close()
    load.wait(load_s + 60)
    return {"detection": out,
            "ours_abs_error_s": {"median": m.median(ours_err),
                                 "p90": m.percentile(ours_err, 90),
                                 "max": max(ours_err) if ours_err else None,
                                 "n": len(ours_err)},
            "ref_abs_error_s": {"median": m.median(ref_err),
                                "p90": m.percentile(ref_err, 90),
                                "max": max(ref_err) if ref_err else None,
                                "n": len(ref_err)},
            "ours_median_s": m.median(ours_vals),
            "ref_median_s": m.median(ref_vals)}


def idle_false_lag(ours, ref, cluster, seconds):
    """No writes for `seconds`: the largest lag each exporter reports."""
    replicas = cluster.names()[1:]
    c = m.ScrapeClient(ours.port, 5)
    harness.wait_until(lambda: all(value(c.get()[1].decode(), "pgrepl_replica_lag_seconds",
                                         instance=r) == 0 for r in replicas), 30,
                       what="replicas caught up")
    rcs = {r: m.ScrapeClient(ref.port(r), 15) for r in replicas}
    series = []
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        t = time.monotonic() - t0
        ours_v = [value(c.get()[1].decode(), "pgrepl_replica_lag_seconds", instance=r)
                  for r in replicas]
        ref_v = []
        for r, rc in rcs.items():
            status, body, _ = rc.get()
            ref_v.append(m.sample_value(body.decode(), "pg_replication_lag")
                         if status == 200 else None)
        series.append((round(t, 1), max(v for v in ours_v if v is not None),
                       max((v for v in ref_v if v is not None), default=None)))
        time.sleep(max(0.0, t0 + len(series) - time.monotonic()))
    c.close()
    for rc in rcs.values():
        rc.close()
    return {"seconds": seconds,
            "ours_max_s": max(s[1] for s in series),
            "ref_max_s": max((s[2] for s in series if s[2] is not None), default=None),
            "samples": series[::5]}


# ------------------------------------------------------------ a topology

def run_topology(n, plan, args, queries):
    log(f"== topology 1 primary + {n} replicas")
    res = {"replicas": n, "instances": n + 1}
    t0 = time.monotonic()
    with harness.Cluster(replicas=n) as cluster:
        res["cluster_up_s"] = time.monotonic() - t0
        with start_ours(args.exporter, cluster) as ours, \
                Reference(args.reference, cluster, queries) as ref:
            wait_ready(ours, ref, cluster)
            time.sleep(2)
            first = ours.scrape()
            res["ours_series"] = m.count_samples(first.text)
            ref_series = {}
            for name in cluster.names():
                c = m.ScrapeClient(ref.port(name), 15)
                _, body, _ = c.get()
                c.close()
                ref_series[name] = m.count_samples(body.decode())
            res["ref_series"] = ref_series
            res["ref_series_total"] = sum(ref_series.values())
            sess_a = sessions(cluster)
            res["memory_start"] = {"ours": m.memory_kib(ours.proc.pid),
                                   "ref": {x: m.memory_kib(ref.pid(x)) for x in cluster.names()}}

            log(f"  idle CPU, {plan['idle_cpu_s']} s without scrapes")
            res["idle"] = phase_idle_cpu(ours, ref, cluster, plan["idle_cpu_s"])
            log("  sequential scrapes")
            res["sequential"] = phase_sequential(
                ours, ref, cluster, plan, n, res["idle"]["ours_cpu_ms_per_s"])
            log("  8 concurrent scrapers")
            res["concurrent"] = phase_concurrent(ours, ref, plan, n)

            ours_scrapes = plan["seq_reps"] * plan["seq_ours"][n]
            ref_scrapes = plan["seq_reps"] * plan["seq_ref_rounds"][n]
            res["memory_end"] = {
                "ours": m.memory_kib(ours.proc.pid),
                "ours_files": m.rss_by_file_kib(ours.proc.pid),
                "ours_sequential_scrapes": ours_scrapes,
                "ours_total_scrapes": ours_scrapes + plan["conc_reps"] * 8 * plan["conc_ours"][n],
                "ref": {x: m.memory_kib(ref.pid(x)) for x in cluster.names()},
                "ref_scrapes_per_process": ref_scrapes + plan["conc_reps"] * 8 * plan["conc_ref_rounds"][n],
            }
            sess_b = sessions(cluster)
            metrics = ours.scrape()
            res["db_sessions"] = {
                "ours_per_instance": {x: len(sess_b[x][OURS_APP]) for x in cluster.names()},
                "ref_per_instance": {x: len(sess_b[x][REF_APP]) for x in cluster.names()},
                "ours_backend_pids_stable": all(
                    sorted(sess_a[x][OURS_APP]) == sorted(sess_b[x][OURS_APP])
                    for x in cluster.names()),
                "ref_backend_pids_stable": all(
                    sorted(sess_a[x][REF_APP]) == sorted(sess_b[x][REF_APP])
                    for x in cluster.names()),
                "ours_connections_opened": {
                    x: metrics.get("pgrepl_connections_opened_total", instance=x)
                    for x in cluster.names()},
            }
            log("  frozen replica")
            res["freeze"] = phase_freeze(ours, ref, cluster, plan)

            if n == min(plan["topologies"]):
                log("  detection: replica stopped")
                res["detect_stop"] = detect_stop(ours, cluster, plan["trials"])
                log("  detection: WAL receiver killed")
                res["detect_walreceiver"] = detect_walreceiver(
                    ours, cluster, plan["walreceiver_trials"])
                log("  detection: primary stopped (receiver stays down)")
                res["detect_primary_stop"] = detect_primary_stop(ours, cluster, plan["trials"])
                log("  detection: apply delay under load, and lag accuracy")
                res["delay"] = detect_delay_and_accuracy(ours, ref, cluster, plan)
                log(f"  idle false lag, {plan['idle_lag_s']} s")
                res["idle_lag"] = idle_false_lag(ours, ref, cluster, plan["idle_lag_s"])
            res["ours_alive"] = ours.proc.poll() is None
    res["wall_s"] = time.monotonic() - t0
    return res


def extract_lag_query(out_dir):
    """The pg_replication block of the package's examples/queries.yaml,
    which is how postgres_exporter 0.11 users get pg_replication_lag."""
    src = "/usr/share/doc/prometheus-postgres-exporter/examples/queries.yaml"
    if not os.path.exists(src):
        return None
    block = []
    with open(src) as f:
        for line in f:
            if block and line.strip() and not line.startswith((" ", "\t")):
                break
            if block or line.startswith("pg_replication:"):
                block.append(line)
    if not block:
        return None
    path = os.path.join(out_dir, "queries.yaml")
    with open(path, "w") as f:
        f.writelines(block)
    return path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exporter", required=True)
    ap.add_argument("--reference", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--quick", action="store_true", help="a short smoke run")
    args = ap.parse_args()
    # SIGTERM (e.g. from timeout) unwinds like Ctrl-C, so the context
    # managers stop every cluster and exporter started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    plan = QUICK if args.quick else FULL
    t0 = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="pgrepl-bench-")
    try:
        queries = extract_lag_query(tmp)
        result = {"schema": 1, "quick": args.quick,
                  "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                  "machine": machine_facts(args.exporter, args.reference),
                  "plan": {k: v for k, v in plan.items()},
                  "reference_extra_queries": "pg_replication (examples/queries.yaml)"
                  if queries else None,
                  "topologies": []}
        for n in plan["topologies"]:
            result["topologies"].append(run_topology(n, plan, args, queries))
        result["machine"]["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
        result["wall_s"] = time.monotonic() - t0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1, sort_keys=True, default=str)
        f.write("\n")
    log(f"wrote {args.out} after {result['wall_s']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
