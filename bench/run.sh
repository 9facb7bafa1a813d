#!/usr/bin/env bash
# bench/run.sh - side-by-side benchmark of pgrepl_exporter and Debian's
# prometheus-postgres-exporter (postgres_exporter 0.11) on real clusters.
#
# Usage: bench/run.sh [--quick]
#
# Installs what is missing (apt), builds the exporter in Release mode into
# build-bench/, runs bench/bench.py (about 10 minutes) and writes
# bench/results/latest.json and docs/BENCHMARKS.md. --quick: a 3-minute
# smoke run of every phase, written to build-bench/bench-quick.{json,md}. Not part of the test suite: it measures, it does not
# pass or fail on the figures. Leaves no process behind.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=()
case "${1:-}" in
  "") ;;
  --quick) quick=(--quick) ;;
  -h | --help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "bench/run.sh: unknown argument: $1" >&2; exit 2 ;;
esac

scripts/install-deps.sh

prog=bench/run.sh
# shellcheck source=SCRIPTDIR/prepare.sh
. bench/prepare.sh

out=bench/results/latest.json
doc=docs/BENCHMARKS.md
if [ ${#quick[@]} -gt 0 ]; then
  out=$build_dir/bench-quick.json
  doc=$build_dir/bench-quick.md
fi
mkdir -p "$(dirname "$out")"
# Bounded: every phase has a fixed count or duration; this is a backstop.
timeout -k 30 2400 python3 bench/bench.py --exporter "$build_dir/pgrepl_exporter" \
  --reference "$reference" --out "$out" "${quick[@]}"
python3 bench/report.py "$out" >"$doc.tmp"
mv "$doc.tmp" "$doc"
echo "bench/run.sh: wrote $out and $doc" >&2
