"""Static checks of the Grafana dashboards in dashboards/: shape and
conventions, metric names against docs/metrics.md and the rule file,
catalogue coverage, and thresholds against the alert thresholds.
Python standard library only; needs no build, database or Grafana.
(tests/integration/test_dashboards.py proves every query returns data.)
"""

import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "integration"))

from harness import SOURCE_DIR, log, run_tests  # noqa: E402

DASHBOARDS = os.path.join(SOURCE_DIR, "dashboards")
CATALOGUE = os.path.join(SOURCE_DIR, "docs", "metrics.md")
RULES = os.path.join(SOURCE_DIR, "alerts", "pgrepl.rules.yml")

DS = {"type": "prometheus", "uid": "${datasource}"}
UIDS = {"pgrepl-overview", "pgrepl-instance"}

# Prometheus's own series that a panel may use besides the catalogue.
BUILTIN_SERIES = {"up", "ALERTS", "ALERTS_FOR_STATE"}

# Catalogue metrics deliberately shown on no panel, with the reason.
# (Empty: every catalogue metric is on a panel. An entry here must be a
# catalogue metric that no panel uses.)
NOT_SHOWN = {}

# Alert thresholds the dashboards must show, read from the rule file: the
# alert, and the metrics whose panels must carry its threshold value.
THRESHOLD_ALERTS = {
    "PgreplReplicaLagWarning": ["pgrepl_replica_lag_seconds",
                                "pgrepl_standby_lag_seconds",
                                "pgrepl_heartbeat_lag_seconds"],
    "PgreplReplicaLagCritical": ["pgrepl_replica_lag_seconds",
                                 "pgrepl_standby_lag_seconds",
                                 "pgrepl_heartbeat_lag_seconds"],
    "PgreplReplicaLagBytes": ["pgrepl_replica_lag_bytes"],
    "PgreplSlotRetainingWal": ["pgrepl_slot_retained_wal_bytes"],
    "PgreplSlotSafeWalSizeLow": ["pgrepl_slot_safe_wal_size_bytes"],
}

PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right",
                "bool", "and", "or", "unless", "offset", "inf", "nan"}


# ---------------------------------------------------------------- loading
def load_dashboards():
    out = {}
    for name in sorted(os.listdir(DASHBOARDS)):
        if name.endswith(".json"):
            path = os.path.join(DASHBOARDS, name)
            with open(path) as f:
                text = f.read()
            try:
                d = json.loads(text)
            except ValueError as e:
                raise AssertionError(f"{name}: invalid JSON: {e}")
            out[name] = (d, text)
    return out


def panels(d):
    """Every panel, including those nested in collapsed rows."""
    for p in d.get("panels", []):
        yield p
        yield from p.get("panels", [])


def catalogue():
    """{metric: type} from the first column of docs/metrics.md's tables."""
    out = {}
    with open(CATALOGUE) as f:
        for line in f:
            if not line.startswith("| `"):
                continue
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            mtype = cells[1] if len(cells) > 1 else ""
            for name in re.findall(r"`([a-z_:][a-z0-9_:]*)`", cells[0]):
                out[name] = mtype
    assert len(out) > 30, f"catalogue parse found only {sorted(out)}"
    return out


def rules_text():
    with open(RULES) as f:
        return f.read()


def recording_rules():
    return set(re.findall(r"^\s*-\s*record:\s*(\S+)", rules_text(), re.M))


def alert_exprs():
    """{alert name: expr} (single-line exprs, as the rule file has them)."""
    return dict(re.findall(r"^\s*-\s*alert:\s*(\S+)\s*\n\s*expr:\s*(.+)$",
                           rules_text(), re.M))


def queries(d):
    """[(where, expr)] for every panel target, annotation and variable."""
    out = []
    for p in panels(d):
        for t in p.get("targets", []):
            out.append((f"panel {p.get('title')!r} {t.get('refId')}", t.get("expr", "")))
    for a in d.get("annotations", {}).get("list", []):
        for e in {a.get("expr"), (a.get("target") or {}).get("expr")} - {None}:
            out.append((f"annotation {a.get('name')!r}", e))
    for v in d.get("templating", {}).get("list", []):
        if v.get("type") == "query":
            q = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
            m = re.fullmatch(r"\s*label_values\((.*),\s*\w+\)\s*", q, re.S)
            assert m, f"variable {v['name']}: unsupported query {q!r}"
            out.append((f"variable {v['name']!r}", m.group(1)))
    return out


