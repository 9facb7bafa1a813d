"""The exporter identifies servers, not addresses (issue 15, part 2).

A real 1 primary + 1 replica cluster on loopback, watched by the exporter
and by a real Prometheus that loads alerts/pgrepl.rules.yml:

- One server, two addresses: the configured primary target ("endpoint",
  as DB_HOST names the write endpoint) is the primary at 127.0.0.1, and
  replica discovery, given the address 127.0.0.2 (an IP literal: no DNS
  needed), reaches the same server there through a TCP forwarder (as a
  router or Service does). The exporter reads the same system identifier
  and postmaster start time on both sessions: it shows one instance,
  named as discovered, with "endpoint" as its alias; the cluster has one
  primary, and PgreplSplitBrain never even goes pending.
- A real split brain: the replica is promoted while the primary runs. Two
  servers, both writable: the cluster counts 2 primaries and Prometheus
  fires PgreplSplitBrain within the rule's `for:` plus the scrape and
  evaluation delay.
"""

import json
import os
import re
import sys
import time

from harness import (SOURCE_DIR, Cluster, Exporter, log, run_tests,
                     wait_until)
from monitoring import Prometheus
from test_discovery import Forwarder

CLUSTER = "ident"
ALIAS_ADDRESS = "127.0.0.2"  # the discovery "name": an IP literal
INTERVAL = 1.0  # --poll.interval and Prometheus' scrape/evaluation interval
RULES = os.path.join(SOURCE_DIR, "alerts", "pgrepl.rules.yml")
# Scrape, evaluation and a loaded 2-core machine's delays beyond `for:`.
ALERT_SLACK = 3 * INTERVAL + 4.0
state = {}


def split_brain_for():
    """The `for:` of PgreplSplitBrain in the rules file, in seconds."""
    with open(RULES) as f:
        text = f.read()
    m = re.search(r"alert: PgreplSplitBrain\n\s+expr: (.*)\n\s+for: (\d+)s",
                  text)
    if not m:
        raise AssertionError("PgreplSplitBrain (expr, for: Ns) not found in "
                             "alerts/pgrepl.rules.yml")
    return m.group(1).strip(), int(m.group(2))


def split_brain_alerts(prom):
    """PgreplSplitBrain alerts of this cluster, pending or firing."""
    status, result, err = prom.query(
        f'ALERTS{{alertname="PgreplSplitBrain",cluster="{CLUSTER}"}}')
    if status != "success":
        raise AssertionError(f"Prometheus query failed: {err}")
    return [r["metric"].get("alertstate") for r in result]


def test_one_server_two_addresses_is_one_instance():
    e, prom = state["exporter"], state["prometheus"]
    last = {}

    # Until the discovered session has read the server's identity the two
    # are two instances; then they merge. Wait for the merged steady state.
    def steady():
        m = e.scrape()
        last["m"] = m
        up = {dict(ls)["instance"]: v
              for ls, v in m.all("pgrepl_up", cluster=CLUSTER).items()}
        return (m.get("pgrepl_discovered_replicas", cluster=CLUSTER) == 1
                and len(up) == 2 and "replica1" in up
                and "endpoint" not in up and all(v == 1 for v in up.values()))
    try:
        wait_until(steady, 30, what="the two targets merged into one")
    except AssertionError as err:
        raise AssertionError(f"{err}; last scrape:\n"
                             + "\n".join(l for l in last["m"].text.splitlines()
                                         if "pgrepl_up" in l
                                         or "cluster_" in l)) from None
    m = last["m"]
    name = [dict(ls)["instance"] for ls in m.all("pgrepl_up", cluster=CLUSTER)
            if dict(ls)["instance"] != "replica1"][0]
    log(f"the primary is shown as {name!r}")
    assert name != "endpoint", "the discovered name wins"
    assert m.get("pgrepl_cluster_primaries", cluster=CLUSTER) == 1, m.text
    assert m.get("pgrepl_cluster_instances", cluster=CLUSTER) == 2
    assert m.get("pgrepl_cluster_instances_up", cluster=CLUSTER) == 2
    assert m.get("pgrepl_cluster_replicas_expected", cluster=CLUSTER) == 1, \
        "replica1 only: the merged primary is reached as the configured primary"
    roles = m.all("pgrepl_role", cluster=CLUSTER, role="primary")
    primaries = [dict(ls)["instance"] for ls, v in roles.items() if v == 1]
    assert primaries == [name], f"exactly one primary series: {roles}"
    assert not m.all("pgrepl_wal_lsn_bytes", cluster=CLUSTER,
                     instance="endpoint"), "no series under the alias"
    standby = m.get("pgrepl_standby_connected", cluster=CLUSTER,
                    instance=name, standby="replica1")
    assert standby == 1, f"the merged primary serves replica1: {standby}"

    status = json.loads(e.get("/status")[1])
    c = next(c for c in status["clusters"] if c["name"] == CLUSTER)
    assert c["primaries"] == 1, c
    assert [i["name"] for i in c["instances"]] == [name, "replica1"], c
    p = c["instances"][0]
    assert p["aliases"] == ["endpoint"], p
    assert p["configured_role"] == "primary" and p["discovered"], p
    assert p["role"] == "primary" and p["up"], p

    # Prometheus evaluates the rule itself: the alert's expression must
    # match nothing, over longer than its `for:`.
    expr, hold = split_brain_for()
    deadline = time.monotonic() + hold + ALERT_SLACK
    while time.monotonic() < deadline:
        assert split_brain_alerts(prom) == [], "PgreplSplitBrain is active"
        time.sleep(INTERVAL)
    status, result, err = prom.query_range(
        f'({expr}) and on (cluster) pgrepl_cluster_primaries'
        f'{{cluster="{CLUSTER}"}}', hold + ALERT_SLACK)
    assert status == "success", err
    assert result == [], f"{expr} matched: {result}"
    status, result, err = prom.query(
        f'pgrepl_cluster_primaries{{cluster="{CLUSTER}"}}')
    assert status == "success" and [r["value"][1] for r in result] == ["1"], \
        result


