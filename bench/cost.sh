#!/usr/bin/env bash
# bench/cost.sh - the database cost of polling, pgrepl_exporter against
# Debian's postgres_exporter on one real 1+2 cluster (issue 16, part 3).
#
# Usage: bench/cost.sh [SECONDS] [BASELINE_BINARY]
#
# Builds the exporter in Release mode into build-bench/, installs
# prometheus-postgres-exporter if missing, and runs bench/cost.py for
# SECONDS (default 120) with every exporter watching the cluster at once;
# BASELINE_BINARY, another pgrepl_exporter build, is measured beside them
# (it adds load: compare builds within a run, read the goal without one).
# Prints a Markdown table; the JSON goes to build-bench/cost.json. Leaves
# no process behind.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-120}
baseline=${2:-}

prog=bench/cost.sh
# shellcheck source=SCRIPTDIR/prepare.sh
. bench/prepare.sh

extra=()
if [ -n "$baseline" ]; then extra=(--baseline "$baseline"); fi
timeout -k 30 $((${seconds%.*} + 300)) python3 bench/cost.py \
  --exporter "$build_dir/pgrepl_exporter" --reference "$reference" \
  --seconds "$seconds" --out "$build_dir/cost.json" "${extra[@]}"
