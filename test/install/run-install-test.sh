#!/usr/bin/env bash
# Installs the library from a build tree into a temporary prefix, then uses it the three ways
# users do: a CMake project with find_package(mmapobj) (shared and static), a plain cc command
# line from pkg-config, and the Node package loading the installed libmmapobj.so.1 through the
# dynamic loader (no build/ of its own). Usage: run-install-test.sh BUILD_DIR
set -euo pipefail
src="$(cd "$(dirname "$0")/../.." && pwd)"
build="$(cd "$1" && pwd)"
work="$(mktemp -d /tmp/mmapobj-install.XXXXXX)"
trap 'rm -rf "$work"' EXIT
prefix="$work/prefix"

cmake --install "$build" --prefix "$prefix" >/dev/null
libdir="$(dirname "$(find "$prefix" -name 'libmmapobj.so.1' | head -1)")"
test -f "$prefix/include/mmapobj.h"
test -L "$libdir/libmmapobj.so" && test -f "$libdir/libmmapobj.a"
soname="$(objdump -p "$libdir/libmmapobj.so.1" | awk '/SONAME/ {print $2}')"
[ "$soname" = libmmapobj.so.1 ] || { echo "SONAME is '$soname'"; exit 1; }
if objdump -p "$libdir/libmmapobj.so.1" | grep -q 'NEEDED.*xxhash'; then
  echo "libmmapobj.so.1 must not depend on libxxhash at run time"; exit 1
fi
if nm -D --defined-only "$libdir/libmmapobj.so.1" | awk '{print $3}' | grep -v '^mmapobj_' | grep -q .; then
  echo "libmmapobj.so.1 exports symbols without the mmapobj_ prefix:"
  nm -D --defined-only "$libdir/libmmapobj.so.1" | awk '{print $3}' | grep -v '^mmapobj_'; exit 1
fi
echo "install: header, libmmapobj.so.1 (SONAME ok, no libxxhash, only mmapobj_ symbols), libmmapobj.a"

# 1. find_package
cmake -S "$src/test/install" -B "$work/cmake-consumer" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/cmake-consumer" >/dev/null
LD_LIBRARY_PATH="$libdir" "$work/cmake-consumer/consumer_shared" "$work/a.mmo"
"$work/cmake-consumer/consumer_static" "$work/b.mmo"
echo "install: find_package(mmapobj) shared + static ok"

# 2. pkg-config
export PKG_CONFIG_PATH="$libdir/pkgconfig"
cc -std=c11 -Wall -Werror "$src/test/install/consumer.c" $(pkg-config --cflags --libs mmapobj) -o "$work/consumer_pc"
LD_LIBRARY_PATH="$libdir" "$work/consumer_pc" "$work/c.mmo"
echo "install: pkg-config mmapobj ($(pkg-config --modversion mmapobj)) ok"

# 3. the Node package over the system-installed library: a copy of the package without build/
if command -v node >/dev/null && [ -d "$src/node_modules/koffi" ]; then
  mkdir -p "$work/pkg"
  cp -r "$src/js" "$src/package.json" "$work/pkg/"
  ln -s "$src/node_modules" "$work/pkg/node_modules"
  out="$(cd "$work" && env -u MMAPOBJ_LIBRARY LD_LIBRARY_PATH="$libdir" node -e '
    const m = require(process.argv[1]);
    const w = new m.Create(process.argv[2]); w.k = "v"; const r = new m.Open(process.argv[2]);
    if (r.k !== "v") throw new Error("value not read back");
    r.close(); w.close();
    console.log(m.library.path);' "$work/pkg" "$work/d.mmo")"
  case "$out" in
    "$libdir"/*|libmmapobj.so.1) echo "install: Node package loaded the installed library ($out)";;
    *) echo "install: the Node package loaded '$out', not the installed library"; exit 1;;
  esac
fi
echo "install test: ok"
