#!/usr/bin/env bash
# Sourced by scripts/demo.sh: starts Prometheus with alerts/pgrepl.rules.yml
# and Alertmanager with alerts/alertmanager.yml, both on loopback, and adds
# their URLs to demo_urls. Uses demo.sh's $work, $port, $root and pids.
# shellcheck disable=SC2154  # those variables are demo.sh's

prom_port=${PGREPL_DEMO_PROMETHEUS_PORT:-19090}
am_port=${PGREPL_DEMO_ALERTMANAGER_PORT:-19093}
mkdir -p "$work/prometheus" "$work/alertmanager"

cat >"$work/prometheus.yml" <<YAML
global:
  scrape_interval: 5s
  evaluation_interval: 5s
rule_files:
  - $root/alerts/pgrepl.rules.yml
alerting:
  alertmanagers:
    - static_configs:
        - targets: ['127.0.0.1:$am_port']
scrape_configs:
  - job_name: pgrepl
    honor_labels: true
    static_configs:
      - targets: ['127.0.0.1:$port']
YAML

prometheus-alertmanager --config.file="$root/alerts/alertmanager.yml" \
  --storage.path="$work/alertmanager" --web.listen-address="127.0.0.1:$am_port" \
  --cluster.listen-address= >"$work/alertmanager.log" 2>&1 &
pids+=($!)
prometheus --config.file="$work/prometheus.yml" \
  --storage.tsdb.path="$work/prometheus" --web.listen-address="127.0.0.1:$prom_port" \
  >"$work/prometheus.log" 2>&1 &
pids+=($!)

for _ in $(seq 1 50); do
  curl -fsS "http://127.0.0.1:$prom_port/-/ready" >/dev/null 2>&1 && break
  sleep 0.2
done

# shellcheck disable=SC2034  # read by demo.sh
demo_urls=(
  "prometheus    http://127.0.0.1:$prom_port/alerts   (rules: alerts/pgrepl.rules.yml)"
  "alertmanager  http://127.0.0.1:$am_port/"
)
