#!/usr/bin/env bash
# The main job: a local PostgreSQL 15 primary with two streaming replicas on
# loopback, pgrepl_exporter watching them, the router (HAProxy with
# k8s/router/haproxy.cfg, as Kubernetes runs it) with its write and read
# endpoints, and (when installed by this script) Prometheus with the alert
# rules plus Alertmanager. Runs in the foreground; Ctrl-C stops everything
# it started.
#
# Environment: PGREPL_DEMO_PORT (exporter port, default 9752; the router's
#              sidecar exporters use the next three),
#              PGREPL_DEMO_REPLICAS (default 2; the router needs 2),
#              PGREPL_DEMO_WRITE_PORT, PGREPL_DEMO_READ_PORT,
#              PGREPL_DEMO_ROUTER_STATS_PORT (the router, default 15432,
#              15433, 18404).
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

# The router: k8s/router/haproxy.cfg, the file Kubernetes ships, in front
# of the three instances (db0 the primary, db1 and db2 the replicas). Its
# health checks (GET /primary, GET /replica?max_lag=1s) go to one exporter
# per instance in --sidecar mode, as in the pods: the exporter above
# watches all three and would need ?instance=NAME in every check. The
# sidecars' DB_HOST is the write endpoint, as in Kubernetes.
router_urls=()
if [ "$replicas" -eq 2 ]; then
  write_port=${PGREPL_DEMO_WRITE_PORT:-15432}
  read_port=${PGREPL_DEMO_READ_PORT:-15433}
  stats_port=${PGREPL_DEMO_ROUTER_STATS_PORT:-18404}
  haproxy_bin=$(command -v haproxy || echo /usr/sbin/haproxy)
  router_env=(ROUTER_WRITE_BIND="127.0.0.1:$write_port" ROUTER_READ_BIND="127.0.0.1:$read_port"
    ROUTER_STATS_BIND="127.0.0.1:$stats_port")
  names=(primary replica1 replica2)
  pg_ports=("$PRIMARY_PORT" "$REPLICA1_PORT" "$REPLICA2_PORT")
  for i in 0 1 2; do
    role=replica
    [ "$i" -eq 0 ] && role=primary
    sidecar_port=$((port + 1 + i))
    DB_HOST=127.0.0.1 DB_PORT="$write_port" PGREPL_PASSWORD_FILE="$work/cluster/monitor.password" \
      "$build_dir/pgrepl_exporter" --sidecar --cluster=demo \
      "--$role=host=127.0.0.1 port=${pg_ports[i]} user=pgrepl_monitor dbname=postgres" \
      "--sidecar.primary=host=127.0.0.1 port=$write_port user=pgrepl_monitor dbname=postgres" \
      --poll.interval=1s --health.replica-max-lag=1s \
      --web.listen-address="127.0.0.1:$sidecar_port" >"$work/sidecar-${names[i]}.log" 2>&1 &
    pids+=($!)
    router_env+=("ROUTER_DB${i}_ADDR=127.0.0.1:${pg_ports[i]}" "ROUTER_DB${i}_CHECK_PORT=$sidecar_port")
    router_urls+=("sidecar     http://127.0.0.1:$sidecar_port/   (${names[i]}: the router's health checks)")
  done
  env "${router_env[@]}" "$haproxy_bin" -db -f "$root/k8s/router/haproxy.cfg" >"$work/router.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 50); do
    curl -fsS "http://127.0.0.1:$stats_port/healthz" >/dev/null 2>&1 && break
    sleep 0.2
  done
fi

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
if [ ${#router_urls[@]} -gt 0 ]; then
  echo "  router (HAProxy, k8s/router/haproxy.cfg; log $work/router.log)"
  echo "  write       host=127.0.0.1 port=$write_port   (postgres-primary: the writable instance)"
  echo "  read        host=127.0.0.1 port=$read_port   (postgres-replica: replicas under 1 s of lag)"
  echo "  stats       http://127.0.0.1:$stats_port/stats"
  for line in "${router_urls[@]}"; do echo "  $line"; done
  echo
  echo "  which server answers a read (run it a few times):"
  echo "    PGPASSWORD=\$(cat $work/cluster/monitor.password) psql -XAt \\"
  echo "      'host=127.0.0.1 port=$read_port user=pgrepl_monitor dbname=postgres' -c 'SELECT inet_server_port(), pg_is_in_recovery()'"
  echo
else
  echo "  (no router: its configuration has three servers, run with PGREPL_DEMO_REPLICAS=2)"
  echo
fi
echo "  try:  scripts/pgcluster.sh delay $work/cluster replica1 3s"
echo "        scripts/pgcluster.sh load $work/cluster 30"
echo "        scripts/pgcluster.sh stop $work/cluster replica2"
echo "        scripts/pgcluster.sh stop $work/cluster primary; scripts/pgcluster.sh promote $work/cluster replica1"
echo "        (the write endpoint then reaches replica1, with no change to the router)"
echo

# Stay in the foreground until interrupted or until the exporter dies.
while kill -0 "${pids[0]}" 2>/dev/null; do sleep 1; done
echo "demo: the exporter exited; see $work/exporter.log" >&2
tail -5 "$work/exporter.log" >&2 || true
exit 1
