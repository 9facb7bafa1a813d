"""Startup errors: each bad input gives one line naming the problem and
exit code 2, without echoing secrets. No database is needed."""

import socket
import subprocess
import sys
import tempfile

from harness import EXPORTER, run_tests

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


def test_help_and_version():
    code, out, _ = run("--help")
    assert code == 0 and "--web.listen-address" in out and "DB_REPLICA_HOST" in out
    code, out, _ = run("--version")
    assert code == 0 and out.startswith("pgrepl_exporter ")


if __name__ == "__main__":
    sys.exit(run_tests([test_unknown_flag, test_malformed_conninfo,
                        test_unreadable_config_file, test_bad_duration,
                        test_port_in_use, test_help_and_version]))
