#!/usr/bin/env bash
# Offline checks of k8s/ and of the repository's YAML and shell scripts,
# one per ctest test (tests/k8s/CMakeLists.txt):
#
#   check.sh npm DIR         npm ci of tests/k8s/package-lock.json into DIR
#                            (skipped while DIR matches the lock file)
#   check.sh manifests DIR   kubectl kustomize k8s/ and k8s/monitoring/, then
#                            tests/k8s/validate.js (schemas, references, pod
#                            policy, no password in a ConfigMap) over them
#                            and k8s/secrets.yaml.example; and proves the
#                            validator fails on broken copies
#   check.sh promtool DIR    promtool check rules on the PrometheusRule's
#                            spec.groups as kustomize renders them
#   check.sh router DIR      tests/k8s/router.js: the rendered postgres-router
#                            ConfigMap holds the lifecycle test's haproxy.cfg
#                            byte for byte, the Deployment mounts it and sets
#                            every variable it reads, the Services reach its
#                            ports; then haproxy -c with the Deployment's
#                            environment; and proves router.js fails on a
#                            changed byte
#   check.sh generated       scripts/gen-k8s-monitoring.py --check
#   check.sh yamllint        yamllint (.yamllint) on every tracked YAML file
#   check.sh shellcheck      shellcheck on every tracked *.sh and .ci/run
#
# DIR holds node_modules (under the build directory). Nothing here needs a
# cluster; npm ci needs the npm registry on its first run only.
set -euo pipefail
cd "$(dirname "$0")/../.."

