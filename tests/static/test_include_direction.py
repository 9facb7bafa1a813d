"""Static check of the layer order of exporter/: every #include of
"exporter/..." in exporter/**/*.h and *.cc points to the file's own folder
or to a folder of strictly lower rank, so the dependencies run one way:
main -> http -> metrics -> poll -> collector -> (model, config) -> pg -> base.
model and config share a rank and so may not include each other. A folder
missing from RANKS fails the check: a new folder needs a deliberate rank.
Python standard library only; needs no build.
"""

import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "integration"))

from harness import SOURCE_DIR, log, run_tests  # noqa: E402

# Folder under exporter/ -> rank. A file may include its own folder or a
# strictly lower rank. ssl_compat/ (the OpenSSL 1.1 shims loaded by
# civetweb) stands alone: rank 0 beside base/, so it includes only itself.
RANKS = {
    "base": 0,
    "ssl_compat": 0,
    "pg": 1,
    "model": 2,
    "config": 2,
    "collector": 3,
    "poll": 4,
    "metrics": 5,
    "http": 6,
}
# Files directly in exporter/ (no folder) and their rank.
TOP_LEVEL = {"main.cc": 7}

# Known violations still to fix, as (including file, included header), both
# relative to exporter/. Each entry must still occur (a fixed one must be
# removed from here). Empty: every arrow points down.
ALLOWED = frozenset()

INCLUDE = re.compile(r'^\s*#\s*include\s*["<]exporter/([^">]+)[">]')


def layer(rel):
    """(name, rank) of the layer of a path relative to exporter/; rank is
    None for a folder or top-level file missing from the tables."""
    parts = rel.split("/")
    if len(parts) == 1:
        return parts[0], TOP_LEVEL.get(parts[0])
    return parts[0], RANKS.get(parts[0])


def sources(exporter_dir):
    """Paths of every .h and .cc below exporter_dir, relative to it."""
    out = []
    for root, dirs, files in os.walk(exporter_dir):
        dirs.sort()
        for name in sorted(files):
            if name.endswith((".h", ".cc")):
                path = os.path.join(root, name)
                out.append(os.path.relpath(path, exporter_dir).replace(os.sep, "/"))
    return out


def check(exporter_dir, allowed=frozenset()):
    """(problems, used): one line per offending include or unranked file,
    as "exporter/FILE:LINE: FROM -> TO (why)"; and the allowed pairs seen."""
    problems, used = [], set()
    for rel in sources(exporter_dir):
        src, src_rank = layer(rel)
        if src_rank is None:
            problems.append(f"exporter/{rel}: folder or file {src!r} has no rank "
                            f"(add it to RANKS or TOP_LEVEL)")
            continue
        with open(os.path.join(exporter_dir, rel), encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                target = m.group(1)
                dst, dst_rank = layer(target)
                if dst == src and len(target.split("/")) > 1:
                    continue
                if dst_rank is not None and dst_rank < src_rank:
                    continue
                if (rel, target) in allowed:
                    used.add((rel, target))
                    continue
                if dst_rank is None:
                    why = f"{dst!r} has no rank"
                elif dst_rank == src_rank:
                    why = f"sideways, both rank {src_rank}"
                else:
                    why = f"upward, rank {src_rank} -> {dst_rank}"
                problems.append(f"exporter/{rel}:{number}: {src} -> {target} "
                                f"({why})")
    return problems, used


# ------------------------------------------------------------------ tests
def write_tree(root, files):
    for rel, text in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)


def test_checker_catches_every_kind_of_arrow():
    """On a made-up tree the checker passes downward and same-folder
    includes and flags an upward one, a sideways one (model <-> config),
    one out of ssl_compat/, one into or from an unranked folder, and honours
    the allow-list."""
    with tempfile.TemporaryDirectory() as root:
        write_tree(root, {
            "main.cc": '#include "exporter/http/a.h"\n',
            "http/a.h": '#include "exporter/base/b.h"\n#include "exporter/http/c.h"\n',
            "http/c.h": "",
            "base/b.h": "#include <string>\n",
            "pg/up.cc": '// x\n  #  include "exporter/collector/c.h"\n',
            "model/side.h": '#include "exporter/config/c.h"\n',
            "config/c.h": "",
            "collector/c.h": '#include "exporter/model/side.h"\n',
            "ssl_compat/s.cc": '#include "exporter/base/b.h"\n',
            "base/unknown.h": '#include "exporter/newdir/x.h"\n',
            "newdir/x.h": "",
            "base/allowed.h": '#include "exporter/http/a.h"\n',
        })
        problems, used = check(root, {("base/allowed.h", "http/a.h")})
    expected = [
        "exporter/base/unknown.h:1: base -> newdir/x.h ('newdir' has no rank)",
        "exporter/model/side.h:1: model -> config/c.h (sideways, both rank 2)",
        "exporter/newdir/x.h: folder or file 'newdir' has no rank "
        "(add it to RANKS or TOP_LEVEL)",
        "exporter/pg/up.cc:2: pg -> collector/c.h (upward, rank 1 -> 3)",
        "exporter/ssl_compat/s.cc:1: ssl_compat -> base/b.h (sideways, both rank 0)",
    ]
    assert problems == expected, "\n".join(["got:"] + problems)
    assert used == {("base/allowed.h", "http/a.h")}, used
    # Without the allow-list the same include is an upward arrow.
    with tempfile.TemporaryDirectory() as root:
        write_tree(root, {"base/allowed.h": '#include "exporter/http/a.h"\n',
                          "http/a.h": ""})
        problems, _ = check(root)
    assert problems == ["exporter/base/allowed.h:1: base -> http/a.h "
                        "(upward, rank 0 -> 6)"], problems


def test_includes_point_down():
    """Every include of exporter/ points to its own folder or a lower rank,
    but for the pairs of ALLOWED, each of which still occurs."""
    exporter_dir = os.path.join(SOURCE_DIR, "exporter")
    problems, used = check(exporter_dir, ALLOWED)
    stale = sorted(ALLOWED - used)
    for file, header in stale:
        problems.append(f"ALLOWED lists exporter/{file} -> {header}, which no "
                        f"longer occurs: remove it")
    for p in problems:
        print(p, flush=True)
    assert not problems, f"{len(problems)} include-direction problem(s), listed above"
    log(f"{len(sources(exporter_dir))} files checked, "
        f"{len(ALLOWED)} known violation(s) allowed")


def main():
    return run_tests([test_checker_catches_every_kind_of_arrow,
                      test_includes_point_down])


if __name__ == "__main__":
    sys.exit(main())
