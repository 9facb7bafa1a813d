"""Every query of every Grafana dashboard in dashboards/ returns data from a
real Prometheus scraping the real exporter on a real 1 primary + 2 replica
cluster.

Scenario: a bounded write load on the primary, a 2 s apply delay on
replica1, the heartbeat on, and max_slot_wal_keep_size set (so that
safe_wal_size exists). Prometheus (the Debian binary) scrapes the exporter
every second with honor_labels: true and loads alerts/pgrepl.rules.yml.

Phase 1 resolves the template variables with their own queries, then sends
every panel query, with the variables substituted the way Grafana does, to
/api/v1/query: each must parse and return at least one finite sample.
The overview runs once for the cluster with all instances selected; the
instance dashboard runs once per instance, and panels that only concern one
role are listed below with that role. Phase 2 promotes replica2, which must
make the role and timeline annotations and the firing-alerts panel non-empty.
"""

import json
import math
import os
import re
import sys
import time

from harness import SOURCE_DIR, Cluster, Exporter, Load, log, run_tests, wait_until
from monitoring import Prometheus

DASHBOARDS = os.path.join(SOURCE_DIR, "dashboards")
RULES = os.path.join(SOURCE_DIR, "alerts", "pgrepl.rules.yml")
CLUSTER = "it"

# Grafana's built-in intervals, replaced with short windows that fit a
# test: 1 s scrapes, so 15 s holds 15 samples.
BUILTINS = {"__rate_interval": "15s", "__interval": "5s", "__range": "1m"}

# Instance-dashboard panels that concern one role only; in this scenario
# they must have data for every instance of that role (and only parse for
# the others).
ROLE_ONLY = {
    "WAL receiver": "replica",
    "Replay": "replica",
    "WAL receiver (pg_stat_wal_receiver)": "replica",
    "Replay lag": "replica",
    "Replay lag (bytes)": "replica",
    "Lag by stage, as the upstream sees it": "replica",
    "Lag by stage, as the upstream sees it (bytes)": "replica",
    "Lag seen at every poll": "replica",
    "Feedback age": "replica",
    "WAL received and replayed": "replica",
    "Lag cause": "replica",
    "Lag by stage, on the replica (bytes)": "replica",
    "Oldest query on the replica vs replay delays": "replica",
    "Queries cancelled on the replica": "replica",
    "WAL written": "primary",
    "Synchronous replication": "primary",
    "Synchronous standbys": "primary",
    "WAL generation (pg_stat_wal)": "primary",
    "Expected standbys": "primary",
    "Standbys": "primary",
    "Standby lag by stage": "primary",
    "Standby lag by stage (bytes)": "primary",
    "xmin horizon held by standbys and slots": "primary",
    # Slots live on the primary here; a cascading replica would have some.
    "Slot retained WAL": "primary",
    "Slot safe_wal_size": "primary",
    "Slots": "primary",
}

# Panels legitimately empty in this scenario, with the reason.
ALLOWED_EMPTY = {
    ("pgrepl-instance", "Replica discovery"):
        "pgrepl_discovered_replicas and pgrepl_discovery_errors_total exist "
        "only with DNS replica discovery; this cluster is configured statically",
    ("pgrepl-instance", "Reads without a primary (sidecar)"):
        "pgrepl_primary_reachable and pgrepl_replica_serving_without_primary "
        "exist only on sidecars run with --sidecar.primary; this is a central "
        "exporter (their values are checked in test_replication.py)",
    ("pgrepl-instance", "WAL archiving: last archived and failed"):
        "archive_mode is off in this cluster, so nothing was archived or "
        "failed and the view reports NULL (absent); test_health.py fills and "
        "checks them with a failing and a working archive_command",
    ("pgrepl-instance", "Logical slots: unconfirmed WAL"):
        "this cluster has no logical slot (wal_level replica); test_health.py "
        "checks the lag growing and draining with a real subscription",
    ("pgrepl-instance", "Subscriptions (pg_stat_subscription)"):
        "this cluster has no subscription; test_health.py checks these "
        "values on a real subscriber",
}

