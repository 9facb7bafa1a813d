"""Startup errors: each bad input gives one line naming the problem and
exit code 2, without echoing secrets. No database is needed."""

import json
import os
import socket
import subprocess
import sys
import tempfile

from harness import EXPORTER, Exporter, free_port, run_tests, wait_until

SECRET = "pw-Zq81-never-shown"


def run(*args, env=None):
    r = subprocess.run([EXPORTER, *args], capture_output=True, text=True,
                       timeout=20, env=env)
    return r.returncode, r.stdout, r.stderr


def check_error(args, must_mention):
    code, out, err = run(*args)
    assert code == 2, f"{args}: exit {code}"
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"{args}: expected one line, got {err!r}"
    assert must_mention in lines[0], f"{args}: {lines[0]!r}"
    assert SECRET not in err + out, f"{args}: secret echoed"


def test_unknown_flag():
    check_error(["--no-such-flag"], "--no-such-flag")


def test_malformed_conninfo():
    check_error([f"--primary=host=x password='{SECRET}"], "--primary")
    check_error([f"--replica=host=x badkey={SECRET}"], "badkey")


def test_bad_conninfo_values_exit_2():
    # libpq takes these when parsing and refuses them only when connecting:
    # the exporter used to start and poll forever.
    check_error([f"--primary=host=127.0.0.1 port=notaport password={SECRET}"],
                "bad port")
    check_error([f"--replica=postgresql://mon:{SECRET}@127.0.0.1/postgres"
                 "?target_session_attrs=master"], "target_session_attrs")
    code, _, err = run(f"--primary=host=127.0.0.1 sslmode=on "
                       f"sslpassword={SECRET}")
    assert code == 2 and "instance \"127.0.0.1:5432\"" in err, err
    assert "bad sslmode" in err and SECRET not in err, err


def test_unreadable_config_file():
    check_error(["--config.file=/nonexistent/pgrepl.json"], "--config.file")
    with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
        f.write('{"clusters": [{"name": "a", "primary": 7}]}')
        f.flush()
        check_error([f"--config.file={f.name}"], "primary")


def test_bad_duration():
    check_error(["--primary=host=x", "--poll.interval=soon"], "--poll.interval")


def test_port_in_use():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        check_error(["--primary=host=127.0.0.1 port=1",
                     f"--web.listen-address=127.0.0.1:{port}"],
                    "--web.listen-address")


def json_file(directory, content):
    path = os.path.join(directory, "config.json")
    with open(path, "w") as f:
        f.write(content if isinstance(content, str) else json.dumps(content))
    return path


# Hostile startup inputs: each is rejected (exit 2, one line) and the
# secret in it is never echoed. (args, environment, config file content)
URI = f"postgresql://mon:{SECRET}@127.0.0.1/postgres"
HOSTILE_STARTUPS = [
    ([URI], {}, None),  # a positional argument CLI11 rejects
    ([f"--primray={URI}"], {}, None),  # a mistyped flag
    (["--primray", URI], {}, None),
    ([f"--primray=postgresql://mon:a {SECRET}@db/x"], {}, None),
    ([f"--primray=host=db sslpassword={SECRET}"], {}, None),
    ([f"--primary=host=127.0.0.1 port=notaport sslpassword={SECRET}"], {},
     None),
    ([], {"DB_HOST": "x", "DB_PORT": "notaport", "PGREPL_PASSWORD": SECRET},
     None),
    ([f"--primary={URI}?bogus=1"], {}, None),
    ([f"--primary={URI}?sslpassword={SECRET}&bogus"], {}, None),
    ([f"--primary=host=x dbname='password={SECRET}' badkey=1"], {}, None),
    ([f"--primary=host=x password = '{SECRET} b"], {}, None),
    ([f"--replica=postgresql://mon:{SECRET}@[::1/x"], {}, None),
    (["--primary=host=x", "--poll.interval=soon", URI], {}, None),
    (["--no-such-flag"], {"PGREPL_PASSWORD": SECRET}, None),
    ([], {"DB_HOST": "x", "PGREPL_USER": f"m password='{SECRET}"}, None),
    ([], {}, {"clusters": [{"name": "a",
                            "primary": f"host=x password={SECRET} bogus=1"}]}),
    ([], {}, {"clusters": [{"name": "a", "replicas": [
        {"name": "r", "conninfo": f"{URI}?x=1"}]}]}),
    ([], {}, {"clusters": [{"name": "a", f"password={SECRET}": 1}]}),
    ([], {}, '{"clusters": [{"primary": "password=' + SECRET + '" ]}'),
]


