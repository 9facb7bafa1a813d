"""Replica discovery through DNS, re-resolved every poll cycle.

The test gives the exporter its own /etc/hosts in a private mount
namespace (unshare -m, then a bind mount), so no system file changes.
The name pgrepl-replicas.test resolves to 127.0.0.1, whose reverse name
is replica1.pgrepl-replicas.test: the discovered instance is "replica1".
Editing the file in place makes the name vanish and come back."""

import os
import shutil
import sys
import tempfile

from harness import (Cluster, Exporter, mount_namespace, run_tests, wait_until,
                     with_private_hosts)

NAME = "pgrepl-replicas.test"
state = {}


def write_hosts(present):
    # In place (same inode), so the bind mount sees the change.
    with open(state["hosts"], "w") as f:
        f.write("127.0.0.2 unrelated.test\n")
        if present:
            f.write(f"127.0.0.1 replica1.{NAME} {NAME}\n")


def test_discovered_replica_is_polled():
    e = state["exporter"]
    want = [
        ("pgrepl_up", {"instance": "primary"}, 1),
        ("pgrepl_up", {"instance": "replica1"}, 1),
        ("pgrepl_discovered_replicas", {"cluster": "disc"}, 1),
        ("pgrepl_role", {"instance": "replica1", "role": "replica"}, 1),
        ("pgrepl_standby_connected", {"instance": "primary", "standby": "replica1"}, 1),
        # replica2 is not discovered, but its slot makes it expected.
        ("pgrepl_standby_connected", {"instance": "primary", "standby": "replica2"}, 1),
        ("pgrepl_cluster_replicas_expected", {"cluster": "disc"}, 1),
    ]

    def wrong():
        m = e.scrape()
        return [(n, l, m.get(n, **l)) for n, l, v in want if m.get(n, **l) != v]
    last = []

    def ok():
        last[:] = wrong()
        return not last
    try:
        wait_until(ok, 20, what="discovered replica metrics")
    except AssertionError as err:
        raise AssertionError(f"{err}: still wrong {last}") from None


def test_name_vanishes_and_returns():
    e = state["exporter"]
    write_hosts(False)
    wait_until(lambda: e.scrape().get("pgrepl_up", instance="replica1") is None,
               10, what="replica1 series to disappear")
    assert e.scrape().get("pgrepl_discovered_replicas", cluster="disc") == 0
    write_hosts(True)
    e.wait_metric("pgrepl_up", {"instance": "replica1"}, lambda v: v == 1, 15)
    assert e.proc.poll() is None


def main():
    unshare = mount_namespace()
    if unshare is None:
        print("0 passed, 0 failed, 1 skipped: cannot create a mount namespace")
        return 0
    with Cluster(replicas=2) as c:
        tmp = tempfile.mkdtemp(prefix="pgrepl-hosts-")
        state["hosts"] = os.path.join(tmp, "hosts")
        write_hosts(True)
        config = {"clusters": [{
            "name": "disc",
            "primary": {"name": "primary", "conninfo": c.conninfo("primary")},
            "replica_discovery": {"host": NAME, "port": c.port("replica1"),
                                  "conninfo": "user=pgrepl_monitor dbname=postgres"},
        }]}
        e = Exporter(config, ["--poll.interval=1s"], password=c.password())
        e.command = with_private_hosts(unshare, state["hosts"], tmp)
        try:
            with e:
                state["exporter"] = e
                return run_tests([test_discovered_replica_is_polled,
                                  test_name_vanishes_and_returns])
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
