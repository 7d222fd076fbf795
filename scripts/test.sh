#!/usr/bin/env bash
# The whole test suite, exactly what CI runs (.ci/run):
#   1. installs the Debian packages (scripts/deps.sh),
#   2. builds with -Wall -Wextra -Werror + AddressSanitizer + UBSan and runs every test,
#   3. builds with ThreadSanitizer and runs the multi-process tests again,
#   4. builds the libFuzzer targets with clang and gives each a short smoke run.
# Set CTNG_TEST_QUICK=1 to run only step 2.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=$(nproc 2>/dev/null || echo 2)

bash scripts/deps.sh

step() { printf '\n=== %s ===\n' "$*"; }

step "ASan+UBSan build and all tests"
cmake -S . -B build/asan -DCTNG_SANITIZE=address -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/asan -j"$jobs"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir build/asan --output-on-failure -j"$jobs"

[ "${CTNG_TEST_QUICK:-0}" = "1" ] && exit 0

step "ThreadSanitizer build and multi-process tests"
cmake -S . -B build/tsan -DCTNG_SANITIZE=thread -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/tsan -j"$jobs"
# TSan needs a non-randomised address space on kernels with high mmap entropy.
tsan_run=()
if command -v setarch >/dev/null 2>&1 && setarch "$(uname -m)" -R true 2>/dev/null; then
	tsan_run=(setarch "$(uname -m)" -R)
fi
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
"${tsan_run[@]}" ctest --test-dir build/tsan --output-on-failure -L multiprocess -j"$jobs"

step "libFuzzer targets: smoke runs"
CC=clang cmake -S . -B build/fuzz -DCTNG_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/fuzz -j"$jobs"
ASAN_OPTIONS=detect_leaks=1 ctest --test-dir build/fuzz --output-on-failure -L fuzz -j"$jobs"

step "all test stages passed"