def test_hostile_startups_never_echo_secrets():
    for args, env, config in HOSTILE_STARTUPS:
        with tempfile.TemporaryDirectory() as d:
            full_env = {k: v for k, v in os.environ.items()
                        if not k.startswith(("DB_", "PGREPL_"))}
            full_env.update(env)
            full = list(args)
            if config is not None:
                full.append(f"--config.file={json_file(d, config)}")
            code, out, err = run(*full, env=full_env)
            case = f"{args} {env} {config}"
            assert code == 2, f"{case}: exit {code}: {err!r}"
            assert len(err.strip().splitlines()) == 1, f"{case}: {err!r}"
            assert SECRET not in out + err, f"{case}: secret echoed: {err!r}"


def failed_polls(exporter):
    """The sum of pgrepl_poll_errors_total over all series."""
    _, body, _ = exporter.get("/metrics")
    return sum(float(line.rsplit(" ", 1)[1]) for line in body.splitlines()
               if line.startswith("pgrepl_poll_errors_total"))


def closed_port():
    """A loopback port nobody listens on (bound, then released)."""
    return free_port()


# Hostile targets the exporter accepts and keeps polling (all down, on
# closed loopback ports): the secret must stay out of every page and the
# log. (args, environment, config file content)
def hostile_running(p, q):
    return [
        ([f"--primary=host=127.0.0.1 port={p} user=mon password={SECRET} "
          f"sslpassword={SECRET} connect_timeout=1",
          f"--replica=postgresql://mon:{SECRET}@127.0.0.1:{q}/postgres"
          f"?sslpassword={SECRET}"], {}, None),
        ([f"--primary=hostaddr=127.0.0.1 port={p} "
          f"host='postgresql://u:{SECRET}@h' dbname='password={SECRET}'"],
         {}, None),
        ([], {"DB_HOST": "127.0.0.1", "DB_PORT": str(p),
              "PGREPL_PASSWORD": SECRET}, None),
        ([], {}, {"clusters": [{
            "name": "c",
            "primary": {"name": "p",
                        "conninfo": f"host=127.0.0.1 port={p} "
                                    f"password='{SECRET}'"},
            "replicas": [f"postgresql://:{SECRET}@127.0.0.1:{q}/x"]}]}),
    ]


def test_hostile_targets_never_reach_pages_or_log():
    for args, env, config in hostile_running(closed_port(), closed_port()):
        with tempfile.TemporaryDirectory() as d:
            full = ["--poll.interval=100ms", "--pg.connect-timeout=200ms",
                    "--log.level=debug", *args]
            if config is not None:
                full.append(f"--config.file={json_file(d, config)}")
            scrubbed = {k: "" for k in os.environ
                        if k.startswith(("DB_", "PGREPL_"))}
            scrubbed.update(env)
            case = f"{args} {env} {config}"
            with Exporter(args=full, env=scrubbed) as e:
                # Wait for failed polls, so their errors are on every page.
                wait_until(lambda: failed_polls(e) >= 2, 10,
                           what="failed polls")
                for path in ("/metrics", "/status", "/"):
                    code, body, _ = e.get(path)
                    assert code == 200, f"{case}: {path} answered {code}"
                    assert SECRET not in body, f"{case}: secret on {path}"
                log = e.log()
                assert "target" in log or "discovery" in log, log
                assert SECRET not in log, f"{case}: secret in the log"


def test_help_and_version():
    code, out, _ = run("--help")
    assert code == 0 and "--web.listen-address" in out and "DB_REPLICA_HOST" in out
    code, out, _ = run("--version")
    assert code == 0 and out.startswith("pgrepl_exporter ")


if __name__ == "__main__":
    sys.exit(run_tests([test_unknown_flag, test_malformed_conninfo,
                        test_bad_conninfo_values_exit_2,
                        test_unreadable_config_file, test_bad_duration,
                        test_port_in_use, test_help_and_version,
                        test_hostile_startups_never_echo_secrets,
                        test_hostile_targets_never_reach_pages_or_log]))
