"""Alerts end to end: real PostgreSQL 1+2 cluster -> exporter -> real
Prometheus with alerts/pgrepl.rules.yml -> real Alertmanager with
alerts/alertmanager.yml -> a webhook this test runs.

Test-only overrides, to keep CI time reasonable: every `for:` becomes 5s,
the recording group evaluates every 1s, Prometheus scrapes and evaluates
every 1s, Alertmanager groups after 1s and the webhook URLs point at this
test. Thresholds and expressions are the production ones. Times from fault
to notification are printed as figures, not asserted.
"""

import os
import re
import sys
import time

from harness import SOURCE_DIR, Cluster, Exporter, log, run_tests, wait_until
from monitoring import Alertmanager, Prometheus, Webhook, fast_rules_copy

ARGS = ["--poll.interval=1s", "--poll.timeout=2s", "--cluster=it"]
ctx = {}


def alertmanager_copy(webhook_port):
    with open(os.path.join(SOURCE_DIR, "alerts", "alertmanager.yml")) as f:
        text = f.read()
    text = text.replace("http://127.0.0.1:9095/", f"http://127.0.0.1:{webhook_port}/")
    text = re.sub(r"group_wait: \d+[smh]", "group_wait: 1s", text)
    text = re.sub(r"group_interval: \d+[smh]", "group_interval: 1s", text)
    return text


def key(labels):
    """(alertname, instance); None for cluster-level alerts, whose
    instance label is the exporter's scrape target."""
    instance = labels.get("instance")
    if instance == ctx.get("exporter_target"):
        instance = None
    return (labels.get("alertname"), instance)


def run_fault(name, inject, remove, expected, allowed=(), path_of=None,
              timeout=60, wait_clear=True):
    """Injects a fault, waits for every expected (alertname, instance) to be
    notified as firing, removes the fault, waits for each to be resolved,
    and checks that nothing outside expected + allowed was notified."""
    hook, prom = ctx["webhook"], ctx["prometheus"]
    t0 = time.monotonic()
    inject()
    fired = {}

    def all_fired():
        for t, path, status, labels in hook.alerts_since(t0):
            if status == "firing" and key(labels) in expected and key(labels) not in fired:
                fired[key(labels)] = (t - t0, path, labels)
        return len(fired) == len(expected)
    try:
        wait_until(all_fired, timeout, interval=0.5,
                   what=f"{name}: {sorted(set(expected) - set(fired))}")
    finally:
        t1 = time.monotonic()
        remove()
    for k, (dt, path, labels) in sorted(fired.items()):
        log(f"{name}: {k[0]}{{instance={k[1]}}} notified to {path} after {dt:.1f}s")
        assert labels.get("cluster") == "it", labels
        assert labels.get("severity") in ("critical", "warning"), labels
        if path_of:
            want = "/pager" if labels["severity"] == "critical" else "/ticket"
            assert path == want, (k, path)

    resolved = set()

    def all_resolved():
        for t, path, status, labels in hook.alerts_since(t1):
            if status == "resolved" and key(labels) in expected:
                resolved.add(key(labels))
        return len(resolved) == len(expected)
    wait_until(all_resolved, 60, interval=0.5,
               what=f"{name} resolved: {sorted(set(expected) - resolved)}")
    log(f"{name}: all resolved {time.monotonic() - t1:.1f}s after the fix")
    if wait_clear:
        wait_until(lambda: not prom.firing(), 60, interval=0.5,
                   what=f"{name}: Prometheus alerts to clear")
    seen = {key(l) for _, _, _, l in hook.alerts_since(t0)}
    unexpected = seen - set(expected) - set(allowed)
    assert not unexpected, f"{name}: unexpected alerts {sorted(unexpected)}"
    time.sleep(2)  # let the resolved notifications drain


def test_healthy_cluster_is_silent():
    hook = ctx["webhook"]
    t0 = time.monotonic()
    time.sleep(20)
    assert not ctx["prometheus"].firing(), ctx["prometheus"].firing()
    got = hook.alerts_since(0)
    assert not got, f"alerts on a healthy cluster: {[key(l) for *_, l in got]}"