# Empty until something happens: proven in phase 2 by a promotion.
EVENTS = {
    ("pgrepl-overview", "Firing pgrepl alerts"):
        "nothing fires in a healthy cluster; PgreplRoleChanged fires on promotion",
}

state = {}


# ------------------------------------------------------------- dashboards
def load_dashboards():
    out = {}
    for name in sorted(os.listdir(DASHBOARDS)):
        if name.endswith(".json"):
            with open(os.path.join(DASHBOARDS, name)) as f:
                d = json.load(f)
            out[d["uid"]] = d
    assert out, "no dashboards found"
    return out


def panels(dashboard):
    for p in dashboard["panels"]:
        yield p
        yield from p.get("panels", [])


def variables(dashboard):
    return {v["name"]: v for v in dashboard["templating"]["list"]}


def regex_escape(value):
    out = []
    for ch in value:
        if ch in "\\^$*+?.()|[]{}":
            out.append("\\\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def substitute(expr, dashboard, values):
    """Grafana's interpolation for the Prometheus datasource: a variable
    that is multi-valued or has "All" becomes an escaped regex alternation;
    a single-valued one its plain value."""
    vs = variables(dashboard)

    def fmt(name):
        if name in BUILTINS:
            return BUILTINS[name]
        var = vs.get(name)
        assert var is not None, f"unknown variable ${name} in {expr!r}"
        v = values[name]
        if var.get("multi") or var.get("includeAll"):
            v = v if isinstance(v, list) else [v]
            esc = [regex_escape(x) for x in v]
            return esc[0] if len(esc) == 1 else "(" + "|".join(esc) + ")"
        assert not isinstance(v, list), name
        return v.replace("\\", "\\\\").replace('"', '\\"')

    expr = re.sub(r"\$\{(\w+)(?::\w+)?\}", lambda m: fmt(m.group(1)), expr)
    expr = re.sub(r"\[\[(\w+)\]\]", lambda m: fmt(m.group(1)), expr)
    return re.sub(r"\$(\w+)", lambda m: fmt(m.group(1)), expr)


# ------------------------------------------------------------------ answers
def finite_samples(result):
    """Number of finite values in the result list of a successful query."""
    n = 0
    for series in result:
        points = series.get("values") or [series["value"]]
        n += sum(1 for _, v in points if math.isfinite(float(v)))
    return n


# ------------------------------------------------------------------- checks
def resolve_variable(prom, dashboard, var, values):
    """Runs a label_values(selector, label) variable query through the
    series API, as Grafana does; returns the sorted values."""
    q = var["query"]["query"] if isinstance(var["query"], dict) else var["query"]
    m = re.fullmatch(r"\s*label_values\((.*),\s*(\w+)\)\s*", q, re.S)
    assert m, f"unsupported variable query {q!r}"
    selector = substitute(m.group(1), dashboard, values)
    ans = prom.api("/api/v1/series", **{"match[]": selector})
    assert ans["status"] == "success", (q, ans)
    return sorted({s[m.group(2)] for s in ans["data"] if m.group(2) in s})


def dashboard_queries(dashboard):
    """[(panel title, refId, expr)] of every panel target."""
    out = []
    for p in panels(dashboard):
        for t in p.get("targets", []):
            if t.get("expr") and not t.get("hide"):
                out.append((p["title"], t["refId"], t["expr"]))
    return out


def run_queries(prom, dashboard, values):
    """{panel title: {refId: (status, finite samples, expr or error,
    [label dicts])}}."""
    out = {}
    for title, ref, expr in dashboard_queries(dashboard):
        q = substitute(expr, dashboard, values)
        status, result, error = prom.query(q)
        if status != "success":
            out.setdefault(title, {})[ref] = ("error", 0, f"{error} in {q}", [])
        else:
            out.setdefault(title, {})[ref] = (
                "success", finite_samples(result), q,
                [s["metric"] for s in result])
    return out


def panel_has_data(results):
    return all(r[0] == "success" and r[1] > 0 for r in results.values())


def parses(results):
    return all(r[0] == "success" for r in results.values())


def describe(title, results):
    bad = [f"{ref}: {r[0]}, {r[1]} finite samples: {r[2]}"
           for ref, r in sorted(results.items())
           if r[0] != "success" or r[1] == 0]
    return f"{title!r}: " + "; ".join(bad)


def merge_problem(title, results):
    """A table built with Grafana's "merge" transformation joins rows on
    the columns present in every query's frame. Checks that the frames
    join: no __name__ column (it would differ between queries and split
    the rows), a join key with `instance` or `slot`/`standby`, and every
    row of every query lands on a row of the first query."""
    frames = {ref: r[3] for ref, r in sorted(results.items())}
    if not all(frames.values()):
        return None  # emptiness is reported on its own
    for ref, rows in frames.items():
        if any("__name__" in row for row in rows):
            return f"{title!r} {ref}: __name__ column breaks the merge"
    columns = [set().union(*(row.keys() for row in rows))
               for rows in frames.values()]
    key = sorted(set.intersection(*columns))
    if "instance" not in key:
        return f"{title!r}: frames share no instance column (key {key})"
    first = next(iter(frames.values()))
    first_keys = {tuple(row.get(k) for k in key) for row in first}
    for ref, rows in frames.items():
        for row in rows:
            if tuple(row.get(k) for k in key) not in first_keys:
                return f"{title!r} {ref}: row {row} joins no row of the first query"
    return None


def merged_tables(dashboard):
    return {p["title"] for p in panels(dashboard)
            if any(t["id"] == "merge" for t in p.get("transformations", []))}


def phase1_problems(prom):
    """Every problem left in phase 1; empty when the dashboards are proven."""
    dashboards = state["dashboards"]
    problems = []
    ov = dashboards["pgrepl-overview"]
    merged = merged_tables(ov)
    vals = {"cluster": [CLUSTER], "instance": state["instances"]}
    for title, res in run_queries(prom, ov, vals).items():
        if not parses(res) or (("pgrepl-overview", title) not in EVENTS
                               and not panel_has_data(res)):
            problems.append("overview " + describe(title, res))
        elif title in merged and merge_problem(title, res):
            problems.append("overview " + merge_problem(title, res))
    inst = dashboards["pgrepl-instance"]
    merged = merged_tables(inst)
    per_instance = {
        name: run_queries(prom, inst, {"cluster": CLUSTER, "instance": name})
        for name in state["instances"]}
    for title in per_instance[state["instances"][0]]:
        role = ROLE_ONLY.get(title)
        for name, results in per_instance.items():
            res = results[title]
            must = (("pgrepl-instance", title) not in ALLOWED_EMPTY and
                    (role is None or state["roles"][name] == role))
            if not parses(res) or (must and not panel_has_data(res)):
                problems.append(f"instance={name} " + describe(title, res))
            elif must and title in merged and merge_problem(title, res):
                problems.append(f"instance={name} " + merge_problem(title, res))
    return problems


def test_variables_resolve():
    """The cluster and instance variables, run as Grafana runs them,
    list the test cluster and its three instances."""
    prom = state["prom"]
    for uid, d in state["dashboards"].items():
        vs = variables(d)
        assert vs["datasource"]["type"] == "datasource", uid
        clusters = wait_until(lambda: resolve_variable(prom, d, vs["cluster"], {}),
                              20, what="cluster variable values")
        assert clusters == [CLUSTER], (uid, clusters)
        value = [CLUSTER] if vs["cluster"].get("multi") else CLUSTER
        instances = resolve_variable(prom, d, vs["instance"], {"cluster": value})
        assert instances == ["primary", "replica1", "replica2"], (uid, instances)
    state["instances"] = instances


def test_every_panel_returns_data():
    """Every panel query of both dashboards parses and returns finite data
    (role-specific instance panels for their role, the listed exceptions
    excepted); waits up to 90 s for rate() and histogram windows to fill."""
    prom = state["prom"]
    t0 = time.monotonic()
    last = []

    def settled():
        last[:] = phase1_problems(prom)
        return not last
    try:
        wait_until(settled, 90, interval=2, what="every panel to return data")
    except AssertionError:
        raise AssertionError("panels without data:\n  " + "\n  ".join(last))
    n = sum(len(dashboard_queries(d)) for d in state["dashboards"].values())
    log(f"all panel queries return data after {time.monotonic() - t0:.1f}s "
        f"({n} targets; instance dashboard run for {len(state['instances'])} instances)")
    for key, why in {**ALLOWED_EMPTY, **EVENTS}.items():
        log(f"  allowed empty in phase 1: {key[0]} / {key[1]!r}: {why}")


def test_promotion_fills_annotations_and_alerts():
    """Promote replica2: the role-change and timeline-change annotation
    queries (both dashboards, as range queries like Grafana runs them) and
    the firing-alerts panel return data."""
    prom = state["prom"]
    cluster = state["cluster"]
    t0 = time.monotonic()
    cluster.tool("promote", "replica2")
    log(f"replica2 promoted in {time.monotonic() - t0:.1f}s")
    checks = []
    for uid, d in state["dashboards"].items():
        multi = variables(d)["cluster"].get("multi")
        vals = {"cluster": [CLUSTER] if multi else CLUSTER,
                "instance": state["instances"] if multi else "replica2"}
        for a in d["annotations"]["list"]:
            expr = a.get("expr") or a["target"]["expr"]
            checks.append((f"{uid} annotation {a['name']!r}",
                           substitute(expr, d, vals), True))
        for title, ref, expr in dashboard_queries(d):
            if (uid, title) in EVENTS:
                checks.append((f"{uid} panel {title!r} {ref}",
                               substitute(expr, d, vals), False))
    pending = []

    def all_have_data():
        pending.clear()
        for what, q, ranged in checks:
            status, result, error = (prom.query_range(q, 120) if ranged
                                     else prom.query(q))
            assert status == "success", (what, q, status, error)
            if finite_samples(result) == 0:
                pending.append(f"{what}: {q}")
        return not pending
    try:
        wait_until(all_have_data, 40, interval=1, what="event queries")
    except AssertionError:
        raise AssertionError("still empty after promotion:\n  " + "\n  ".join(pending))
    _, fired, _ = prom.query('ALERTS{alertname=~"Pgrepl.*", alertstate="firing"}')
    names = sorted({s["metric"]["alertname"] for s in fired})
    log(f"{len(checks)} event queries have data {time.monotonic() - t0:.1f}s "
        f"after the promotion; firing: {names}")


def main():
    # A slot size limit, so that safe_wal_size is reported (it is absent
    # with the default of unlimited).
    os.environ["PGC_EXTRA_CONF"] = "max_slot_wal_keep_size = 4GB"
    t_start = time.monotonic()
    state["dashboards"] = load_dashboards()
    with Cluster(replicas=2) as c:
        state["cluster"] = c
        state["roles"] = {"primary": "primary", "replica1": "replica",
                          "replica2": "replica"}
        sql = open(os.path.join(SOURCE_DIR, "docs", "heartbeat.sql")).read()
        c.tool("psql", "primary", "-X", "-v", "ON_ERROR_STOP=1", "-c", sql)
        c.tool("delay", "replica1", "2s")
        with Load(c, 150, 200), \
                Exporter(c.config(CLUSTER),
                         ["--poll.interval=1s", "--poll.timeout=2s", "--heartbeat"],
                         password=c.password()) as e, \
                Prometheus(e.port, rule_files=[RULES]) as prom:
            state["prom"] = prom
            log(f"prometheus on {prom.url}, exporter on {e.url}")
            rc = run_tests([test_variables_resolve,
                            test_every_panel_returns_data,
                            test_promotion_fills_annotations_and_alerts])
    log(f"total {time.monotonic() - t_start:.1f}s")
    return rc


if __name__ == "__main__":
    sys.exit(main())
