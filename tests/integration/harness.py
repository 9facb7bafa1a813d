"""Integration-test harness: real PostgreSQL clusters and a real exporter.

Clusters come from scripts/pgcluster.sh (the same tool the demo and the
benchmarks use). The exporter is the built binary, named by the
PGREPL_EXPORTER environment variable that ctest sets. Everything started
here is stopped by the context managers, also when a test fails.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

SOURCE_DIR = os.environ.get(
    "PGREPL_SOURCE_DIR",
    os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
PGCLUSTER = os.path.join(SOURCE_DIR, "scripts", "pgcluster.sh")
EXPORTER = os.environ.get("PGREPL_EXPORTER",
                          os.path.join(SOURCE_DIR, "build", "pgrepl_exporter"))


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# The first line of an ASan, LSan, UBSan or TSan report. Sanitizer builds
# (tests/sanitize/run.sh) make the exporter stop on the first report.
SANITIZER_REPORT = re.compile(
    r"ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|"
    r"(WARNING|ERROR): ThreadSanitizer")


def sanitizer_report(text):
    """The index of the first line of a sanitizer report in text's lines,
    or None."""
    for i, line in enumerate(text.splitlines()):
        if SANITIZER_REPORT.search(line):
            return i
    return None


def mount_namespace():
    """The `unshare` command prefix for a private mount namespace (a user
    namespace too when not root), or None when this machine cannot make
    one."""
    if shutil.which("unshare") is None:
        return None
    prefix = ["unshare", "-m", "--propagation", "private"]
    if os.geteuid() != 0:
        prefix.insert(1, "-r")
    if subprocess.run(prefix + ["true"], capture_output=True).returncode != 0:
        return None
    return prefix


def with_private_hosts(prefix, hosts_path, directory, resolv_conf=None,
                       nsswitch=None):
    """An Exporter.command that runs the exporter in the mount namespace of
    `prefix` with `hosts_path` bound over /etc/hosts (and `resolv_conf` over
    /etc/resolv.conf, `nsswitch` over /etc/nsswitch.conf, if given), so a
    test can change name resolution without touching the machine's files.
    A bind that fails makes the exporter fail to start, so a test never
    runs without the resolution it asked for."""
    wrapper = os.path.join(directory, "exporter.sh")
    binds = [(hosts_path, "/etc/hosts")]
    if resolv_conf is not None:
        binds.append((resolv_conf, "/etc/resolv.conf"))
    if nsswitch is not None:
        binds.append((nsswitch, "/etc/nsswitch.conf"))
    with open(wrapper, "w") as f:
        f.write("#!/bin/sh\nset -e\n")
        for source, target in binds:
            f.write(f"mount --bind {source} {target}\n")
        f.write(f"exec {EXPORTER} \"$@\"\n")
    os.chmod(wrapper, 0o755)
    return prefix + [wrapper]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_process(proc, grace=10):
    """SIGTERM, then SIGKILL after `grace` seconds; waits for the exit."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def wait_until(predicate, timeout, interval=0.2, what="condition"):
    """Polls predicate() until it returns a truthy value; returns it.

    Raises AssertionError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class Cluster:
    """A primary plus N streaming replicas on loopback."""

    def __init__(self, replicas=2):
        self.replicas = replicas
        self.dir = tempfile.mkdtemp(prefix="pgrepl-it-")
        os.chmod(self.dir, 0o755)
        self.info = None

    def __enter__(self):
        t0 = time.monotonic()
        self.tool("up", str(self.replicas))
        with open(os.path.join(self.dir, "cluster.json")) as f:
            self.info = json.load(f)
        log(f"cluster with {self.replicas} replicas up in "
            f"{time.monotonic() - t0:.1f}s")
        return self

    def __exit__(self, *exc):
        subprocess.run([PGCLUSTER, "down", self.dir], check=False,
                       stdout=subprocess.DEVNULL)
        shutil.rmtree(self.dir, ignore_errors=True)
        return False

    def tool(self, cmd, *args, check=True, timeout=180):
        r = subprocess.run([PGCLUSTER, cmd, self.dir, *args], text=True,
                           capture_output=True, timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError(
                f"pgcluster.sh {cmd} {' '.join(args)} failed: {r.stderr.strip()}")
        return r.stdout

    def names(self):
        return ["primary"] + [r["name"] for r in self.info["replicas"]]

    def port(self, name):
        if name == "primary":
            return self.info["primary"]["port"]
        return next(r["port"] for r in self.info["replicas"] if r["name"] == name)

    def password(self):
        with open(self.info["monitor_password_file"]) as f:
            return f.read().strip()

    def conninfo(self, name):
        return (f"host=127.0.0.1 port={self.port(name)} "
                f"user={self.info['monitor_user']} dbname=postgres")

    def sql(self, name, query):
        return self.tool("psql", name, "-XAtc", query).strip()

    def config(self, cluster_name="it"):
        """An exporter config file body naming every instance."""
        return {"clusters": [{
            "name": cluster_name,
            "primary": {"name": "primary", "conninfo": self.conninfo("primary")},
            "replicas": [{"name": r, "conninfo": self.conninfo(r)}
                         for r in self.names()[1:]],
        }]}


def descendants(pid):
    """The pids of every process below `pid`, from /proc."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


