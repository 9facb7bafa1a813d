"""Real Prometheus and Alertmanager (Debian packages) on loopback for the
integration tests, plus a webhook receiver that records notifications."""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from harness import SOURCE_DIR, free_port, stop_process, wait_until

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
ALERTMANAGER = (shutil.which("prometheus-alertmanager")
                or shutil.which("alertmanager") or "/usr/bin/prometheus-alertmanager")


def fast_rules_copy(dirpath):
    """alerts/pgrepl.rules.yml written into `dirpath` with every `for:` at
    5 s and a 1 s evaluation interval, so that alerts fire within a test.
    Returns the copy's path."""
    with open(os.path.join(SOURCE_DIR, "alerts", "pgrepl.rules.yml")) as f:
        rules = f.read()
    rules = re.sub(r"\bfor: \d+[smh]", "for: 5s", rules)
    rules = re.sub(r"\binterval: 15s", "interval: 1s", rules)
    path = os.path.join(dirpath, "rules.yml")
    with open(path, "w") as f:
        f.write(rules)
    return path


def _get_json(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.loads(r.read().decode())


class _Server:
    """A child process with its own temp dir, stopped on exit."""

    def __init__(self, name):
        self.name = name
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix=f"pgrepl-{name}-")
        self.proc = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def _start(self, cmd):
        self.log = open(os.path.join(self.dir, f"{self.name}.log"), "w")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT)

        def ready():
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited: {self.tail()}")
            try:
                with urllib.request.urlopen(self.url + "/-/ready", timeout=1) as r:
                    return r.status == 200
            except OSError:
                return False
        try:
            wait_until(ready, 30, what=f"{self.name} ready")
        except BaseException:
            self.__exit__(*sys.exc_info())
            raise

    def tail(self, n=20):
        try:
            with open(os.path.join(self.dir, f"{self.name}.log")) as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def __exit__(self, *exc):
        stop_process(self.proc, grace=15)
        if self.proc:
            self.log.close()
        if exc[0] is not None:
            sys.stdout.write(f"---- {self.name} log (tail) ----\n")
            sys.stdout.write(self.tail(30))
        shutil.rmtree(self.dir, ignore_errors=True)
        return False


class Prometheus(_Server):
    """Prometheus scraping the exporter (job pgrepl, honor_labels)."""

    def __init__(self, exporter_port, rule_files=(), alertmanager_port=None,
                 interval="1s"):
        super().__init__("prometheus")
        self.exporter_port = exporter_port
        self.rule_files = list(rule_files)
        self.alertmanager_port = alertmanager_port
        self.interval = interval

    def __enter__(self):
        cfg = {
            "global": {"scrape_interval": self.interval,
                       "evaluation_interval": self.interval},
            "rule_files": self.rule_files,
            "scrape_configs": [{
                "job_name": "pgrepl", "honor_labels": True,
                "static_configs": [{"targets": [f"127.0.0.1:{self.exporter_port}"]}],
            }],
        }
        if self.alertmanager_port:
            cfg["alerting"] = {"alertmanagers": [{"static_configs": [
                {"targets": [f"127.0.0.1:{self.alertmanager_port}"]}]}]}
        path = os.path.join(self.dir, "prometheus.yml")
        with open(path, "w") as f:
            json.dump(cfg, f)  # JSON is valid YAML
        self._start([PROMETHEUS, f"--config.file={path}",
                     f"--storage.tsdb.path={self.dir}/data",
                     f"--web.listen-address=127.0.0.1:{self.port}",
                     "--storage.tsdb.retention.time=1h",
                     "--log.level=warn"])
        return self

    def api(self, path, **params):
        """The decoded JSON answer of a POST to an API path, for errors
        (HTTP 400/422) too."""
        data = urllib.parse.urlencode(params, doseq=True).encode()
        req = urllib.request.Request(self.url + path, data=data)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return json.load(r)
        except urllib.error.HTTPError as e:
            return json.load(e)

    def query(self, expr):
        """Returns (status, result list, error) of an instant query."""
        return self._result(self.api("/api/v1/query", query=expr))

    def query_range(self, expr, seconds, step="1s"):
        """Returns (status, result list, error) of a range query over the
        last `seconds` seconds."""
        now = time.time()
        return self._result(self.api("/api/v1/query_range", query=expr,
                                     start=now - seconds, end=now, step=step))

    @staticmethod
    def _result(body):
        return body.get("status"), body.get("data", {}).get("result", []), body.get("error")

    def firing(self):
        alerts = _get_json(f"{self.url}/api/v1/alerts")["data"]["alerts"]
        return [a for a in alerts if a["state"] == "firing"]


class Alertmanager(_Server):
    """Alertmanager with a config file given as text; no clustering."""

    def __init__(self, config_text):
        super().__init__("alertmanager")
        self.config_text = config_text

    def __enter__(self):
        path = os.path.join(self.dir, "alertmanager.yml")
        with open(path, "w") as f:
            f.write(self.config_text)
        self._start([ALERTMANAGER, f"--config.file={path}",
                     f"--storage.path={self.dir}/data",
                     f"--web.listen-address=127.0.0.1:{self.port}",
                     "--cluster.listen-address=", "--log.level=warn"])
        return self


class Webhook:
    """Records Alertmanager webhook notifications: (time, path, payload)."""

    def __init__(self):
        self.port = free_port()
        self.events = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server API
                n = int(self.headers.get("Content-Length", "0"))
                payload = json.loads(self.rfile.read(n).decode() or "{}")
                with outer.lock:
                    outer.events.append((time.monotonic(), self.path, payload))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        return False

    def alerts_since(self, t0):
        """Every alert in notifications after t0: (time, path, status, labels)."""
        with self.lock:
            events = [e for e in self.events if e[0] >= t0]
        out = []
        for t, path, payload in events:
            for a in payload.get("alerts", []):
                out.append((t, path, a.get("status"), a.get("labels", {})))
        return out
