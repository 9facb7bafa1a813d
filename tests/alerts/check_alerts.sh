#!/usr/bin/env bash
# Static checks of alerts/: promtool check rules (no warnings), promtool
# rule unit tests, amtool check-config, and a runbook section per alert.
set -euo pipefail
cd "$(dirname "$0")/../.."

out=$(promtool check rules alerts/pgrepl.rules.yml 2>&1)
echo "$out"
if grep -qi 'warn' <<<"$out"; then echo "promtool printed warnings" >&2; exit 1; fi
promtool test rules alerts/tests/*.test.yml
amtool check-config alerts/alertmanager.yml

missing=0
# shellcheck disable=SC2013  # alert names are single words
for alert in $(sed -n 's/^ *- alert: *//p' alerts/pgrepl.rules.yml); do
  if ! grep -q "^## ${alert}\$" docs/runbooks.md; then
    echo "no runbook section for $alert" >&2
    missing=1
  fi
  anchor=$(tr '[:upper:]' '[:lower:]' <<<"$alert")
  if ! grep -q "runbooks.md#${anchor}\"" alerts/pgrepl.rules.yml; then
    echo "no runbook_url for $alert" >&2
    missing=1
  fi
done
exit "$missing"
