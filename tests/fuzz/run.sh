#!/usr/bin/env bash
# Builds the libFuzzer targets (clang) and runs one of them on its seed
# corpus. docs/testing.md tells more.
#
# Usage: tests/fuzz/run.sh [--no-build] TARGET [libFuzzer flags...]
#        tests/fuzz/run.sh --build-only
#   TARGET: a tests/fuzz/fuzz_*.cc name, e.g. fuzz_lsn (or just lsn).
#   Flags go to libFuzzer, e.g. -max_total_time=3600 or -jobs=2.
#   PGREPL_FUZZ_BUILD_DIR: the build directory (default build-fuzz).
# New inputs go to BUILD_DIR/corpus/TARGET, so the committed seeds in
# tests/fuzz/corpus/TARGET are only read; a crash is saved under
# BUILD_DIR/artifacts/TARGET/ and makes this script fail.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build_dir=${PGREPL_FUZZ_BUILD_DIR:-$src/build-fuzz}

build=1
run=1
case "${1:-}" in
  --no-build) build=0; shift ;;
  --build-only) run=0; shift ;;
esac

if [ "$build" = 1 ]; then
  if [ ! -f "$build_dir/CMakeCache.txt" ]; then
    "$src/scripts/install-deps.sh" fuzz
    cmake -S "$src/tests/fuzz" -B "$build_dir" -DCMAKE_CXX_COMPILER=clang++-14 >/dev/null
  fi
  cmake --build "$build_dir" -j "$(nproc)"
fi
[ "$run" = 1 ] || exit 0

target=${1:?usage: run.sh [--no-build] TARGET [libFuzzer flags...]}
shift
target=fuzz_${target#fuzz_}
binary="$build_dir/$target"
[ -x "$binary" ] || { echo "run.sh: no fuzz target $binary" >&2; exit 2; }
seeds="$src/tests/fuzz/corpus/$target"
work="$build_dir/corpus/$target"
artifacts="$build_dir/artifacts/$target/"
mkdir -p "$work" "$artifacts"

flags=(-max_len=4096 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
       -artifact_prefix="$artifacts")
dict="$src/tests/fuzz/dict/$target.dict"
[ -f "$dict" ] && flags+=(-dict="$dict")

# Leak checks stay on (libFuzzer's default); UBSan reports are crashes
# through -fno-sanitize-recover.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
echo "run.sh: $binary ${flags[*]} $* $work $seeds"
exec "$binary" "${flags[@]}" "$@" "$work" "$seeds"
