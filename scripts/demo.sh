#!/usr/bin/env bash
# The main job: a local PostgreSQL 15 primary with two streaming replicas on
# loopback, pgrepl_exporter watching them, and (when installed by this
# script) Prometheus with the alert rules plus Alertmanager. Runs in the
# foreground; Ctrl-C stops everything it started.
#
# Environment: PGREPL_DEMO_PORT (exporter port, default 9752),
#              PGREPL_DEMO_REPLICAS (default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

scripts/install-deps.sh monitoring
build_dir=${PGREPL_BUILD_DIR:-build}
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build_dir" -j "$(nproc)" --target pgrepl_exporter

replicas=${PGREPL_DEMO_REPLICAS:-2}
port=${PGREPL_DEMO_PORT:-9752}
work=$(mktemp -d /tmp/pgrepl-demo.XXXXXX)
chmod 755 "$work"
pids=()

# shellcheck disable=SC2317  # runs from the EXIT trap
cleanup() {
  trap - EXIT INT TERM
  echo
  echo "demo: stopping"
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  scripts/pgcluster.sh down "$work/cluster" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

scripts/pgcluster.sh up "$work/cluster" "$replicas" >/dev/null
# shellcheck disable=SC1091
source "$work/cluster/cluster.env"

# The exporter's config names every instance; the password comes from a
# file, never from a flag.
{
  printf '{"clusters": [{"name": "demo",\n'
  printf '  "primary": {"name": "primary", "conninfo": "host=127.0.0.1 port=%s user=pgrepl_monitor dbname=postgres"},\n' "$PRIMARY_PORT"
  printf '  "replicas": ['
  for i in $(seq 1 "$replicas"); do
    var="REPLICA${i}_PORT"
    [ "$i" -gt 1 ] && printf ', '
    printf '{"name": "replica%s", "conninfo": "host=127.0.0.1 port=%s user=pgrepl_monitor dbname=postgres"}' "$i" "${!var}"
  done
  printf ']}]}\n'
} > "$work/exporter.json"

PGREPL_PASSWORD_FILE="$work/cluster/monitor.password" \
  "$build_dir/pgrepl_exporter" --config.file="$work/exporter.json" \
  --web.listen-address="127.0.0.1:$port" >"$work/exporter.log" 2>&1 &
pids+=($!)

for _ in $(seq 1 50); do
  curl -fsS "http://127.0.0.1:$port/ready" >/dev/null 2>&1 && break
  sleep 0.2
done

if [ -x scripts/demo-monitoring.sh ]; then
  # shellcheck source=scripts/demo-monitoring.sh
  source scripts/demo-monitoring.sh
fi

cat <<TXT

pgrepl_exporter demo is running (Ctrl-C stops everything).

  exporter      http://127.0.0.1:$port/            (metrics: /metrics)
  exporter log  $work/exporter.log
TXT
for line in "${demo_urls[@]:-}"; do [ -n "$line" ] && echo "  $line"; done
echo
echo "  PostgreSQL (superuser over the socket):  scripts/pgcluster.sh psql $work/cluster primary"
echo "  primary     host=127.0.0.1 port=$PRIMARY_PORT user=pgrepl_monitor dbname=postgres"
for i in $(seq 1 "$replicas"); do
  var="REPLICA${i}_PORT"
  echo "  replica$i    host=127.0.0.1 port=${!var} user=pgrepl_monitor dbname=postgres"
done
echo "  monitoring password file: $work/cluster/monitor.password"
echo
echo "  try:  scripts/pgcluster.sh delay $work/cluster replica1 3s"
echo "        scripts/pgcluster.sh load $work/cluster 30"
echo "        scripts/pgcluster.sh stop $work/cluster replica2"
echo

# Stay in the foreground until interrupted or until the exporter dies.
while kill -0 "${pids[0]}" 2>/dev/null; do sleep 1; done
echo "demo: the exporter exited; see $work/exporter.log" >&2
tail -5 "$work/exporter.log" >&2 || true
exit 1
