"""The live /metrics output against promtool and docs/metrics.md: a real
1 primary + 1 replica cluster with the heartbeat on, so that every kind of
series is present."""

import os
import re
import shutil
import subprocess
import sys

from harness import SOURCE_DIR, Cluster, Exporter, log, run_tests, wait_until

state = {}


def test_promtool_check_metrics_is_clean():
    promtool = shutil.which("promtool")
    assert promtool, "promtool missing (Debian package prometheus)"
    text = state["text"]
    r = subprocess.run([promtool, "check", "metrics"], input=text, text=True,
                       capture_output=True, timeout=30)
    assert r.returncode == 0 and not (r.stdout + r.stderr).strip(), \
        f"promtool: {r.stdout}{r.stderr}"


def test_every_exported_metric_is_documented():
    with open(os.path.join(SOURCE_DIR, "docs", "metrics.md")) as f:
        doc = f.read()
    documented = set(re.findall(r"`((?:pgrepl|process)_[a-z_]+)`", doc))
    families = set(re.findall(r"^# TYPE (\S+) ", state["text"], re.M))
    missing = sorted(f for f in families if f not in documented)
    assert not missing, f"undocumented metrics: {missing}"
    log(f"{len(families)} metric families exported, all documented")


def main():
    with Cluster(replicas=1) as c:
        sql = open(os.path.join(SOURCE_DIR, "docs", "heartbeat.sql")).read()
        c.tool("psql", "primary", "-X", "-v", "ON_ERROR_STOP=1", "-c", sql)
        with Exporter(c.config("cat"), ["--poll.interval=1s", "--heartbeat"],
                      password=c.password()) as e:
            wait_until(lambda: e.scrape().get("pgrepl_heartbeat_lag_seconds",
                                              instance="replica1") is not None,
                       15, what="heartbeat lag")
            state["text"] = e.scrape().text
            return run_tests([test_promtool_check_metrics_is_clean,
                              test_every_exported_metric_is_documented])


if __name__ == "__main__":
    sys.exit(main())
