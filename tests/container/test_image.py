"""The Dockerfile, built and run offline with podman.

No registry is reachable, so the base image is made here: debootstrap
--variant=minbase bookworm from the machine's Debian mirror, imported as
docker.io/library/debian:bookworm-slim (the root file system is cached as
a tarball between runs on one machine; PGREPL_TEST_CACHE moves it). The
build reaches the Debian archive for its apt-get (--network=host) and
nothing else (--pull=never). podman runs with the runc runtime, a private
storage (graphroot/runroot in a temporary directory, removed afterwards)
and explicit nofile/nproc limits.

Then the image must: carry its OCI labels, numeric non-root user, port and
entrypoint; answer --help and --version; scrape a real primary and replica
(pgrepl_up 1) from a read-only root file system with every capability
dropped; and serve TLS, which proves the OpenSSL compatibility libraries
sit where the binary's RUNPATH finds them.

Needs root (debootstrap, podman's storage); exits 77 (skipped) otherwise.
"""

import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import ssl
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "integration"))
from harness import (SOURCE_DIR, Cluster, Metrics, free_port, log,  # noqa: E402
                     run_tests, wait_until)

SKIP = 77
CACHE_DIR = os.environ.get("PGREPL_TEST_CACHE", "/var/cache/pgrepl-test")
BASE_TAR = os.path.join(CACHE_DIR, "bookworm-minbase.tar")
# The image build's compiler cache (see the Dockerfile): a rebuild on the
# same machine recompiles only what changed.
CCACHE_DIR = os.path.join(CACHE_DIR, "ccache")
BASE_IMAGE = "docker.io/library/debian:bookworm-slim"
IMAGE = "localhost/pgrepl-exporter:test"
BUILD_TIMEOUT = int(os.environ.get("PGREPL_IMAGE_BUILD_TIMEOUT", "2100"))

work = None       # temporary directory of this run
podman_base = []  # podman and its global flags
timings = {}


def run(cmd, timeout=300, check=True, log_to=None, **kw):
    """Runs cmd; output to log_to (a path) or captured."""
    if log_to:
        with open(log_to, "w") as f:
            r = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT,
                               timeout=timeout, text=True, **kw)
        if check and r.returncode != 0:
            with open(log_to) as f:
                tail = "".join(f.readlines()[-40:])
            raise AssertionError(f"{' '.join(cmd[:6])}... failed ({r.returncode}):\n{tail}")
        return r
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({r.returncode}): "
                             f"{r.stdout[-2000:]}{r.stderr[-2000:]}")
    return r


def podman(*args, **kw):
    # TMPDIR: podman's scratch files go below the work directory too.
    return run([*podman_base, *args], env=dict(os.environ, TMPDIR=work), **kw)


