"""PostgreSQL instances driven the way the Kubernetes pods drive them.

The primary is made by initdb with the StatefulSet's arguments and
k8s/scripts/primary-init.sh; each replica by k8s/scripts/replica-bootstrap.sh
(the init container), all with k8s/config/postgresql.conf and pg_hba.conf.
Only what a pod gets from its environment or its mounts changes: host,
ports, paths, and a smaller shared_buffers. Used by
tests/integration/test_k8s_scripts.py and tests/lifecycle/.
"""

import os
import secrets
import shutil
import subprocess
import tempfile

from harness import SOURCE_DIR, free_port

IS_ROOT = os.geteuid() == 0
PG_OS_USER = "postgres" if IS_ROOT else None
PRIMARY_POD = "postgres-primary-0"
REPLICA_PODS = ["postgres-replica-0", "postgres-replica-1"]


def pg_bindir():
    if os.environ.get("PG_BINDIR"):
        return os.environ["PG_BINDIR"]
    try:
        out = subprocess.run(["pg_config", "--version", "--bindir"], text=True,
                             capture_output=True, check=True).stdout.split("\n")
        if out[0].startswith("PostgreSQL 15"):
            return out[1].strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    return "/usr/lib/postgresql/15/bin"


BIN = pg_bindir()


class Env:
    """Directories, ports and secrets of one run; the instances in it."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="pgrepl-k8s-")
        os.chmod(self.dir, 0o755)
        self.sock = self.mkdir("sock", 0o700)
        self.conf = os.path.join(self.dir, "conf")
        shutil.copytree(os.path.join(SOURCE_DIR, "k8s", "config"), self.conf)
        shutil.copytree(os.path.join(SOURCE_DIR, "k8s", "scripts"),
                        os.path.join(self.dir, "scripts"))
        for root, dirs, files in os.walk(self.dir):
            for d in dirs:
                os.chmod(os.path.join(root, d), 0o755)
        self.repl_password = "r:" + secrets.token_urlsafe(18) + "'\\x"
        self.mon_password = "m'" + secrets.token_urlsafe(18)
        self.super_password = secrets.token_urlsafe(18)
        self.ports = {}
        self.running = set()

    def mkdir(self, name, mode):
        path = os.path.join(self.dir, name)
        os.makedirs(path, exist_ok=True)
        os.chmod(path, mode)
        if IS_ROOT:
            shutil.chown(path, PG_OS_USER)
        return path

    def as_pg(self, cmd, env=None, check=True, timeout=120):
        """Runs cmd as the PostgreSQL OS user, with env added."""
        full_env = dict(os.environ)
        for k in list(full_env):
            if k.startswith("PG"):
                del full_env[k]
        full_env["PATH"] = BIN + os.pathsep + full_env["PATH"]
        full_env.update(env or {})
        if IS_ROOT:
            cmd = ["runuser", "-u", PG_OS_USER, "--", *cmd]
        r = subprocess.run(cmd, env=full_env, text=True, capture_output=True,
                           timeout=timeout, cwd="/")
        if check and r.returncode != 0:
            raise AssertionError(f"{' '.join(cmd)} failed ({r.returncode}):"
                                 f" {r.stdout}{r.stderr}")
        return r

    def datadir(self, pod):
        return os.path.join(self.dir, pod, "pgdata")

    def initdb(self, pod):
        """The image's initdb, with the StatefulSet's POSTGRES_INITDB_ARGS."""
        self.mkdir(pod, 0o700)
        pwfile = os.path.join(self.dir, pod, "pw")
        with open(pwfile, "w") as f:
            f.write(self.super_password + "\n")
        if IS_ROOT:
            shutil.chown(pwfile, PG_OS_USER)
        self.as_pg([f"{BIN}/initdb", "-D", self.datadir(pod), "-U", "postgres",
                    "-E", "UTF8", "--locale=C", f"--pwfile={pwfile}", "-N",
                    "--data-checksums", "--auth-local=peer",
                    "--auth-host=scram-sha-256"])
        os.unlink(pwfile)

    def primary_init(self, pod):
        """primary-init.sh against the running primary, as the image's
        entrypoint runs it; returns the CompletedProcess."""
        init_env = {"PGHOST": self.sock, "PGPORT": str(self.ports[pod]),
                    "POSTGRES_USER": "postgres",
                    "POSTGRES_PASSWORD": self.super_password,
                    "POSTGRES_REPLICATION_PASSWORD": self.repl_password,
                    "PGREPL_PASSWORD": self.mon_password}
        return self.as_pg([os.path.join(self.dir, "scripts", "primary-init.sh")],
                          env=init_env)

    def start(self, pod, settings=()):
        """pg_ctl start; `settings` are extra "name=value" server settings."""
        self.ports.setdefault(pod, free_port())
        opts = " ".join([
            f"-c config_file={self.conf}/postgresql.conf",
            f"-c hba_file={self.conf}/pg_hba.conf",
            f"-c port={self.ports[pod]}",
            "-c listen_addresses=127.0.0.1",
            f"-c unix_socket_directories={self.sock}",
            "-c shared_buffers=32MB", "-c max_connections=40",
            f"-c cluster_name={pod}",
            *(f"-c {s}" for s in settings),
        ])
        self.as_pg([f"{BIN}/pg_ctl", "-D", self.datadir(pod), "-l",
                    os.path.join(self.dir, pod, "server.log"), "-w", "-t", "60",
                    "-o", opts, "start"])
        self.running.add(pod)

    def stop(self, pod, mode="fast"):
        self.as_pg([f"{BIN}/pg_ctl", "-D", self.datadir(pod), "-m", mode, "-w",
                    "-t", "60", "stop"], check=False)
        self.running.discard(pod)

    def sql(self, pod, query):
        """Superuser query over the Unix socket (peer, as in a pod)."""
        r = self.as_pg([f"{BIN}/psql", "-X", "-A", "-t", "-q", "-h", self.sock,
                        "-p", str(self.ports[pod]), "-U", "postgres", "-d",
                        "postgres", "-v", "ON_ERROR_STOP=1", "-c", query])
        return r.stdout.strip()

    def tcp_psql(self, pod, user, password, query, dbname="postgres",
                 replication=False):
        """psql over TCP with a password file; returns the CompletedProcess."""
        passfile = os.path.join(self.dir, "client.pgpass")
        esc = password.replace("\\", "\\\\").replace(":", "\\:")
        with open(passfile, "w") as f:
            f.write(f"127.0.0.1:*:*:{user}:{esc}\n")
        os.chmod(passfile, 0o600)
        conninfo = (f"host=127.0.0.1 port={self.ports[pod]} user={user} "
                    f"dbname={dbname}")
        if replication:
            conninfo += " replication=true"
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["PGPASSFILE"] = passfile
        return subprocess.run([f"{BIN}/psql", "-X", "-A", "-t", "-w", "-c", query,
                               conninfo], env=env, text=True,
                              capture_output=True, timeout=30)

    def bootstrap_replica(self, pod, password=None, primary_port=None):
        """The replica pod's init container; returns its output. It clones
        from 127.0.0.1:`primary_port` (the primary's own port by default; in
        Kubernetes the postgres-primary Service)."""
        base = self.mkdir(pod, 0o700)
        run = self.mkdir(f"run-{pod}", 0o700)
        r = self.as_pg(
            [os.path.join(self.dir, "scripts", "replica-bootstrap.sh")],
            env={"PGDATA": os.path.join(base, "pgdata"),
                 "POD_NAME": pod,
                 "PRIMARY_HOST": "127.0.0.1",
                 "PRIMARY_PORT": str(primary_port or self.ports[PRIMARY_POD]),
                 "POSTGRES_REPLICATION_USER": "replicator",
                 "POSTGRES_REPLICATION_PASSWORD": password or self.repl_password,
                 "PGPASSFILE": os.path.join(run, "replication.pgpass"),
                 "BOOTSTRAP_WAIT_SECONDS": "30"},
            check=False)
        return r

    def close(self):
        for pod in list(self.running):
            self.stop(pod, "immediate")
        shutil.rmtree(self.dir, ignore_errors=True)
