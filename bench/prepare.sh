# shellcheck shell=bash
# prepare.sh - sourced by bench/run.sh and bench/cost.sh: installs the
# reference (Debian's postgres_exporter) when missing and builds the exporter
# into build-bench/. Sets $reference and $build_dir. $prog names the caller.

# The reference: its package ships a systemd unit; the benchmarks never use
# it and run the binary themselves, on loopback ports of their own.
: "${prog:?set by the caller}"
reference=/usr/bin/prometheus-postgres-exporter
if [ ! -x "$reference" ]; then
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
  echo "$prog: installing prometheus-postgres-exporter" >&2
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends prometheus-postgres-exporter >/dev/null
fi

build_dir=build-bench
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DPGREPL_BUILD_TESTS=OFF >/dev/null
cmake --build "$build_dir" --target pgrepl_exporter -j "$(nproc)"