def test_real_split_brain_counts_two_and_pages():
    e, prom, c = state["exporter"], state["prometheus"], state["cluster"]
    _, hold = split_brain_for()
    c.tool("promote", "replica1")
    t0 = time.monotonic()
    e.wait_metric("pgrepl_cluster_primaries", {"cluster": CLUSTER},
                  lambda v: v == 2, 15, what="2 primaries after the promotion")
    seen = time.monotonic()
    m = e.scrape()
    roles = m.all("pgrepl_role", cluster=CLUSTER, role="primary")
    primaries = sorted(dict(ls)["instance"] for ls, v in roles.items()
                       if v == 1)
    assert len(primaries) == 2 and "replica1" in primaries, roles

    def firing():
        return "firing" in split_brain_alerts(prom)
    wait_until(firing, hold + ALERT_SLACK + 5, interval=0.5,
               what="PgreplSplitBrain firing")
    took = time.monotonic() - seen
    log(f"2 primaries seen {seen - t0:.1f}s after the promotion; "
        f"PgreplSplitBrain firing {took:.1f}s later (for: {hold}s)")
    assert took <= hold + ALERT_SLACK, \
        f"fired {took:.1f}s after the split brain showed, for: is {hold}s"


def main():
    with Cluster(replicas=1) as c:
        state["cluster"] = c
        primary_port = c.port("primary")
        user = (f"user={c.info['monitor_user']} dbname=postgres")
        config = {"clusters": [{
            "name": CLUSTER,
            "primary": {"name": "endpoint",
                        "conninfo": c.conninfo("primary")},
            "replicas": [{"name": "replica1",
                          "conninfo": c.conninfo("replica1")}],
            "replica_discovery": {"host": ALIAS_ADDRESS,
                                  "port": primary_port, "conninfo": user},
        }]}
        # The primary listens on 127.0.0.1 only; 127.0.0.2 reaches it
        # through the forwarder, on the same port.
        with Forwarder((ALIAS_ADDRESS, primary_port),
                       ("127.0.0.1", primary_port)), \
                Exporter(config, [f"--poll.interval={INTERVAL:g}s",
                                  "--poll.timeout=2s"],
                         password=c.password()) as e, \
                Prometheus(e.port, rule_files=[RULES],
                           interval=f"{INTERVAL:g}s") as prom:
            state["exporter"] = e
            state["prometheus"] = prom
            rc = run_tests([test_one_server_two_addresses_is_one_instance,
                            test_real_split_brain_counts_two_and_pages])
            if rc:
                sys.stdout.write("---- exporter log (tail) ----\n")
                sys.stdout.write("\n".join(e.log().splitlines()[-40:]) + "\n")
            return rc


if __name__ == "__main__":
    sys.exit(main())
