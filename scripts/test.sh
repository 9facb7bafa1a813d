#!/usr/bin/env bash
# Runs every test: installs what is missing, builds, and runs ctest.
# Usage: scripts/test.sh [-L label]...   (e.g. -L unit for the quick loop)
# Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh monitoring browser k8s container

build_dir=${PGREPL_BUILD_DIR:-build}
jobs=$(nproc)
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build_dir" -j "$jobs"

# Integration tests start PostgreSQL clusters; two at once fit a 2-core
# machine. Labels: unit, integration.
ctest --test-dir "$build_dir" --output-on-failure --timeout 900 -j 2 "$@"
