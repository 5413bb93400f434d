#!/usr/bin/env bash
# The C tests (ctest: API, format, growth, iteration, concurrency, crash, hostile, limits, CLI) in
# the builds that `npm test` does not make. Called by .ci/run (README, quick start step 2).
#   portable  the portable POSIX backend (csrc/platform_posix.c: macOS, BSDs) built on Linux
#             with -DMMAPOBJ_PORTABLE=ON, native gcc (build-portable)
#   portable-asan  the same under AddressSanitizer+UBSan (build-asan-portable)
#   musl      x86_64-linux-musl with zig cc (build-musl); tests static, run natively; the CLI
#             tool links libmmapobj.so against musl's libc.so (Debian package musl)
#   aarch64   aarch64-linux-gnu.2.28 with zig cc (build-aarch64), every test under qemu-aarch64
#             (Debian qemu-user) with the aarch64 glibc of libc6-arm64-cross
# zig is the pinned one of .ci/prebuild (node .ci/prebuild/toolchain.js installs it).
# Usage: test/run-platforms.sh [portable|portable-asan|musl|aarch64]...   (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
what=("$@")
if [ ${#what[@]} -eq 0 ]; then
  what=(musl aarch64)
  [ ! -f csrc/platform_posix.c ] || what=(portable portable-asan "${what[@]}")
fi
jobs=2
common=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DMMAPOBJ_BUILD_TESTS=ON -DMMAPOBJ_BUILD_BENCH=OFF
        -DMMAPOBJ_BUILD_TOOLS=ON -DMMAPOBJ_WERROR=ON)
zig=""
need_zig() {
  [ -n "$zig" ] || zig="$(node .ci/prebuild/toolchain.js)"
}

# quiet configure and build; their output is shown when they fail
quiet() {
  local log
  log="$(mktemp)"
  if ! "$@" >"$log" 2>&1; then cat "$log"; rm -f "$log"; echo "run-platforms.sh: failed: $*" >&2; exit 1; fi
  rm -f "$log"
}

for w in "${what[@]}"; do
  t0=$(date +%s)
  case "$w" in
    portable)
      echo "== run-platforms: portable POSIX backend, MMAPOBJ_PORTABLE=ON (build-portable)"
      quiet cmake -S . -B build-portable "${common[@]}" -DMMAPOBJ_PORTABLE=ON
      quiet cmake --build build-portable -j"$jobs"
      ctest --test-dir build-portable --output-on-failure -j"$jobs"
      ;;
    portable-asan)
      echo "== run-platforms: portable POSIX backend under ASan+UBSan (build-asan-portable)"
      quiet cmake -S . -B build-asan-portable "${common[@]}" -DMMAPOBJ_PORTABLE=ON \
        -DMMAPOBJ_SANITIZE="address;undefined" -DMMAPOBJ_BUILD_TOOLS=OFF
      quiet cmake --build build-asan-portable -j"$jobs"
      ASAN_OPTIONS="detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1" \
      UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
        ctest --test-dir build-asan-portable --output-on-failure -j"$jobs"
      ;;
    musl)
      need_zig
      echo "== run-platforms: x86_64-linux-musl, zig cc (build-musl)"
      [ -e /lib/ld-musl-x86_64.so.1 ] || { echo "run-platforms.sh: musl's loader is needed for the CLI tool (apt-get install -y musl)" >&2; exit 1; }
      quiet cmake -S . -B build-musl "${common[@]}" -DCMAKE_TOOLCHAIN_FILE=.ci/prebuild/zig-toolchain.cmake \
        -DZIG_EXE="$zig" -DZIG_TARGET=x86_64-linux-musl
      quiet cmake --build build-musl -j"$jobs"
      ctest --test-dir build-musl --output-on-failure -j"$jobs"
      ;;
    aarch64)
      need_zig
      echo "== run-platforms: aarch64-linux-gnu.2.28, zig cc, tests under qemu-aarch64 (build-aarch64)"
      command -v qemu-aarch64 >/dev/null || { echo "run-platforms.sh: qemu-aarch64 is needed (apt-get install -y qemu-user)" >&2; exit 1; }
      [ -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ] || { echo "run-platforms.sh: the aarch64 glibc is needed (apt-get install -y libc6-arm64-cross)" >&2; exit 1; }
      quiet cmake -S . -B build-aarch64 "${common[@]}" -DCMAKE_TOOLCHAIN_FILE=.ci/prebuild/zig-toolchain.cmake \
        -DZIG_EXE="$zig" -DZIG_TARGET=aarch64-linux-gnu.2.28
      quiet cmake --build build-aarch64 -j"$jobs"
      ctest --test-dir build-aarch64 --output-on-failure -j"$jobs"
      ;;
    *)
      echo "run-platforms.sh: unknown build '$w' (portable, portable-asan, musl, aarch64)" >&2
      exit 2
      ;;
  esac
  echo "== run-platforms: $w passed in $(( $(date +%s) - t0 )) s"
done
