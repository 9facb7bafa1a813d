#!/usr/bin/env bash
# Builds the exporter and its unit tests with sanitizers and runs tests
# there; any sanitizer report fails. docs/testing.md tells more.
#
# Usage: tests/sanitize/run.sh asan|tsan [BUILD_DIR] [STEP...]
#   asan: AddressSanitizer + UndefinedBehaviorSanitizer (and LeakSanitizer)
#   tsan: ThreadSanitizer
#   BUILD_DIR defaults to build-asan / build-tsan in the source tree.
#   STEP: build, unit, or an integration test name (test_core, test_cli);
#   without steps: build, unit, test_core and test_cli.
# ctest runs the steps one by one (tests/CMakeLists.txt, label sanitize).
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
here="$src/tests/sanitize"

kind=${1:?usage: run.sh asan|tsan [BUILD_DIR] [STEP...]}
shift
case "$kind" in
  asan) sanitize=address ;;
  tsan) sanitize=thread ;;
  *) echo "run.sh: expected asan or tsan, got $kind" >&2; exit 2 ;;
esac
build_dir="$src/build-$kind"
if [ $# -gt 0 ]; then
  build_dir=$1
  shift
fi
steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(build unit test_core test_cli)

# A report stops the process with a non-zero status (abort for ASan), so
# the unit tests and the integration harness fail on it.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS="suppressions=$here/lsan.supp:print_suppressions=0"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$here/tsan.supp:print_suppressions=0"

for step in "${steps[@]}"; do
  echo "== $kind: $step ($build_dir)"
  case "$step" in
    build)
      # -O1 keeps sanitized code quick to build and stacks readable; no
      # NDEBUG, so asserts stay on. Only the targets run here are built.
      cmake -S "$src" -B "$build_dir" -DPGREPL_SANITIZE=$sanitize \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
        -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g" >/dev/null
      cmake --build "$build_dir" -j "$(nproc)" --target unit_tests pgrepl_exporter
      ;;
    unit)
      "$build_dir/tests/unit_tests" --gtest_brief=1
      ;;
    test_*)
      PGREPL_EXPORTER="$build_dir/pgrepl_exporter" PGREPL_SOURCE_DIR="$src" \
        PGREPL_SANITIZER="$kind" python3 "$src/tests/integration/$step.py"
      ;;
    *) echo "run.sh: unknown step $step" >&2; exit 2 ;;
  esac
done
