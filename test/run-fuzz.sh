#!/usr/bin/env bash
# Builds the libFuzzer target csrc/fuzz/fuzz_open (clang, ASan+UBSan) into build-fuzz and runs it
# for a bounded time on a seed corpus of valid files plus test/c/golden/*.bin. Fails on any
# finding (crash, leak, timeout, out-of-memory); the input is left in build-fuzz/artifacts/:
# copy it to test/c/golden/any-fuzz-<what>.bin so it becomes a regression test.
# Usage: test/run-fuzz.sh [SECONDS]   (default 60)
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-60}"
build=build-fuzz
command -v clang >/dev/null || { echo "run-fuzz.sh: clang is needed (apt-get install -y clang libclang-rt-14-dev)" >&2; exit 1; }

cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DMMAPOBJ_BUILD_FUZZ=ON -DMMAPOBJ_BUILD_TESTS=OFF -DMMAPOBJ_BUILD_BENCH=OFF -DMMAPOBJ_BUILD_TOOLS=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target fuzz_open fuzz_make_corpus >/dev/null

rm -rf "$build/seeds" "$build/artifacts"
mkdir -p "$build/corpus" "$build/artifacts"
"$build/csrc/fuzz/fuzz_make_corpus" "$build/seeds"

log="$build/fuzz.log"
# The input is written to a file for every execution: keep that file in memory when we can.
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then export TMPDIR=/dev/shm; fi
set +e
ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1" \
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
  "$build/csrc/fuzz/fuzz_open" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
  -print_final_stats=1 -artifact_prefix="$build/artifacts/" \
  "$build/corpus" "$build/seeds" test/c/golden >"$log" 2>&1 &
fpid=$!
wait $fpid
rc=$?
# The target removes its temp file at exit; after a crash it cannot.
rm -f "${TMPDIR:-/tmp}/mmapobj-fuzz-$fpid.mmo"
set -e
execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
if [ $rc -ne 0 ] || [ -n "$(ls -A "$build/artifacts")" ]; then
  tail -n 60 "$log" >&2
  echo "run-fuzz.sh: FAILED (exit $rc); inputs in $build/artifacts/: $(ls "$build/artifacts" | tr '\n' ' ')" >&2
  exit 1
fi
echo "run-fuzz.sh: OK: $secs s, fuzz executions: $execs, $cov, corpus $(ls "$build/corpus" | wc -l) files"
