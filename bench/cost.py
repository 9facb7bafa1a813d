"""Database cost of polling: pgrepl_exporter against postgres_exporter 0.11
(Debian's prometheus-postgres-exporter), side by side on one real 1+2
cluster in one run (issue 16, part 3). Run through bench/cost.sh.

  cost.py --exporter PATH --reference PATH [--baseline PATH] [--seconds N]
          [--out FILE]

For SECONDS (default 120) every exporter watches the cluster at once:
  - ours polls every 1 s (--poll.interval=1s);
  - --baseline, another pgrepl_exporter build (e.g. the one before a
    change), polls the same way under application_name pgrepl_baseline;
  - postgres_exporter, one process per instance as in bench.py, is
    scraped every SCRAPE_EVERY seconds during the same window.
Server CPU is each exporter's PostgreSQL backends' CPU (found in
pg_stat_activity by application_name), read around the window from
/proc/PID/stat (utime+stime, in clock ticks) and /proc/PID/schedstat
(run time in ns, the precise figure). Per poll (ours) and per scrape
(reference), per instance; per second of wall time, ours at its 1 s poll
and the reference at a 15 s scrape. Round trips per poll come from
ours' pgrepl_poll_round_trips(_total). Prints a Markdown table and writes
JSON. Loopback only; every phase is bounded by SECONDS.

A baseline is one more exporter waking backends every second on the same
cores, and it raises every figure of the run (in stop 22's runs, this
build measured 0.456 and 0.505 ms per poll with one, 0.404-0.452 ms
without; docs/BENCHMARKS.md): compare builds within one run, and read
the per-poll goal from a run without --baseline."""

import argparse
import contextlib
import json
import os
import signal
import sys
import tempfile
import shutil
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
sys.path.insert(0, HERE)

import harness  # noqa: E402
import measure as m  # noqa: E402
from bench import REF_APP, Reference, extract_lag_query  # noqa: E402

OURS_APP = "pgrepl_exporter"
BASE_APP = "pgrepl_baseline"
SCRAPE_EVERY = 3.0       # reference scrapes in the window (more samples)
REFERENCE_INTERVAL = 15  # the scrape interval its cost per second assumes
TICK = os.sysconf("SC_CLK_TCK")