def test_apply_delay_above_critical():
    c = ctx["cluster"]
    load = {}

    def inject():
        c.tool("delay", "replica1", "8s")
        import subprocess
        from harness import PGCLUSTER
        load["p"] = subprocess.Popen([PGCLUSTER, "load", c.dir, "40", "200"],
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)

    def remove():
        c.tool("delay", "replica1", "0")
        load["p"].terminate()
        load["p"].wait(30)
    run_fault("apply delay 8s", inject, remove,
              expected={("PgreplReplicaLagCritical", "replica1")},
              allowed={("PgreplReplicaLagWarning", "replica1"),
                       ("PgreplReplicaLagTrendingUp", "replica1")},
              path_of=True)


def test_stopped_replica():
    c = ctx["cluster"]
    run_fault("replica2 stopped", lambda: c.tool("stop", "replica2"),
              lambda: c.tool("start", "replica2"),
              expected={("PgreplInstanceDown", "replica2"),
                        ("PgreplStandbyNotConnected", "primary"),
                        ("PgreplReplicasNotStreaming", None)},
              allowed={("PgreplSlotInactive", "primary")}, path_of=True)


def test_paused_replay():
    c = ctx["cluster"]
    load = {}

    def inject():
        import subprocess
        from harness import PGCLUSTER
        c.tool("pause", "replica1")
        load["p"] = subprocess.Popen([PGCLUSTER, "load", c.dir, "30", "100"],
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)

    def remove():
        c.tool("resume", "replica1")
        load["p"].terminate()
        load["p"].wait(30)
    run_fault("replay paused", inject, remove,
              expected={("PgreplReplayPaused", "replica1")},
              allowed={("PgreplReplicaLagWarning", "replica1"),
                       ("PgreplReplicaLagCritical", "replica1"),
                       ("PgreplReplicaLagTrendingUp", "replica1")})


def test_stopped_primary():
    c = ctx["cluster"]
    run_fault("primary stopped", lambda: c.tool("stop", "primary"),
              lambda: c.tool("start", "primary"),
              expected={("PgreplNoPrimary", None), ("PgreplInstanceDown", "primary")},
              allowed={("PgreplReplicasNotStreaming", None)}, path_of=True)


def test_promotion_two_primaries():
    """Promote replica2 with the primary up; fencing it (stopping it)
    removes the split brain."""
    c = ctx["cluster"]
    run_fault("replica2 promoted", lambda: c.tool("promote", "replica2"),
              lambda: c.tool("stop", "replica2"),
              expected={("PgreplSplitBrain", None)},
              allowed={("PgreplRoleChanged", "replica2"),
                       ("PgreplTimelineChanged", "replica2"),
                       ("PgreplReplicasNotStreaming", None),
                       ("PgreplStandbyNotConnected", "primary"),
                       # The promoted instance expects replica1 as its own
                       # standby: true, and part of the same split brain.
                       ("PgreplStandbyNotConnected", "replica2"),
                       ("PgreplSlotInactive", "primary"),
                       ("PgreplInstanceDown", "replica2")},
              timeout=60, wait_clear=False)
    # The role/timeline signals were notified too (they keep firing for
    # their 10-minute window, so only their arrival is checked).
    seen = {key(l) for *_, l in ctx["webhook"].alerts_since(0)}
    assert ("PgreplRoleChanged", "replica2") in seen, seen
    assert ("PgreplTimelineChanged", "replica2") in seen, seen


def main():
    with Cluster(replicas=2) as c:
        ctx["cluster"] = c
        with Exporter(c.config("it"), ARGS, password=c.password()) as e, \
                Webhook() as hook:
            ctx["exporter_target"] = f"127.0.0.1:{e.port}"
            ctx["webhook"] = hook
            with Alertmanager(alertmanager_copy(hook.port)) as am:
                rules = fast_rules_copy(am.dir)
                with Prometheus(e.port, [rules], am.port) as prom:
                    ctx["prometheus"] = prom
                    wait_until(lambda: prom.query("pgrepl_up")[1], 20,
                               what="first scrape")
                    return run_tests([
                        test_healthy_cluster_is_silent,
                        test_apply_delay_above_critical,
                        test_stopped_replica,
                        test_paused_replay,
                        test_stopped_primary,
                        test_promotion_two_primaries,
                    ])


if __name__ == "__main__":
    sys.exit(main())