def metric_names(expr):
    """Series names a PromQL expression selects (strings, label matchers,
    ranges, grouping lists, Grafana variables, functions and keywords
    removed)."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    e = re.sub(r"\$\{[^}]*\}|\$\w+|\[\[\w+\]\]", "", e)
    e = re.sub(r"\{[^}]*\}", " ", e)
    e = re.sub(r"\[[^\]]*\]", " ", e)
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)",
               " ", e)
    names = set()
    for m in re.finditer(r"(?<![\w.])[a-zA-Z_:][a-zA-Z0-9_:]*", e):
        if e[m.end():].lstrip().startswith("("):
            continue  # a function or an aggregation
        if m.group(0).lower() in PROMQL_WORDS:
            continue
        names.add(m.group(0))
    return names


def base_metric(name, cat):
    """A histogram's _bucket/_sum/_count series -> the catalogue name."""
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and cat.get(name[:-len(suffix)]) == "histogram":
            return name[:-len(suffix)]
    return name


def used_metrics(dashboards, cat):
    used = {}
    for fname, (d, _) in dashboards.items():
        for where, expr in queries(d):
            for n in metric_names(expr):
                used.setdefault(base_metric(n, cat), []).append(f"{fname} {where}")
    return used


# ------------------------------------------------------------------ tests
def test_dashboards_are_valid_json_with_required_fields():
    """Each dashboard parses, has its stable uid, a title, schemaVersion
    38/39, no import inputs, and the datasource/cluster/instance variables."""
    ds = load_dashboards()
    assert {d["uid"] for d, _ in ds.values()} == UIDS, sorted(ds)
    for fname, (d, text) in ds.items():
        assert fname == d["uid"] + ".json", (fname, d["uid"])
        assert isinstance(d.get("title"), str) and d["title"], fname
        assert d.get("schemaVersion") in (38, 39), (fname, d.get("schemaVersion"))
        assert "__inputs" not in d and "${DS_" not in text, \
            f"{fname}: import inputs; use the datasource variable"
        assert d.get("id") is None, f"{fname}: a fixed numeric id breaks import"
        vs = {v["name"]: v for v in d["templating"]["list"]}
        assert {"datasource", "cluster", "instance"} <= set(vs), (fname, sorted(vs))
        assert vs["datasource"]["type"] == "datasource", fname
        assert vs["datasource"]["query"] == "prometheus", fname
        for name, query in (("cluster", "label_values(pgrepl_up, cluster)"),
                            ("instance", 'label_values(pgrepl_up{cluster=~"$cluster"}, instance)')):
            v = vs[name]
            q = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
            assert v["type"] == "query" and q == query, (fname, name, q)
            assert v["datasource"] == DS, (fname, name, v["datasource"])
        assert d.get("panels"), f"{fname}: no panels"


def test_every_panel_has_gridpos_datasource_and_unit():
    """Every panel has a gridPos inside the 24-column grid, a unique id and
    title; every non-row panel, target and annotation uses ${datasource};
    every non-row panel sets fieldConfig.defaults.unit."""
    for fname, (d, _) in load_dashboards().items():
        ids, titles = set(), set()
        for p in panels(d):
            where = f"{fname} panel {p.get('title')!r}"
            g = p.get("gridPos", {})
            assert all(isinstance(g.get(k), int) for k in "xywh"), (where, g)
            assert 0 <= g["x"] and g["x"] + g["w"] <= 24 and g["h"] > 0, (where, g)
            assert p.get("id") not in ids, f"{where}: duplicate id {p.get('id')}"
            ids.add(p.get("id"))
            if p["type"] == "row":
                continue
            assert p["title"] not in titles, f"{where}: duplicate title"
            titles.add(p["title"])
            assert p.get("datasource") == DS, (where, p.get("datasource"))
            assert p.get("targets"), f"{where}: no targets"
            for t in p["targets"]:
                assert t.get("datasource") == DS, (where, t.get("refId"))
                assert t.get("expr", "").strip(), (where, t.get("refId"))
            unit = p.get("fieldConfig", {}).get("defaults", {}).get("unit")
            assert isinstance(unit, str) and unit, f"{where}: no unit"
        for a in d["annotations"]["list"]:
            assert a.get("datasource") == DS, (fname, a.get("name"))
            target = a.get("target")
            if target and a.get("expr"):
                assert target["expr"] == a["expr"], (fname, a["name"])


