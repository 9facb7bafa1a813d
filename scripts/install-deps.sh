#!/usr/bin/env bash
# Installs the Debian 12 packages the build, the demo and the tests need,
# skipping those already present. Works as root or through sudo.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git python3 procps iproute2 curl
  libpq-dev prometheus-cpp-dev libcivetweb-dev libspdlog-dev
  nlohmann-json3-dev libcli11-dev libgtest-dev libgmock-dev
  libssl-dev libyaml-cpp-dev libcrypt-dev openssl
  postgresql-15 postgresql-client-15
  # The PostgreSQL router (k8s/router/haproxy.cfg): the demo, the lifecycle
  # test and the static check of its configuration run Debian's HAProxy,
  # each with its own process; the package's service (its default
  # /etc/haproxy/haproxy.cfg binds no port) is not used.
  haproxy
)
# Extra groups are asked for by the callers (e.g. "monitoring").
for group in "$@"; do
  case "$group" in
    monitoring) packages+=(prometheus prometheus-alertmanager) ;;
    # Headless browser for the status page test (tests/integration/test_http.py).
    browser) packages+=(chromium fonts-dejavu-core) ;;
    # clang and its sanitizer/libFuzzer runtimes for tests/fuzz/.
    fuzz) packages+=(clang-14 libclang-rt-14-dev) ;;
    # Offline checks of k8s/ and of every YAML file and shell script
    # (tests/k8s); npm for the schema validator unless Node.js is there.
    k8s)
      packages+=(yamllint shellcheck)
      command -v npm >/dev/null || packages+=(nodejs npm) ;;
    # The image test (tests/container): podman on runc, and debootstrap for
    # a local Debian base image.
    container) packages+=(podman runc debootstrap) ;;
    *) echo "install-deps.sh: unknown group: $group" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps.sh: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
echo "install-deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
# The project never uses the package's own "main" cluster: it runs its own
# instances on free loopback ports.
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
