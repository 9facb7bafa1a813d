#!/usr/bin/env bash
# bench/cost.sh - the database cost of polling, pgrepl_exporter against
# Debian's postgres_exporter on one real 1+2 cluster (issue 16, part 3).
#
# Usage: bench/cost.sh [SECONDS] [BASELINE_BINARY]
#
# Builds the exporter in Release mode into build-bench/, installs
# prometheus-postgres-exporter if missing, and runs bench/cost.py for
# SECONDS (default 120) with every exporter watching the cluster at once;
# BASELINE_BINARY, another pgrepl_exporter build, is measured beside them.
# Prints a Markdown table; the JSON goes to build-bench/cost.json. Leaves
# no process behind.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-120}
baseline=${2:-}

reference=/usr/bin/prometheus-postgres-exporter
if [ ! -x "$reference" ]; then
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
  echo "bench/cost.sh: installing prometheus-postgres-exporter" >&2
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends prometheus-postgres-exporter >/dev/null
fi

build_dir=build-bench
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DPGREPL_BUILD_TESTS=OFF >/dev/null
cmake --build "$build_dir" --target pgrepl_exporter -j "$(nproc)"

extra=()
if [ -n "$baseline" ]; then extra=(--baseline "$baseline"); fi
timeout -k 30 $((${seconds%.*} + 300)) python3 bench/cost.py \
  --exporter "$build_dir/pgrepl_exporter" --reference "$reference" \
  --seconds "$seconds" --out "$build_dir/cost.json" "${extra[@]}"
