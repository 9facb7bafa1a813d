"""--web.config.file (exporter-toolkit format): TLS with certificates this
test makes with openssl, client-certificate policies, basic auth, plain
HTTP on the TLS port, and bad configurations. No database is needed: the
exporter watches a target that is down and serves all the same.
"""

import base64
import ctypes
import http.client
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

from harness import EXPORTER, Exporter, Metrics, log, run_tests, wait_until

DOWN_TARGET = "--primary=host=127.0.0.1 port=1 user=nobody dbname=postgres"
PASSWORD = "correct horse battery staple"
pki = None


class Pki:
    """A CA with server and client certificates, plus a rogue CA and a
    client certificate it signed, all P-256 and valid for one day."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="pgrepl-pki-")

    def path(self, name):
        return os.path.join(self.dir, name)

    def openssl(self, *args):
        subprocess.run(["openssl", *args], check=True, capture_output=True,
                       cwd=self.dir, timeout=30)

    def ca(self, name):
        self.openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
                     "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
                     "-subj", f"/CN={name}", "-keyout", f"{name}.key",
                     "-out", f"{name}.crt")

    def leaf(self, name, ca, extensions, days="1"):
        with open(self.path(f"{name}.ext"), "w") as f:
            f.write(extensions)
        self.openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                     "-nodes", "-subj", f"/CN={name}", "-keyout", f"{name}.key",
                     "-out", f"{name}.csr")
        self.openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt",
                     "-CAkey", f"{ca}.key", "-CAcreateserial", "-days", days,
                     "-extfile", f"{name}.ext", "-out", f"{name}.crt")

    def __enter__(self):
        self.ca("ca")
        self.ca("rogue-ca")
        self.leaf("server", "ca", "subjectAltName=IP:127.0.0.1\n"
                  "extendedKeyUsage=serverAuth\n")
        # The certificate a rotation (cert-manager's renewal) brings.
        self.leaf("renewed", "ca", "subjectAltName=IP:127.0.0.1\n"
                  "extendedKeyUsage=serverAuth\n")
        self.leaf("client", "ca", "extendedKeyUsage=clientAuth\n")
        self.leaf("rogue", "rogue-ca", "extendedKeyUsage=clientAuth\n")
        # Not after one day before now: openssl 3.0 takes "-days -1".
        self.leaf("expired", "ca", "subjectAltName=IP:127.0.0.1\n", days="-1")
        self.openssl("pkey", "-in", "server.key", "-aes256", "-passout",
                     "pass:unused-passphrase", "-out", "encrypted.key")
        return self

    def __exit__(self, *exc):
        shutil.rmtree(self.dir, ignore_errors=True)
        return False


def bcrypt(password):
    """A $2b$ hash from libcrypt, as htpasswd -B would make one."""
    lib = ctypes.CDLL("libcrypt.so.1")
    lib.crypt_gensalt.restype = ctypes.c_char_p
    lib.crypt.restype = ctypes.c_char_p
    salt = lib.crypt_gensalt(b"$2b$", 5, None, 0)
    return lib.crypt(password.encode(), salt).decode()


def web_exporter(web_config, args=(), env=None):
    e = Exporter(None, [DOWN_TARGET, *args], env=env)
    path = os.path.join(e.dir, "web.yml")
    with open(path, "w") as f:
        f.write(web_config)
    e.args.append(f"--web.config.file={path}")
    return e


def tls_section(client_auth=None, extra="", cert="server", key=None):
    out = ("tls_server_config:\n"
           f"  cert_file: {pki.path(cert + '.crt')}\n"
           f"  key_file: {pki.path((key or cert) + '.key')}\n")
    if client_auth:
        out += f"  client_auth_type: {client_auth}\n"
        out += f"  client_ca_file: {pki.path('ca.crt')}\n"
    return out + extra


def https(e, path="/healthz", cert=None, method="GET", headers=None,
          max_version=None):
    """(status, body, headers); raises on a TLS or connection failure."""
    ctx = ssl.create_default_context(cafile=pki.path("ca.crt"))
    if cert:
        ctx.load_cert_chain(pki.path(f"{cert}.crt"), pki.path(f"{cert}.key"))
    if max_version:
        ctx.maximum_version = max_version
    conn = http.client.HTTPSConnection("127.0.0.1", e.port, context=ctx, timeout=5)
    try:
        conn.request(method, path, headers=headers or {})
        r = conn.getresponse()
        return r.status, r.read().decode(), dict(r.getheaders())
    finally:
        conn.close()


def rejected(e, **kw):
    """True when the TLS layer refuses the connection (no HTTP answer)."""
    try:
        https(e, **kw)
        return False
    except (ssl.SSLError, ConnectionError, http.client.HTTPException, OSError):
        return True


def test_tls_serves_every_endpoint():
    with web_exporter(tls_section()) as e:
        for path, want in [("/healthz", 200), ("/ready", 200), ("/metrics", 200),
                           ("/", 200), ("/status", 200),
                           ("/primary?instance=127.0.0.1:1", 503)]:
            code, body, _ = https(e, path)
            assert code == want, (path, code, body)
        ctx = ssl.create_default_context(cafile=pki.path("ca.crt"))
        with socket.create_connection(("127.0.0.1", e.port), 5) as raw:
            with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
                log(f"negotiated {s.version()} {s.cipher()[0]}")
                assert s.version() in ("TLSv1.2", "TLSv1.3")
        # Plain HTTP on the TLS port fails cleanly, and TLS keeps working.
        for _ in range(3):
            with socket.create_connection(("127.0.0.1", e.port), 5) as s:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                s.settimeout(5)
                try:
                    reply = s.recv(4096)
                except ConnectionResetError:
                    reply = b""
                assert not reply.startswith(b"HTTP/1.1 200"), reply[:60]
        assert https(e)[0] == 200
        assert e.proc.poll() is None


def test_min_version_tls13():
    with web_exporter(tls_section(extra="  min_version: TLS13\n")) as e:
        assert https(e)[0] == 200
        assert rejected(e, max_version=ssl.TLSVersion.TLSv1_2)


def test_client_certificate_policies():
    cases = {
        "RequireAndVerifyClientCert": {None: False, "client": True, "rogue": False},
        "VerifyClientCertIfGiven": {None: True, "client": True, "rogue": False},
        "RequireAnyClientCert": {None: False, "client": True, "rogue": True},
        "RequestClientCert": {None: True, "client": True, "rogue": True},
    }
    for policy, expect in cases.items():
        with web_exporter(tls_section(policy)) as e:
            for cert, accepted in expect.items():
                got = not rejected(e, cert=cert)
                assert got == accepted, f"{policy} with cert {cert}: accepted={got}"
                if accepted:
                    assert https(e, "/metrics", cert=cert)[0] == 200
            assert https(e, cert="client")[0] == 200  # still serving
            log(f"{policy}: {expect}")


def test_basic_auth():
    config = tls_section() + f"basic_auth_users:\n  alice: '{bcrypt(PASSWORD)}'\n"
    def basic(user, password):
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        return {"Authorization": f"Basic {token}"}
    with web_exporter(config) as e:
        for path in ("/metrics", "/", "/status", "/healthz", "/replica?instance=x"):
            for headers, why in [(None, "no credentials"),
                                 (basic("alice", "wrong"), "wrong password"),
                                 (basic("alice", ""), "missing password"),
                                 ({"Authorization": "Basic YWxpY2U="}, "no colon"),
                                 (basic("mallory", PASSWORD), "unknown user")]:
                code, _, h = https(e, path, headers=headers)
                assert code == 401, f"{path} {why}: {code}"
                assert h.get("WWW-Authenticate", "").startswith("Basic realm="), h
            code, body, _ = https(e, path, headers=basic("alice", PASSWORD))
            assert code in (200, 503), (path, code, body)
        assert https(e, "/metrics", method="HEAD", headers=basic("alice", PASSWORD))[0] == 200
        t = time.monotonic()
        https(e, headers=basic("alice", PASSWORD))
        log(f"one authenticated request (bcrypt cost 5): "
            f"{(time.monotonic() - t) * 1000:.0f} ms")
        time.sleep(0.5)
        assert PASSWORD not in e.log()
        assert "alice" not in https(e, "/metrics", headers=basic("alice", PASSWORD))[1]


def test_bad_web_config_exits_2():
    """Each bad configuration exits 2 at once with one line naming its
    cause. stdin is a pipe that is never written: an OpenSSL passphrase
    prompt would block there until the timeout."""
    def tls_files(cert, key):
        return ("tls_server_config:\n"
                f"  cert_file: {pki.path(cert)}\n  key_file: {pki.path(key)}\n")
    cost31 = bcrypt(PASSWORD).replace("$2b$05$", "$2y$31$", 1)
    cases = {
        "not yaml": ("tls_server_config: [unclosed\n", "not valid YAML"),
        "unknown key": ("tls_server_config:\n  cert_file: a\n  key_file: b\n"
                        "  ciphers: x\n", 'unknown key "ciphers"'),
        "missing key file": ("tls_server_config:\n  cert_file: a\n",
                             "key_file is required"),
        "unreadable cert": ("tls_server_config:\n  cert_file: /nonexistent.crt\n"
                            f"  key_file: {pki.path('server.key')}\n",
                            "cert_file /nonexistent.crt: cannot read"),
        "key mismatch": (tls_files("server.crt", "client.key"),
                         f"key_file {pki.path('client.key')} does not match "
                         f"cert_file {pki.path('server.crt')}"),
        "expired certificate": (tls_files("expired.crt", "expired.key"),
                                f"cert_file {pki.path('expired.crt')}: "
                                "the certificate expired on "),
        "encrypted key": (tls_files("server.crt", "encrypted.key"),
                          f"key_file {pki.path('encrypted.key')}: the key is "
                          "encrypted; a passphrase is not supported"),
        "verify without CA": (tls_section() + "  client_auth_type: "
                              "RequireAndVerifyClientCert\n",
                              "needs client_ca_file"),
        "plain password": ("basic_auth_users:\n  alice: hunter2\n",
                           "basic_auth_users.alice: not a bcrypt hash"),
        "bcrypt cost 31": (f"basic_auth_users:\n  alice: '{cost31}'\n",
                           "basic_auth_users.alice: bcrypt cost 31 is above "
                           "the maximum of 14"),
    }
    tmp = tempfile.mkdtemp(prefix="pgrepl-webcfg-")
    try:
        for name, (text, cause) in cases.items():
            path = os.path.join(tmp, "web.yml")
            with open(path, "w") as f:
                f.write(text)
            os.chmod(path, 0o600)  # else a mode warning precedes the error
            start = time.monotonic()
            err_path = os.path.join(tmp, "stderr")
            # stdin stays open and silent until the process ends
            # (communicate() would close it, and a prompt would read EOF).
            with open(err_path, "w") as err:
                p = subprocess.Popen([EXPORTER, DOWN_TARGET,
                                      "--web.listen-address=127.0.0.1:0",
                                      f"--web.config.file={path}"],
                                     stdin=subprocess.PIPE,
                                     stdout=subprocess.DEVNULL, stderr=err)
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
                    raise AssertionError(f"{name}: still running after 10 s")
                finally:
                    p.stdin.close()
            with open(err_path) as f:
                stderr = f.read()
            lines = stderr.strip().splitlines()
            assert p.returncode == 2, f"{name}: exit {p.returncode}: {stderr}"
            assert len(lines) == 1 and lines[0].startswith("pgrepl_exporter: error:"), \
                f"{name}: {stderr!r}"
            assert cause in lines[0], f"{name}: want {cause!r} in {lines[0]!r}"
            for secret in ("hunter2", "unused-passphrase", cost31[7:]):
                assert secret not in stderr, f"{name}: echoes a secret"
            log(f"{name} ({time.monotonic() - start:.1f} s): {lines[0]}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def served_certificate(e):
    """The DER certificate a new TLS connection to the exporter presents."""
    ctx = ssl.create_default_context(cafile=pki.path("ca.crt"))
    with socket.create_connection(("127.0.0.1", e.port), 5) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
            return s.getpeercert(binary_form=True)


def der(name):
    with open(pki.path(f"{name}.crt")) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


def basic(user, password):
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def test_sighup_reloads_certificate_and_users():
    """SIGHUP re-reads --web.config.file: new connections get the renewed
    certificate and the new users, without a restart. A config that fails
    to load keeps the previous one, logs an error and sets
    pgrepl_config_last_reload_successful to 0."""
    bob = "bob's new password"
    with web_exporter(tls_section() +
                      f"basic_auth_users:\n  alice: '{bcrypt(PASSWORD)}'\n") as e:
        web = e.args[-1].split("=", 1)[1]
        alice_h, bob_h = basic("alice", PASSWORD), basic("bob", bob)
        assert served_certificate(e) == der("server")
        assert https(e, headers=alice_h)[0] == 200

        def write(text):
            with open(web + ".new", "w") as f:
                f.write(text)
            os.chmod(web + ".new", 0o600)
            os.replace(web + ".new", web)  # as a Secret volume swaps files

        def metrics():
            code, body, _ = https(e, "/metrics", headers=bob_h)
            assert code == 200, code
            return Metrics(body)

        def hup_and_wait(message, count):
            os.kill(e.proc.pid, signal.SIGHUP)
            wait_until(lambda: e.log().count(message) >= count, 10,
                       what=f"log line {message!r}")
            assert e.proc.poll() is None, "SIGHUP ended the process"

        write(tls_section(cert="renewed") + f"basic_auth_users:\n  bob: '{bcrypt(bob)}'\n")
        t0 = time.monotonic()
        hup_and_wait("web config reloaded", 1)
        log(f"reload applied in {(time.monotonic() - t0) * 1000:.0f} ms")
        assert served_certificate(e) == der("renewed"), "old certificate served"
        assert https(e, headers=bob_h)[0] == 200
        assert https(e, headers=alice_h)[0] == 401
        m = metrics()
        assert m.get("pgrepl_config_last_reload_successful") == 1
        assert m.get("pgrepl_config_reloads_total", result="success") == 1
        assert m.get("pgrepl_config_reloads_total", result="failure") == 0
        loaded_at = m.get("pgrepl_config_last_reload_success_timestamp_seconds")
        assert abs(loaded_at - time.time()) < 60, loaded_at

        bad = [
            (tls_section(cert="renewed", key="server"), "does not match"),
            ("tls_server_config: [", "not valid YAML"),
            (f"basic_auth_users:\n  bob: '{bcrypt(bob)}'\n", "needs a restart"),
        ]
        for n, (text, cause) in enumerate(bad, start=1):
            write(text)
            hup_and_wait("web config reload failed", n)
            failed = [l for l in e.log().splitlines()
                      if "web config reload failed" in l][-1]
            assert cause in failed, (cause, failed)
            assert served_certificate(e) == der("renewed")
            assert https(e, headers=bob_h)[0] == 200
            m = metrics()
            assert m.get("pgrepl_config_last_reload_successful") == 0
            assert m.get("pgrepl_config_reloads_total", result="failure") == n
            assert m.get("pgrepl_config_last_reload_success_timestamp_seconds") \
                == loaded_at
            log(f"bad config {n} kept the old one: {cause}")
        assert bob not in e.log() and PASSWORD not in e.log()


def test_sighup_without_web_config_keeps_running():
    with Exporter(None, [DOWN_TARGET]) as e:
        os.kill(e.proc.pid, signal.SIGHUP)
        wait_until(lambda: "nothing to reload" in e.log(), 10,
                   what="the SIGHUP log line")
        assert e.proc.poll() is None, "SIGHUP ended the process"
        assert e.get("/healthz")[0] == 200
        m = e.scrape()
        assert m.get("pgrepl_config_reloads_total", result="success") == 1
        assert m.get("pgrepl_config_last_reload_successful") == 1


def test_secret_files_readable_by_others_warn():
    """One warning per secret file that group or others can read: the web
    config, the TLS key and PGREPL_PASSWORD_FILE. Not fatal; none when
    they are 0600."""
    tmp = tempfile.mkdtemp(prefix="pgrepl-perm-")
    try:
        key = os.path.join(tmp, "server.key")
        shutil.copy(pki.path("server.key"), key)
        pw = os.path.join(tmp, "password")
        with open(pw, "w") as f:
            f.write("pw-not-used\n")
        config = ("tls_server_config:\n"
                  f"  cert_file: {pki.path('server.crt')}\n  key_file: {key}\n")
        for mode, want in [(0o644, 3), (0o640, 3), (0o600, 0)]:
            e = web_exporter(config, env={"PGREPL_PASSWORD_FILE": pw})
            web = e.args[-1].split("=", 1)[1]
            for path in (web, key, pw):
                os.chmod(path, mode)
            with e:
                assert https(e)[0] == 200
                time.sleep(0.3)
                text = e.log()
            warnings = [l for l in text.splitlines()
                        if "readable by group or others" in l]
            assert len(warnings) == want, f"mode {mode:o}: {warnings}"
            for what in ("--web.config.file", "tls_server_config.key_file",
                         "PGREPL_PASSWORD_FILE")[:want]:
                assert any(what in w and f"{mode:04o}" in w for w in warnings), \
                    (what, warnings)
            assert "pw-not-used" not in text
            log(f"mode {mode:o}: {len(warnings)} warnings")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    global pki
    assert shutil.which("openssl"), "openssl missing (Debian package openssl)"
    with Pki() as p:
        pki = p
        return run_tests([
            test_tls_serves_every_endpoint,
            test_min_version_tls13,
            test_client_certificate_policies,
            test_basic_auth,
            test_bad_web_config_exits_2,
            test_secret_files_readable_by_others_warn,
            test_sighup_reloads_certificate_and_users,
            test_sighup_without_web_config_keeps_running,
        ])


if __name__ == "__main__":
    sys.exit(main())