die() { printf 'check.sh: %s\n' "$*" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Tracked files matching the patterns; every file when not in a git tree.
tracked() {
    if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git ls-files -- "$@"
    else
        local -a args=()
        local p
        for p in "$@"; do args+=(-o -name "$p"); done
        find . -path './build*' -prune -o \( -false "${args[@]}" \) -type f -print | sed 's|^\./||'
    fi
}

npm_dir() {
    [[ -n ${1:-} ]] || die "missing DIR"
    mkdir -p "$1"
    (cd "$1" && pwd)
}

render() {
    kubectl kustomize k8s/ >"$work/k8s.yaml"
    kubectl kustomize k8s/monitoring/ >"$work/monitoring.yaml"
}

cmd_npm() {
    local dir stamp
    dir=$(npm_dir "${1:-}")
    command -v npm >/dev/null || die "npm not found (scripts/install-deps.sh k8s)"
    stamp=$(sha256sum tests/k8s/package.json tests/k8s/package-lock.json | sha256sum | cut -d' ' -f1)
    if [[ -f $dir/.stamp && $(<"$dir/.stamp") == "$stamp" && -d $dir/node_modules ]]; then
        echo "node modules in $dir are current"
        return
    fi
    cp tests/k8s/package.json tests/k8s/package-lock.json "$dir/"
    (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
    printf '%s\n' "$stamp" >"$dir/.stamp"
}

validate() { NODE_PATH="$NPM_DIR/node_modules" node tests/k8s/validate.js "$@"; }

cmd_manifests() {
    NPM_DIR=$(npm_dir "${1:-}")
    render
    validate "$work/k8s.yaml" "$work/monitoring.yaml" k8s/secrets.yaml.example

    # The validator must fail on what it is meant to catch.
    local broken=$work/broken.yaml out
    sed -e 's/runAsNonRoot: true/runAsNonRoot: false/' \
        -e 's/key: DB_HOST$/key: DB_HOSTNAME/' \
        -e 's/^  replicas: 2$/  replicas: two/' \
        -e 's/^  DB_PORT: "5432"$/  DB_PORT: "5432"\n  NOTE: host=x password=hunter2/' \
        -e 's/targetPort: read$/targetPort: reads/' \
        -e 's/- port: 5433$/- port: 5434/' \
        "$work/k8s.yaml" >"$broken"
    if out=$(validate "$broken" "$work/monitoring.yaml" k8s/secrets.yaml.example); then
        die "validate.js accepted a broken rendering"
    fi
    local want
    for want in 'runAsNonRoot is not true' 'has no key DB_HOSTNAME' \
        'spec/replicas must be integer' 'a password assigned' \
        'target port reads is not a named container port' \
        'allows port 5434, which no pod it selects listens on'; do
        grep -qF "$want" <<<"$out" || die "validate.js did not report: $want"$'\n'"$out"
    done
    echo "validate.js rejects a broken rendering as it should"
}

cmd_promtool() {
    NPM_DIR=$(npm_dir "${1:-}")
    render
    # shellcheck disable=SC2016  # the ${...} below are JavaScript's
    NODE_PATH="$NPM_DIR/node_modules" node -e '
        const fs = require("fs"), YAML = require("yaml");
        const rules = YAML.parseAllDocuments(fs.readFileSync(process.argv[1], "utf8"))
            .map((d) => d.toJS()).filter((o) => o && o.kind === "PrometheusRule");
        if (rules.length !== 1) throw new Error(`expected 1 PrometheusRule, got ${rules.length}`);
        fs.writeFileSync(process.argv[2], YAML.stringify({groups: rules[0].spec.groups}));
    ' "$work/monitoring.yaml" "$work/rules.yml"
    local out
    out=$(promtool check rules "$work/rules.yml" 2>&1) || { echo "$out"; die "promtool check rules failed"; }
    echo "$out"
    if grep -qi warn <<<"$out"; then die "promtool printed warnings"; fi
}

cmd_router() {
    NPM_DIR=$(npm_dir "${1:-}")
    render
    # The file the lifecycle test runs HAProxy with.
    local config out
    config=$(python3 -c 'import sys; sys.path.insert(0, "tests/lifecycle"); import router; print(router.CONFIG)')
    [[ -f $config ]] || die "the lifecycle test's haproxy.cfg not found: $config"
    NODE_PATH="$NPM_DIR/node_modules" node tests/k8s/router.js "$work/k8s.yaml" "$config" "$work/router.env" ||
        die "the router's rendering does not match $config"

    # Valid with the Deployment's environment. The pod DNS names do not
    # resolve here: those servers start without an address (warnings).
    local -a vars
    mapfile -t vars <"$work/router.env"
    command -v haproxy >/dev/null || die "haproxy not found (scripts/install-deps.sh)"
    out=$(env -i PATH="$PATH" "${vars[@]}" haproxy -c -f "$config" 2>&1) ||
        { echo "$out"; die "haproxy -c failed with the Deployment's environment"; }
    grep -q 'Configuration file is valid' <<<"$out" || { echo "$out"; die "haproxy -c: no verdict"; }
    echo "haproxy -c: valid with the Deployment's environment (${#vars[@]} variables)"

    # router.js must notice one changed byte.
    sed 's/timeout connect 300ms/timeout connect 301ms/' "$work/k8s.yaml" >"$work/broken.yaml"
    if out=$(NODE_PATH="$NPM_DIR/node_modules" node tests/k8s/router.js "$work/broken.yaml" "$config" "$work/broken.env"); then
        die "router.js accepted a changed haproxy.cfg"
    fi
    grep -qF 'is not byte-identical' <<<"$out" || die "router.js did not report the change: $out"
    echo "router.js rejects a changed haproxy.cfg as it should"
}

cmd_generated() {
    python3 scripts/gen-k8s-monitoring.py --check
}

cmd_yamllint() {
    local -a files
    mapfile -t files < <(tracked '*.yml' '*.yaml' '*.yaml.example')
    ((${#files[@]} > 0)) || die "no YAML files found"
    yamllint --strict -c .yamllint "${files[@]}"
    echo "yamllint: ${#files[@]} files clean"
}

cmd_shellcheck() {
    local -a files
    mapfile -t files < <(tracked '*.sh' .ci/run)
    ((${#files[@]} > 0)) || die "no shell scripts found"
    shellcheck -x "${files[@]}"
    echo "shellcheck: ${#files[@]} scripts clean"
}

case ${1:-} in
    npm) cmd_npm "${2:-}" ;;
    manifests) cmd_manifests "${2:-}" ;;
    promtool) cmd_promtool "${2:-}" ;;
    router) cmd_router "${2:-}" ;;
    generated) cmd_generated ;;
    yamllint) cmd_yamllint ;;
    shellcheck) cmd_shellcheck ;;
    *) die "usage: check.sh npm|manifests|promtool|router DIR, or check.sh generated|yamllint|shellcheck" ;;
esac
