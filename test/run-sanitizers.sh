#!/usr/bin/env bash
# The C tests under AddressSanitizer+UBSan (build-asan), then under valgrind memcheck
# (build-valgrind, where the tests get MMAPOBJ_TEST_QUICK=1 and run smaller). Any sanitizer report,
# valgrind error or definite leak fails the run. Called by .ci/run; sized for CI (~15 min on 2 cores).
# Usage: test/run-sanitizers.sh [asan|valgrind]   (default: both)
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-all}"
jobs="$(nproc)"
common=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DMMAPOBJ_BUILD_TESTS=ON -DMMAPOBJ_BUILD_BENCH=OFF)

if [ "$what" = all ] || [ "$what" = asan ]; then
  t0=$(date +%s)
  echo "== run-sanitizers: ASan+UBSan build (build-asan)"
  cmake -S . -B build-asan "${common[@]}" -DMMAPOBJ_SANITIZE="address;undefined" -DMMAPOBJ_VALGRIND=OFF >/dev/null
  cmake --build build-asan -j"$jobs" >/dev/null
  ASAN_OPTIONS="detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1" \
  UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
    ctest --test-dir build-asan --output-on-failure -j"$jobs"
  echo "== run-sanitizers: ASan+UBSan passed in $(( $(date +%s) - t0 )) s"
fi

if [ "$what" = all ] || [ "$what" = valgrind ]; then
  t0=$(date +%s)
  command -v valgrind >/dev/null || { echo "run-sanitizers.sh: valgrind is needed (apt-get install -y valgrind)" >&2; exit 1; }
  echo "== run-sanitizers: valgrind memcheck (build-valgrind)"
  cmake -S . -B build-valgrind "${common[@]}" -DMMAPOBJ_SANITIZE= -DMMAPOBJ_VALGRIND=ON >/dev/null
  cmake --build build-valgrind -j"$jobs" >/dev/null
  ctest --test-dir build-valgrind --output-on-failure -j"$jobs"
  echo "== run-sanitizers: valgrind passed in $(( $(date +%s) - t0 )) s"
fi
