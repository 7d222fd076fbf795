#!/usr/bin/env bash
# The main job: installs the Debian packages, builds ctng (Release) and runs
# `ctng testnet` — the seed's local CTng network on loopback (DESIGN §9).
# Extra arguments go to `ctng testnet`, e.g. --scenario split-logger --periods 5.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DCTNG_TESTS=OFF >/dev/null
cmake --build build/release -j"$(nproc 2>/dev/null || echo 2)" --target ctng
exec ./build/release/ctng testnet "$@"