def test_query_modes_and_descriptions():
    """Tables and stats run instant queries (tables in table format), time
    series range queries; every graph and table panel has a description."""
    for fname, (d, _) in load_dashboards().items():
        for p in panels(d):
            where = f"{fname} panel {p['title']!r}"
            for t in p.get("targets", []):
                if p["type"] in ("table", "stat"):
                    assert t.get("instant") is True and t.get("range") is False, where
                if p["type"] == "table":
                    assert t.get("format") == "table", where
                if p["type"] in ("timeseries", "heatmap"):
                    assert t.get("range") is True and not t.get("instant"), where
            if p["type"] in ("timeseries", "table", "heatmap"):
                assert p.get("description", "").strip(), f"{where}: no description"


def test_layout_and_links():
    """The overview repeats a row per cluster over a multi-value cluster
    variable; the instance dashboard selects one cluster and instance;
    every /d/<uid> link targets a dashboard of this directory."""
    ds = {d["uid"]: d for d, _ in load_dashboards().values()}
    ov = ds["pgrepl-overview"]
    vs = {v["name"]: v for v in ov["templating"]["list"]}
    assert vs["cluster"]["multi"] and vs["cluster"]["includeAll"]
    rows = [p for p in ov["panels"] if p["type"] == "row"]
    assert any(r.get("repeat") == "cluster" for r in rows), rows
    inst = {v["name"]: v for v in ds["pgrepl-instance"]["templating"]["list"]}
    assert not inst["cluster"]["multi"] and not inst["instance"]["multi"]
    text = json.dumps(list(ds.values()))
    for uid in re.findall(r"/d/([\w-]+)", text):
        assert uid in ds, f"link to unknown dashboard {uid}"


def test_every_metric_exists():
    """Every series a panel, annotation or variable selects is in
    docs/metrics.md, a recording rule of alerts/pgrepl.rules.yml, or a
    Prometheus built-in (up, ALERTS)."""
    cat = catalogue()
    known = set(cat) | recording_rules() | BUILTIN_SERIES
    used = used_metrics(load_dashboards(), cat)
    unknown = {m: w[:2] for m, w in used.items() if m not in known}
    assert not unknown, f"metrics not in the catalogue or rules: {unknown}"
    log(f"{len(used)} distinct series names used, all known")


def test_every_catalogue_metric_is_shown():
    """Every metric of docs/metrics.md is on at least one panel, or listed
    in NOT_SHOWN with a reason."""
    cat = catalogue()
    used = used_metrics(load_dashboards(), cat)
    for m, why in NOT_SHOWN.items():
        assert m in cat, f"NOT_SHOWN lists {m}, which is not in the catalogue"
        assert m not in used, f"NOT_SHOWN lists {m}, but it is shown: {used[m][:2]}"
        assert why.strip(), m
    missing = sorted(m for m in cat if m not in used and m not in NOT_SHOWN)
    assert not missing, f"catalogue metrics on no panel: {missing}"
    log(f"{len(cat)} catalogue metrics, {len(cat) - len(NOT_SHOWN)} shown, "
        f"{len(NOT_SHOWN)} deliberately not shown")


def alert_threshold(expr):
    """The number compared against in an alert expression, e.g. 1 in
    `x > 1`, 268435456 in `x > 256 * 1024 * 1024`."""
    m = re.search(r"[<>]=?\s*(\d+(?:\.\d+)?(?:\s*\*\s*\d+(?:\.\d+)?)*)", expr)
    assert m, f"no threshold in {expr!r}"
    value = 1.0
    for factor in m.group(1).split("*"):
        value *= float(factor)
    return value


