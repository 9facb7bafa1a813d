#!/usr/bin/env bash
# Runs every test: installs what is missing, builds, and runs ctest.
# Usage: scripts/test.sh [-L label]...   (e.g. -L unit for the quick loop)
#        scripts/test.sh --sanitize [ctest args]   (ASan+UBSan and TSan)
# Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

# TSan (label tsan) runs only with --sanitize, which runs the sanitizer
# tests alone (docs/testing.md).
label_args=(-LE tsan)
ctest_args=()
for arg in "$@"; do
  if [ "$arg" = --sanitize ]; then label_args=(-L sanitize); else ctest_args+=("$arg"); fi
done

scripts/install-deps.sh monitoring browser fuzz k8s container

build_dir=${PGREPL_BUILD_DIR:-build}
jobs=$(nproc)
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build_dir" -j "$jobs"

# Integration tests start PostgreSQL clusters; two at once fit a 2-core
# machine. Labels: unit, integration, lifecycle (runs alone), soak, k8s,
# container, sanitize, tsan, fuzz.
ctest --test-dir "$build_dir" --output-on-failure --timeout 900 -j 2 \
  "${label_args[@]}" "${ctest_args[@]}"
