"""Static checks of the router's configuration, k8s/router/haproxy.cfg (the
file tests/lifecycle/ runs and the postgres-router ConfigMap is generated
from; tests/k8s/check.sh router checks the Kubernetes side):

  - `haproxy -c` accepts it with the lifecycle test's environment, without
    a warning;
  - it reads exactly the variables tests/lifecycle/router.py sets, and
    fails to load when one is missing (an unset variable must stop HAProxy,
    not leave a router without a backend);
  - the health checks and timings are those the lifecycle test derives its
    time bounds from (test_lifecycle.py: MAX_LAG, CHECK_INTERVAL).

Needs Debian's haproxy (scripts/install-deps.sh); no build, no database.
"""

import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, os.path.join(HERE, "..", "lifecycle"))

from harness import log, run_tests  # noqa: E402
import router  # noqa: E402

LOOPBACK = router.router_env(
    "127.0.0.1:15432", "127.0.0.1:15433", "127.0.0.1:18404",
    [("127.0.0.1:25432", 29752), ("127.0.0.1:25433", 29753),
     ("127.0.0.1:25434", 29754)])


def config_lines():
    """The configuration's lines without comments and blank lines."""
    with open(router.CONFIG) as f:
        return [line.strip() for line in f
                if line.strip() and not line.lstrip().startswith("#")]


def section(name):
    """The lines of one section ("backend postgres_read", ...)."""
    lines, inside = [], False
    for line in config_lines():
        if re.match(r"^(global|defaults|frontend|backend|listen|resolvers)\b", line):
            inside = line == name
            continue
        if inside:
            lines.append(line)
    assert lines, f"no section {name!r} in {router.CONFIG}"
    return lines


def test_valid_on_loopback():
    r = router.check_config(LOOPBACK)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Configuration file is valid" in r.stdout, r.stdout
    warnings = [line for line in (r.stdout + r.stderr).splitlines() if "WARNING" in line]
    assert not warnings, warnings


def test_variables():
    used = set()
    for line in config_lines():
        used |= set(re.findall(r'"\$\{([A-Za-z_][A-Za-z0-9_]*)\}"', line))
        assert not re.search(r"\$\{[^}]*-", line), f"a default value hides a missing variable: {line}"
    assert used == set(LOOPBACK), (sorted(used), sorted(LOOPBACK))
    for name in sorted(used):
        env = {k: v for k, v in LOOPBACK.items() if k != name}
        r = router.check_config(env)
        assert r.returncode != 0, f"haproxy -c passed without {name}"
    log(f"{len(used)} variables, each one required")


def test_checks_match_the_lifecycle_test():
    import test_lifecycle as lt
    write = section("backend postgres_write")
    read = section("backend postgres_read")
    assert "http-check send meth GET uri /primary" in write, write
    max_lag = f"{lt.MAX_LAG:g}s"
    assert f"http-check send meth GET uri /replica?max_lag={max_lag}" in read, read
    defaults = section("defaults")
    inter = [line for line in defaults if line.startswith("default-server")]
    assert inter and f"inter {lt.CHECK_INTERVAL:g}s" in inter[0], inter
    assert "on-marked-down shutdown-sessions" in inter[0], inter
    # fall 1 on reads: the leave window max_lag + 2 checks holds only if
    # one failed check removes a replica (the exporter fails it at once).
    assert "default-server fall 1 rise 1" in read, read
    assert "default-server fall 2 rise 1" in write, write
    # Writes: every server is every database, in the same order.
    servers_w = [line.split()[1:3] for line in write if line.startswith("server ")]
    servers_r = [line.split()[1:3] for line in read if line.startswith("server ")]
    assert servers_w == servers_r and [s[0] for s in servers_w] == list(router.SERVERS), \
        (servers_w, servers_r)


def main():
    return run_tests([test_valid_on_loopback, test_variables,
                      test_checks_match_the_lifecycle_test])


if __name__ == "__main__":
    sys.exit(main())