def panel_threshold_values(p):
    fc = p.get("fieldConfig", {})
    steps = list(fc.get("defaults", {}).get("thresholds", {}).get("steps", []))
    for o in fc.get("overrides", []):
        for prop in o.get("properties", []):
            if prop.get("id") == "thresholds":
                steps += prop["value"].get("steps", [])
    return {float(s["value"]) for s in steps if s.get("value") is not None}


def test_thresholds_match_alert_rules():
    """A panel that shows a lag, slot or safe_wal_size metric carries the
    threshold of the matching alert, as written in alerts/pgrepl.rules.yml
    (1 s / 5 s, 256 MiB, 2 GiB, 1 GiB at the time of writing)."""
    alerts = alert_exprs()
    required = {}
    for alert, metrics in THRESHOLD_ALERTS.items():
        assert alert in alerts, f"{alert} not in the rule file"
        for m in metrics:
            required.setdefault(m, set()).add(alert_threshold(alerts[alert]))
    checked = 0
    for fname, (d, _) in load_dashboards().items():
        for p in panels(d):
            if p["type"] == "row":
                continue
            shown = set()
            for t in p["targets"]:
                shown |= metric_names(t["expr"])
            need = set().union(*(required.get(m, set()) for m in shown))
            if not need:
                continue
            have = panel_threshold_values(p)
            assert need <= have, \
                f"{fname} panel {p['title']!r}: thresholds {sorted(have)}, alerts need {sorted(need)}"
            checked += 1
    log(f"{checked} panels carry their alert thresholds "
        f"({', '.join(f'{m}: {sorted(v)}' for m, v in sorted(required.items()))})")


def test_provisioning_files():
    """dashboards/provisioning has a file dashboard provider and a
    Prometheus datasource example at http://prometheus:9090."""
    prov = os.path.join(DASHBOARDS, "provisioning")
    with open(os.path.join(prov, "dashboards.yml")) as f:
        text = f.read()
    assert re.search(r"^apiVersion: 1$", text, re.M), "dashboards.yml apiVersion"
    assert re.search(r"^providers:$", text, re.M), "dashboards.yml providers"
    assert re.search(r"^\s+type: file$", text, re.M), "dashboards.yml type: file"
    assert re.search(r"^\s+path: \S+", text, re.M), "dashboards.yml options.path"
    with open(os.path.join(prov, "datasource.yml")) as f:
        text = f.read()
    assert re.search(r"^apiVersion: 1$", text, re.M), "datasource.yml apiVersion"
    assert re.search(r"^\s+type: prometheus$", text, re.M), "datasource.yml type"
    assert re.search(r"^\s+url: http://prometheus:9090$", text, re.M), "datasource.yml url"


def test_metric_name_extraction():
    """The PromQL name extraction the checks above rely on."""
    assert metric_names(
        'histogram_quantile(0.99, sum by (cluster, le) (rate(a_bucket{x="b c"}[$__rate_interval])))'
        ' and on (job, instance) b{cluster=~"$cluster"} * 0 + on (slot) group_left () c'
        ' or time() - d offset 5m > bool 1e3') == {"a_bucket", "b", "c", "d"}
    assert metric_names("pgrepl:wal_bytes:rate1m > 1") == {"pgrepl:wal_bytes:rate1m"}
    assert alert_threshold("(x > 256 * 1024 * 1024) and on (c) (y == 1)") == 256 * 1024 * 1024
    assert alert_threshold("x:y < 1024 * 1024 * 1024") == 1024 ** 3


def main():
    tests = [test_metric_name_extraction,
             test_dashboards_are_valid_json_with_required_fields,
             test_every_panel_has_gridpos_datasource_and_unit,
             test_query_modes_and_descriptions,
             test_layout_and_links,
             test_every_metric_exists,
             test_every_catalogue_metric_is_shown,
             test_thresholds_match_alert_rules,
             test_provisioning_files]
    return run_tests(tests)


if __name__ == "__main__":
    sys.exit(main())
