"""Basic auth's cost on /metrics: the same load with and without
basic_auth_users (bcrypt cost 10), on one exporter build.

Usage: python3 bench/auth.py BINARY [SECONDS] [MAX_SCRAPES]

For each mode a fresh exporter watches a target that is down (port 1), so
the figures are the HTTP and auth path only. 8 scraper threads send
/metrics requests back to back over keep-alive connections for SECONDS
(default 20) or until MAX_SCRAPES (default 100000), and a load-balancer
probe opens a new connection for /healthz once a second.
Prints p50/p99 of the scrapes and the exporter's CPU per scrape (utime +
stime over the run, divided by the scrapes). Loopback only, bounded by
SECONDS, MAX_SCRAPES and a 10 s timeout per request. The client shares
the machine's cores with the exporter, so the figures compare the modes;
they are not the exporter's capacity.
"""
import base64
import ctypes
import http.client
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from measure import percentile, proc_cpu_seconds, wait_listening  # noqa: E402

USER, PASSWORD, COST = "prometheus", "bench-password", 10


def bcrypt(password, cost):
    lib = ctypes.CDLL("libcrypt.so.1")
    lib.crypt_gensalt.restype = ctypes.c_char_p
    lib.crypt.restype = ctypes.c_char_p
    salt = lib.crypt_gensalt(b"$2b$", cost, None, 0)
    return lib.crypt(password.encode(), salt).decode()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(binary, seconds, scrapes, auth):
    port = free_port()
    tmp = tempfile.mkdtemp(prefix="pgrepl-authbench-")
    args = [binary, "--primary=host=127.0.0.1 port=1 user=nobody dbname=x",
            f"--web.listen-address=127.0.0.1:{port}", "--log.level=error"]
    headers = {}
    if auth:
        path = os.path.join(tmp, "web.yml")
        with open(path, "w") as f:
            f.write(f"basic_auth_users:\n  {USER}: '{bcrypt(PASSWORD, COST)}'\n")
        os.chmod(path, 0o600)
        args.append(f"--web.config.file={path}")
        token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        headers = {"Authorization": f"Basic {token}"}
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        assert wait_listening(port), "exporter did not listen"
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        t0 = time.perf_counter()
        conn.request("GET", "/metrics", headers=headers)
        r = conn.getresponse()
        r.read()
        first_ms = (time.perf_counter() - t0) * 1000
        conn.close()
        assert r.status == 200, r.status
        time.sleep(1)
        lat, bad, probes = [], [], []
        lock = threading.Lock()
        left = [scrapes]
        done = threading.Event()

        def scraper():
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            mine = []
            while time.perf_counter() < deadline:
                with lock:
                    if left[0] == 0:
                        break
                    left[0] -= 1
                t = time.perf_counter()
                try:
                    c.request("GET", "/metrics", headers=headers)
                    resp = c.getresponse()
                    resp.read()
                    status = resp.status
                except (OSError, http.client.HTTPException):
                    c.close()
                    status = None
                mine.append(time.perf_counter() - t)
                if status != 200:
                    bad.append(status)
            c.close()
            with lock:
                lat.extend(mine)

        def prober():
            while not done.wait(1.0):
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                try:
                    c.request("GET", "/healthz", headers=headers)
                    probes.append(c.getresponse().status)
                except (OSError, http.client.HTTPException):
                    probes.append(None)
                finally:
                    c.close()

        cpu0 = proc_cpu_seconds(proc.pid)
        start = time.perf_counter()
        deadline = start + seconds
        threads = [threading.Thread(target=scraper) for _ in range(8)]
        probe = threading.Thread(target=prober)
        probe.start()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - start
        cpu = proc_cpu_seconds(proc.pid) - cpu0
        done.set()
        probe.join()
        return {
            "mode": f"basic auth (bcrypt cost {COST})" if auth else "no auth",
            "scrapes": len(lat), "failed": len(bad),
            "probes": len(probes), "probes_ok": probes.count(200),
            "first_ms": first_ms,
            "p50_ms": percentile(lat, 50) * 1000,
            "p99_ms": percentile(lat, 99) * 1000,
            "cpu_ms_per_scrape": cpu / len(lat) * 1000,
            "scrapes_per_s": len(lat) / wall,
            "wall_s": wall,
        }
    finally:
        proc.terminate()
        proc.wait(10)
        for name in os.listdir(tmp):
            os.unlink(os.path.join(tmp, name))
        os.rmdir(tmp)


def main():
    binary = sys.argv[1]
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 20
    scrapes = int(sys.argv[3]) if len(sys.argv) > 3 else 100000
    rows = []
    # Interleaved twice, so drift in the machine's load hits both modes.
    for auth in (False, True, True, False):
        rows.append(run(binary, seconds, scrapes, auth))
        r = rows[-1]
        print(f"{r['mode']:30} scrapes {r['scrapes']} failed {r['failed']} "
              f"probes {r['probes_ok']}/{r['probes']} first {r['first_ms']:.1f} ms "
              f"p50 {r['p50_ms']:.2f} ms p99 {r['p99_ms']:.2f} ms "
              f"cpu/scrape {r['cpu_ms_per_scrape']:.3f} ms "
              f"{r['scrapes_per_s']:.0f}/s "
              f"({r['wall_s']:.1f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
