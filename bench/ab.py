"""A/B of two builds of the exporter on one 1+2 cluster, side by side.

Usage: PGREPL_SOURCE_DIR=. python3 bench/ab.py OLD_BINARY NEW_BINARY [N]

Both exporters poll the same cluster at once; N sequential /metrics
scrapes of each are interleaved (old, new, new, old, ...), so load drift
on the machine hits both alike. Prints CPU per scrape net of each
process's idle polling CPU (measured for 30 s first), and p50/p99 latency.
For checking that a refactor left the scrape cost unchanged; bench/run.sh
is the benchmark against postgres_exporter. Loopback only, bounded by N."""
import os, sys, time, urllib.request
sys.path.insert(0, os.path.join(os.environ["PGREPL_SOURCE_DIR"], "tests/integration"))
from harness import Cluster, Exporter
import harness

def cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")

def lat(url):
    t0 = time.monotonic()
    with urllib.request.urlopen(url, timeout=5) as r:
        r.read()
    return time.monotonic() - t0

bins = {"old": sys.argv[1], "new": sys.argv[2]}
N = int(sys.argv[3]) if len(sys.argv) > 3 else 3000
with Cluster(replicas=2) as c:
    exps = {}
    for k, b in bins.items():
        harness.EXPORTER = b
        e = Exporter(c.config(), ["--poll.interval=1s", "--cluster=it"], password=c.password())
        e.command = [b]
        e.__enter__()
        exps[k] = e
    for k, e in exps.items():
        for n in c.names():
            e.wait_metric("pgrepl_up", {"instance": n}, lambda v: v == 1, 15)
    # idle CPU rate over 10 s
    c0 = {k: cpu(e.proc.pid) for k, e in exps.items()}
    time.sleep(30)
    idle = {k: (cpu(e.proc.pid) - c0[k]) / 30 for k, e in exps.items()}
    lats = {k: [] for k in exps}
    c0 = {k: cpu(e.proc.pid) for k, e in exps.items()}
    t0 = time.monotonic()
    for i in range(N):
        for k in (("old", "new") if i % 2 == 0 else ("new", "old")):
            lats[k].append(lat(exps[k].url + "/metrics"))
    wall = time.monotonic() - t0
    for k, e in exps.items():
        used = cpu(e.proc.pid) - c0[k] - idle[k] * wall
        l = sorted(lats[k])
        print(f"{k}: cpu/scrape {used / N * 1000:.3f} ms net (idle {idle[k]*1000:.2f} ms/s), "
              f"p50 {l[len(l)//2]*1000:.2f} ms, p99 {l[int(len(l)*0.99)]*1000:.2f} ms, n={N}")
    for e in exps.values():
        e.__exit__(None, None, None)
