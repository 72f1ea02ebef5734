#!/usr/bin/env bash
# Installs every Debian package lockgraph builds, tests or benchmarks with.
# Idempotent: quiet when everything is present; otherwise says what it installs.
# Needs root (or sudo) only when something is missing.
set -euo pipefail

PACKAGES=(
  build-essential g++ clang-14 libclang-rt-14-dev llvm-14-dev libclang-cpp14-dev libclang-14-dev cmake ninja-build pkg-config python3
  libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev nlohmann-json3-dev libfmt-dev libtbb-dev libzstd-dev
  libcurl4-openssl-dev libxml2-dev libcpp-httplib-dev libelf-dev libdw-dev
  graphviz libgraphviz-dev chromium
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 2; }
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done" >&2