def debian_mirror():
    """The machine's Debian mirror for bookworm (deb822 or one-line form)."""
    path = "/etc/apt/sources.list.d/debian.sources"
    if os.path.exists(path):
        with open(path) as f:
            for stanza in f.read().split("\n\n"):
                fields = dict(re.findall(r"^([A-Za-z-]+):\s*(.*)$", stanza, re.M))
                if "bookworm" in fields.get("Suites", "").split() and fields.get("URIs"):
                    return fields["URIs"].split()[0]
    if os.path.exists("/etc/apt/sources.list"):
        with open("/etc/apt/sources.list") as f:
            for line in f:
                m = re.match(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+bookworm\s", line)
                if m:
                    return m.group(1)
    raise AssertionError("no Debian bookworm mirror in /etc/apt")


def ulimit(name, which, cap):
    """--ulimit NAME=N:N, N = min(cap, this process's hard limit): runc may
    not raise a hard limit, and podman's default (1048576 open files) is
    above this machine's."""
    hard = resource.getrlimit(which)[1]
    n = cap if hard == resource.RLIM_INFINITY else min(cap, hard)
    return ["--ulimit", f"{name}={n}:{n}"]


ULIMITS = [*ulimit("nofile", resource.RLIMIT_NOFILE, 65536),
           *ulimit("nproc", resource.RLIMIT_NPROC, 8192)]


def podman_run(*args, **kw):
    # --pull=never: no registry is reachable, nothing may be fetched.
    return podman("run", "--pull=never", *ULIMITS, *args, **kw)


def test_base_image():
    if not os.path.exists(BASE_TAR):
        t0 = time.monotonic()
        mirror = debian_mirror()
        root = os.path.join(work, "rootfs")
        log(f"debootstrap --variant=minbase bookworm from {mirror} (cached afterwards in {BASE_TAR})")
        run(["debootstrap", "--variant=minbase", "bookworm", root, mirror],
            timeout=900, log_to=os.path.join(work, "debootstrap.log"))
        # Package lists and downloaded packages: every build refreshes them.
        for sub in ("var/lib/apt/lists", "var/cache/apt/archives"):
            d = os.path.join(root, sub)
            for name in os.listdir(d):
                if os.path.isfile(os.path.join(d, name)) and name != "lock":
                    os.unlink(os.path.join(d, name))
        for name in ("pkgcache.bin", "srcpkgcache.bin"):
            if os.path.exists(os.path.join(root, "var/cache/apt", name)):
                os.unlink(os.path.join(root, "var/cache/apt", name))
        os.makedirs(CACHE_DIR, exist_ok=True)
        tmp = BASE_TAR + f".{os.getpid()}.tmp"
        run(["tar", "-C", root, "--numeric-owner", "-cf", tmp, "."], timeout=300)
        os.replace(tmp, BASE_TAR)
        shutil.rmtree(root, ignore_errors=True)
        timings["debootstrap"] = time.monotonic() - t0
    else:
        log(f"base root file system from the cache: {BASE_TAR}")
    t0 = time.monotonic()
    podman("import", BASE_TAR, BASE_IMAGE, timeout=300)
    timings["import"] = time.monotonic() - t0
    out = podman_run("--rm", "--network=none", BASE_IMAGE, "cat", "/etc/debian_version").stdout
    assert out.startswith("12."), out


def test_build():
    revision = run(["git", "-C", SOURCE_DIR, "rev-parse", "--short", "HEAD"],
                   check=False).stdout.strip() or "unknown"
    t0 = time.monotonic()
    build_log = os.path.join(work, "build.log")
    try:
        os.makedirs(CCACHE_DIR, exist_ok=True)
        podman("build", "--pull=never", "--network=host", *ULIMITS,
               "-v", f"{CCACHE_DIR}:/ccache",
               "--build-arg", f"BUILD_JOBS={os.cpu_count() or 2}",
               "--build-arg", f"REVISION={revision}",
               "-t", IMAGE, SOURCE_DIR, timeout=BUILD_TIMEOUT, log_to=build_log)
    finally:
        timings["build"] = time.monotonic() - t0
    with open(build_log) as f:
        text = f.read()
    # The build stage ran the unit tests.
    m = re.search(r"(\d+)% tests passed, 0 tests failed out of (\d+)", text)
    assert m and m.group(1) == "100" and int(m.group(2)) > 100, text[-3000:]
    log(f"image built in {timings['build']:.0f}s; unit tests in the build: {m.group(2)} passed")


def test_image_metadata():
    info = json.loads(podman("image", "inspect", IMAGE).stdout)[0]
    cfg = info["Config"]
    assert cfg["User"] == "65532:65532", cfg["User"]
    assert cfg["Entrypoint"] == ["/usr/local/bin/pgrepl_exporter"], cfg["Entrypoint"]
    assert "9752/tcp" in cfg.get("ExposedPorts", {}), cfg.get("ExposedPorts")
    labels = cfg.get("Labels") or {}
    for key in ("title", "description", "version", "revision", "source"):
        assert labels.get(f"org.opencontainers.image.{key}"), (key, labels)
    size = info["Size"] / 1e6
    log(f"image size {size:.0f} MB")
    # Runtime stage only: no compiler, no headers.
    out = podman_run("--rm", "--network=none", "--entrypoint", "sh", IMAGE, "-c",
                     "command -v g++ c++ cmake make; ls /usr/local/lib/pgrepl_exporter",
                     check=False).stdout.split()
    assert out == ["libcrypto.so", "libssl.so"], out


def test_help_and_version():
    r = podman_run("--rm", "--network=none", IMAGE, "--help")
    for flag in ("--primary", "--sidecar", "--web.listen-address", "--web.config.file"):
        assert flag in r.stdout, r.stdout
    r = podman_run("--rm", "--network=none", IMAGE, "--version")
    out = r.stdout + r.stderr
    assert "0.1.0" in out, out
    # The binary reports the commit it was built from, not "unknown".
    revision = run(["git", "-C", SOURCE_DIR, "rev-parse", "--short", "HEAD"],
                   check=False).stdout.strip()
    if revision:
        assert f"revision {revision}" in out, out


def container_run(name, port, args, mounts=()):
    """Starts the image detached with the Kubernetes security settings and
    the password file mounted as the Deployment mounts it."""
    cmd = ["-d", "--name", name, "--network=host", "--read-only",
           "--cap-drop=ALL", "--security-opt=no-new-privileges",
           "-e", "PGREPL_PASSWORD_FILE=/etc/pgrepl/password"]
    for src, dst in mounts:
        cmd += ["-v", f"{src}:{dst}:ro"]
    podman_run(*cmd, IMAGE, f"--web.listen-address=127.0.0.1:{port}", *args)


def container_stop(name):
    logs = podman("logs", name, check=False)
    podman("rm", "-f", "-t", "5", name, check=False)
    return logs.stdout + logs.stderr


def test_scrape_real_cluster():
    with Cluster(replicas=1) as cluster:
        secrets_dir = os.path.join(work, "secrets")
        os.makedirs(secrets_dir)
        pw = os.path.join(secrets_dir, "password")
        with open(pw, "w") as f:
            f.write(cluster.password() + "\n")
        os.chmod(pw, 0o444)  # the container user is 65532
        port = free_port()
        args = [f"--primary={cluster.conninfo('primary')}",
                f"--replica={cluster.conninfo('replica1')}", "--cluster=it"]
        container_run("pgrepl-test-plain", port,
                      [*args, "--poll.interval=500ms"],
                      mounts=[(secrets_dir, "/etc/pgrepl")])
        try:
            def scrape():
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
                        m = Metrics(r.read().decode())
                except OSError:
                    return None
                p = m.get("pgrepl_up", cluster="it", instance=f"127.0.0.1:{cluster.port('primary')}")
                s = m.get("pgrepl_up", cluster="it", instance=f"127.0.0.1:{cluster.port('replica1')}")
                return m if p == 1 and s == 1 else None
            m = wait_until(scrape, 30, what="pgrepl_up 1 from the container")
            assert m.all("pgrepl_build_info"), "no pgrepl_build_info"
            log("container scraped the primary and the replica: pgrepl_up 1")
        except Exception:
            sys.stdout.write(container_stop("pgrepl-test-plain"))
            raise
        container_stop("pgrepl-test-plain")

        # TLS goes through the OpenSSL compatibility libraries.
        tls_dir = os.path.join(work, "tls")
        os.makedirs(tls_dir)
        run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
             "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
             "-keyout", os.path.join(tls_dir, "key.pem"),
             "-out", os.path.join(tls_dir, "cert.pem")])
        with open(os.path.join(tls_dir, "web.yml"), "w") as f:
            f.write("tls_server_config:\n"
                    "  cert_file: /etc/pgrepl-tls/cert.pem\n"
                    "  key_file: /etc/pgrepl-tls/key.pem\n")
        for name in os.listdir(tls_dir):
            os.chmod(os.path.join(tls_dir, name), 0o444)
        port = free_port()
        container_run("pgrepl-test-tls", port,
                      [*args, "--web.config.file=/etc/pgrepl-tls/web.yml"],
                      mounts=[(secrets_dir, "/etc/pgrepl"), (tls_dir, "/etc/pgrepl-tls")])
        try:
            ctx = ssl.create_default_context(cafile=os.path.join(tls_dir, "cert.pem"))

            def healthy():
                try:
                    with urllib.request.urlopen(f"https://127.0.0.1:{port}/healthz",
                                                timeout=2, context=ctx) as r:
                        return r.status == 200
                except OSError:
                    return False
            wait_until(healthy, 20, what="HTTPS /healthz from the container")
            log("container serves TLS (compatibility libraries found)")
        except Exception:
            sys.stdout.write(container_stop("pgrepl-test-tls"))
            raise
        container_stop("pgrepl-test-tls")