def stat_ticks(pid):
    """utime+stime of a process in clock ticks, None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            parts = f.read().rsplit(")", 1)[1].split()
        return int(parts[11]) + int(parts[12])
    except OSError:
        return None


def backends(cluster, app):
    """{instance: [client backend pids]} of sessions named `app`."""
    q = ("SELECT pid FROM pg_stat_activity WHERE application_name = "
         f"'{app}' AND backend_type = 'client backend'")
    return {n: [int(p) for p in cluster.sql(n, q).split()]
            for n in cluster.names()}


def cpu(pids_by_instance):
    """(ns, ticks, gone) summed over every instance, and ns by instance."""
    pids = [p for ps in pids_by_instance.values() for p in ps]
    ns, gone = m.backends_cpu_ns(pids)
    ticks = sum(stat_ticks(p) or 0 for p in pids)
    by_instance = {n: m.backends_cpu_ns(ps)[0]
                   for n, ps in pids_by_instance.items()}
    return ns, ticks, gone, by_instance


def config(cluster, app=None):
    c = cluster.config("bench")
    if app:
        for inst in [c["clusters"][0]["primary"]] + c["clusters"][0]["replicas"]:
            inst["conninfo"] += f" application_name={app}"
    return c


def start(binary, cluster, app=None):
    e = harness.Exporter(config(cluster, app),
                         ["--poll.interval=1s", "--poll.timeout=2s"],
                         password=cluster.password())
    e.command = [binary]
    return e


def total(metrics, name, instances):
    return sum(metrics.get(name, instance=n) or 0 for n in instances)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exporter", required=True)
    ap.add_argument("--reference", required=True)
    ap.add_argument("--baseline")
    ap.add_argument("--seconds", type=float, default=120)
    ap.add_argument("--out")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    tmp = tempfile.mkdtemp(prefix="pgrepl-cost-")
    res = {"started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
           "seconds": args.seconds,
           "loadavg_start": open("/proc/loadavg").read().split()[:3]}
    try:
        queries = extract_lag_query(tmp)
        with harness.Cluster(replicas=2) as cluster:
            names = cluster.names()
            ours = start(args.exporter, cluster)
            base = start(args.baseline, cluster, BASE_APP) if args.baseline else None
            with contextlib.ExitStack() as stack:
                stack.enter_context(ours)
                if base:
                    stack.enter_context(base)
                ref = stack.enter_context(
                    Reference(args.reference, cluster, queries))
                for e in [ours] + ([base] if base else []):
                    for n in names:
                        e.wait_metric("pgrepl_up", {"instance": n},
                                      lambda v: v == 1, 30)
                clients = {n: m.ScrapeClient(ref.port(n), 15) for n in names}
                for c in clients.values():  # connects its sessions
                    c.get()
                time.sleep(5)  # past the first polls of every session
                apps = {"ours": OURS_APP, "reference": REF_APP}
                if base:
                    apps["baseline"] = BASE_APP
                pids = {k: backends(cluster, a) for k, a in apps.items()}
                m0 = ours.scrape()
                rt0 = total(m0, "pgrepl_poll_round_trips_total", names)
                c0 = {k: cpu(p) for k, p in pids.items()}
                t0 = time.monotonic()
                scrapes = 0
                while time.monotonic() - t0 < args.seconds:
                    for c in clients.values():
                        status, _, _ = c.get()
                        assert status == 200, status
                    scrapes += 1
                    time.sleep(max(0.0, t0 + scrapes * SCRAPE_EVERY
                                   - time.monotonic()))
                dt = time.monotonic() - t0
                c1 = {k: cpu(p) for k, p in pids.items()}
                m1 = ours.scrape()
                rt1 = total(m1, "pgrepl_poll_round_trips_total", names)
                for c in clients.values():
                    c.close()
                per_poll = [m1.get("pgrepl_poll_round_trips", instance=n)
                            for n in names]
                polls = dt * len(names)  # 1 s polls, every instance
                res["round_trips_per_poll_latest"] = per_poll
                res["round_trips_per_poll_mean"] = (rt1 - rt0) / polls
                for k in apps:
                    ns = c1[k][0] - c0[k][0]
                    ticks = c1[k][1] - c0[k][1]
                    n_events = scrapes * len(names) if k == "reference" else polls
                    per_event_ms = ns / 1e6 / n_events
                    per_instance = {
                        n: (c1[k][3][n] - c0[k][3][n]) / 1e6 /
                        (n_events / len(names)) for n in names}
                    res[k] = {
                        "sessions": {n: len(p) for n, p in pids[k].items()},
                        "backends_gone": c1[k][2],
                        "events": n_events,
                        "server_cpu_ms_per_event": per_event_ms,
                        "server_cpu_ms_per_event_by_instance": per_instance,
                        "server_cpu_ms_per_event_utime_stime":
                            ticks * 1000 / TICK / n_events,
                        "server_cpu_ms_per_s_per_instance":
                            per_event_ms / (REFERENCE_INTERVAL if k == "reference" else 1.0),
                    }
                res["window_s"] = dt
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    res["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
    if args.out:
        with open(args.out, "w") as f:
            json.dump(res, f, indent=1, sort_keys=True)
            f.write("\n")
    print(report(res))
    return 0


def report(r):
    rows = [("pgrepl_exporter (this build), per poll at 1 s", r["ours"], 1)]
    if "baseline" in r:
        rows.append(("pgrepl_exporter (--baseline build), per poll at 1 s",
                     r["baseline"], 1))
    rows.append((f"postgres_exporter, per scrape (at {REFERENCE_INTERVAL} s)",
                 r["reference"], REFERENCE_INTERVAL))
    out = [f"Window {r['window_s']:.0f} s on a 1+2 cluster, load average "
           f"{' '.join(r['loadavg_start'])} -> {' '.join(r['loadavg_end'])}.",
           "",
           "| exporter | server CPU per poll/scrape per instance (schedstat) "
           "| same from utime+stime | server CPU per second of wall time per "
           "instance | polls/scrapes measured |",
           "|---|---|---|---|---|"]
    for label, x, _ in rows:
        out.append(f"| {label} | {x['server_cpu_ms_per_event']:.3f} ms "
                   f"| {x['server_cpu_ms_per_event_utime_stime']:.3f} ms "
                   f"| {x['server_cpu_ms_per_s_per_instance']:.3f} ms/s "
                   f"| {x['events']:.0f} |")
    out.append("")
    for label, x, _ in rows:
        by = x.get("server_cpu_ms_per_event_by_instance", {})
        out.append(f"By instance, {label.split(',')[0]}: " + ", ".join(
            f"{n} {v:.3f} ms" for n, v in by.items()) + ".")
    out.append("")
    out.append(f"Round trips per poll (ours): mean "
               f"{r['round_trips_per_poll_mean']:.3f} over the window; "
               f"pgrepl_poll_round_trips at the end: "
               f"{r['round_trips_per_poll_latest']}.")
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