class Load:
    """A bounded background write load on the primary: `pgcluster.sh load`
    for at most `seconds` at `rate` rows per second, stopped on exit.

    The script runs pgbench under runuser and timeout, which puts pgbench
    in a process group of its own: a SIGTERM to the script alone would
    leave pgbench writing for the rest of `seconds`, into the next test.
    So the exit signals every process below the script too, by pid."""

    def __init__(self, cluster, seconds, rate=300):
        self.proc = subprocess.Popen(
            [PGCLUSTER, "load", cluster.dir, str(seconds), str(rate)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        below = descendants(self.proc.pid)
        self.proc.terminate()
        for pid in below:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        self.proc.wait(30)
        return False


def parse_metrics(text):
    """Parses the text exposition format into {(name, labels): value}."""
    out = {}
    line_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)')
    label_re = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = line_re.match(line)
        if not m:
            raise AssertionError(f"unparseable metrics line: {line!r}")
        labels = frozenset(label_re.findall(m.group(3) or ""))
        out[(m.group(1), labels)] = float(m.group(4))
    return out


class Metrics:
    """One scrape, with lookups by name and labels."""

    def __init__(self, text):
        self.text = text
        self.samples = parse_metrics(text)

    def get(self, name, **labels):
        """The value of the one sample matching; None when absent."""
        want = set(labels.items())
        found = [v for (n, ls), v in self.samples.items()
                 if n == name and want <= set(ls)]
        if len(found) > 1:
            raise AssertionError(f"{name}{labels} matches {len(found)} samples")
        return found[0] if found else None

    def all(self, name, **labels):
        want = set(labels.items())
        return {ls: v for (n, ls), v in self.samples.items()
                if n == name and want <= set(ls)}


class Exporter:
    """The exporter binary, started with a config file and extra flags."""

    def __init__(self, config=None, args=(), password=None, env=None):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="pgrepl-exp-")
        self.args = list(args)
        self.env = dict(os.environ)
        self.env.update(env or {})
        if config is not None:
            path = os.path.join(self.dir, "config.json")
            with open(path, "w") as f:
                json.dump(config, f)
            self.args.append(f"--config.file={path}")
        if password is not None:
            pw_path = os.path.join(self.dir, "password")
            with open(pw_path, "w") as f:
                f.write(password + "\n")
            os.chmod(pw_path, 0o600)
            self.env["PGREPL_PASSWORD_FILE"] = pw_path
        self.log_path = os.path.join(self.dir, "exporter.log")
        # A path the log is copied to when the exporter stops (a test that
        # reports timings keeps its exporters' logs beside its report).
        self.keep_log = None
        self.proc = None
        self.command = [EXPORTER]  # a test may wrap the binary

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self):
        cmd = [*self.command, f"--web.listen-address=127.0.0.1:{self.port}",
               *self.args]
        self.log_file = open(self.log_path, "w")
        self.proc = subprocess.Popen(cmd, env=self.env, stdout=self.log_file,
                                     stderr=subprocess.STDOUT)
        wait_until(self._listening, 10, what="exporter to listen")
        return self

    def __exit__(self, *exc):
        stop_process(self.proc)
        self.log_file.close()
        # A clean stop exits 0; a crash, a hang on SIGTERM or a sanitizer
        # report (which also ends the process) fails the test.
        text = self.log()
        lines = text.splitlines(True)
        report = sanitizer_report(text)
        problem = None
        if report is not None:
            problem = f"sanitizer report: {lines[report].strip()}"
        elif self.proc and self.proc.returncode != 0:
            problem = f"exporter exited with {self.proc.returncode}"
        if exc[0] is not None or problem:
            sys.stdout.write("---- exporter log (tail) ----\n")
            sys.stdout.write("".join(lines[report:report + 80] if report is not None
                                     else lines[-40:]))
        if self.keep_log:
            os.makedirs(os.path.dirname(self.keep_log) or ".", exist_ok=True)
            shutil.copyfile(self.log_path, self.keep_log)
        shutil.rmtree(self.dir, ignore_errors=True)
        if problem and exc[0] is None:
            raise AssertionError(problem)
        return False

    def _listening(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"exporter exited with {self.proc.returncode}:"
                                 f" {self.log()}")
        try:
            with socket.create_connection(("127.0.0.1", self.port), 0.2):
                return True
        except OSError:
            return False

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def get(self, path, timeout=5):
        """(status, body, seconds) of a GET."""
        t0 = time.monotonic()
        try:
            with urllib.request.urlopen(self.url + path, timeout=timeout) as r:
                return r.status, r.read().decode(), time.monotonic() - t0
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(), time.monotonic() - t0

    def scrape(self):
        status, body, _ = self.get("/metrics")
        assert status == 200, f"/metrics answered {status}"
        return Metrics(body)

    def wait_metric(self, name, labels, predicate, timeout, what=None):
        """Scrapes until predicate(value) holds; returns the value."""
        def check():
            v = self.scrape().get(name, **labels)
            return (True, v) if predicate(v) else None
        return wait_until(check, timeout, interval=0.2,
                          what=what or f"{name}{labels}")[1]


def run_tests(tests):
    """Runs test functions in order; prints 'N passed, N failed'."""
    passed = failed = 0
    for t in tests:
        log(f"RUN  {t.__name__}")
        t0 = time.monotonic()
        try:
            t()
            passed += 1
            log(f"PASS {t.__name__} ({time.monotonic() - t0:.1f}s)")
        except Exception as e:  # noqa: BLE001 - report and go on
            failed += 1
            log(f"FAIL {t.__name__}: {type(e).__name__}: {e}")
    print(f"{passed} passed, {failed} failed", flush=True)
    return 1 if failed else 0