def main():
    global work, podman_base
    if os.geteuid() != 0:
        print("skipped: needs root (debootstrap and podman's private storage)")
        return SKIP
    for tool in ("podman", "runc", "debootstrap"):
        if not shutil.which(tool):
            print(f"{tool} not found: scripts/install-deps.sh container")
            return 1
    t0 = time.monotonic()
    work = tempfile.mkdtemp(prefix="pgrepl-image-", dir="/var/tmp")
    storage = os.path.join(work, "storage")
    os.makedirs(storage)
    conf = os.path.join(work, "storage.conf")
    with open(conf, "w") as f:
        f.write("[storage]\n"
                f"driver = \"{os.environ.get('PGREPL_TEST_STORAGE_DRIVER', 'overlay')}\"\n"
                f"graphroot = \"{storage}/graph\"\n"
                f"runroot = \"{storage}/run\"\n")
    os.environ["CONTAINERS_STORAGE_CONF"] = conf
    podman_base = ["podman", "--root", f"{storage}/graph", "--runroot", f"{storage}/run",
                   "--runtime", "runc", "--events-backend", "file",
                   "--cgroup-manager", "cgroupfs"]
    try:
        rc = run_tests([test_base_image, test_build, test_image_metadata,
                        test_help_and_version, test_scrape_real_cluster])
    finally:
        podman("rm", "-a", "-f", check=False, timeout=120)
        podman("rmi", "-a", "-f", check=False, timeout=120)
        # Anything podman left mounted below the work directory.
        mounts = run(["findmnt", "-rn", "-o", "TARGET"], check=False).stdout.split()
        for target in sorted((m for m in mounts if m.startswith(work)), reverse=True):
            run(["umount", "-l", target], check=False)
        shutil.rmtree(work, ignore_errors=True)
        timings["total"] = time.monotonic() - t0
        log("timings: " + ", ".join(f"{k} {v:.0f}s" for k, v in timings.items()))
    return rc


if __name__ == "__main__":
    sys.exit(main())
