#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds (g++, release preset), runs every test.
# Exit status: non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release
ctest --preset release
