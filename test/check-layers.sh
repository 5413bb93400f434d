#!/usr/bin/env bash
# The layering of csrc/ (README.md, Development, "Layout"), checked:
#  1. no cycle among the library's modules (a module is X.c with X.h), counting both
#     `#include "..."` lines and calls between object files (undefined -> defining symbol, by nm
#     of the static library);
#  2. no OS call outside the platform backends (csrc/platform_*.c): the other objects import only
#     ISO C library functions (compiler and sanitizer runtime names, __*, are ignored);
#  3. csrc/tools includes no header of the library but mmapobj.h.
# Usage: test/check-layers.sh SOURCE_DIR STATIC_LIB [NM]      (a ctest: `layers`)
#        test/check-layers.sh --self-test                     (shows each check can fail)
set -euo pipefail

# (bcmp: what clang, e.g. zig cc, makes of memcmp(...) == 0)
libc_ok=' memcpy memmove memset memcmp bcmp memchr strlen strcmp strncmp strchr strrchr strdup strndup
  strstr snprintf vsnprintf malloc calloc realloc free qsort abort '

# Include edges "from to" of the modules under $1 (csrc/*.c, csrc/*.h).
include_edges() {
  local dir=$1 f from inc
  for f in "$dir"/*.c "$dir"/*.h; do
    [ -e "$f" ] || continue
    from=$(basename "$f"); from=${from%.*}
    while read -r inc; do
      inc=${inc%.h}
      [ -e "$dir/$inc.h" ] || continue           # mmapobj.h lives in include/: the API, no module
      [ "$inc" = "$from" ] || echo "$from $inc"
    done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
  done
}

# Call edges "from to" between the objects of a static library, and the foreign imports
# "object symbol" of non-platform objects into $2.
call_edges() {
  local lib=$1 imports=$2 nm=$3
  "$nm" -A "$lib" 2>/dev/null | awk -v imports="$imports" '
    {
      # "lib.a:file.c.o: 0000 T sym" or "lib.a:file.c.o:                  U sym"
      split($1, p, ":"); obj = p[2]; sub(/\.c\.o$|\.o$/, "", obj); sub(/^.*\//, "", obj)
      sym = $NF; type = $(NF-1)
      if (type == "U") { und[obj, sym] = 1; objs[obj] = 1 }
      else if (type ~ /^[TDBR]$/) def[sym] = obj
    }
    END {
      for (k in und) {
        split(k, q, SUBSEP); o = q[1]; s = q[2]
        if (s in def) { if (def[s] != o) print o, def[s] }
        else if (o !~ /^platform_/ && s !~ /^_/) print o, s > imports
      }
    }' | sort -u
}

check() {
  local src=$1 lib=$2 nm=${3:-nm} fail=0 tmp
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  include_edges "$src/csrc" > "$tmp/inc"
  call_edges "$lib" "$tmp/imports" "$nm" > "$tmp/call"
  [ -s "$tmp/call" ] || { echo "check-layers: no call edges read from $lib (nm failed?)" >&2; return 1; }
  sort -u "$tmp/inc" "$tmp/call" > "$tmp/all"
  if ! tsort "$tmp/all" > "$tmp/order" 2> "$tmp/err"; then
    echo "check-layers: csrc/ has a cycle (include and call edges):" >&2
    cat "$tmp/err" >&2
    fail=1
  fi
  if [ -s "$tmp/imports" ]; then
    while read -r obj sym; do
      case "$libc_ok" in
        *" $sym "*) ;;
        *) echo "check-layers: csrc/$obj.c calls $sym: OS calls belong in csrc/platform_*.c" >&2; fail=1 ;;
      esac
    done < "$tmp/imports"
  fi
  local f inc
  for f in "$src"/csrc/tools/*.c "$src"/csrc/tools/*.h; do
    [ -e "$f" ] || continue
    while read -r inc; do
      [ "$inc" = mmapobj.h ] && continue
      case "$inc" in */*) ;; *) [ -e "$src/csrc/tools/$inc" ] && continue ;; esac
      echo "check-layers: $f includes \"$inc\": the tool may include only mmapobj.h of the library" >&2
      fail=1
    done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
  done
  if [ "$fail" = 0 ]; then
    echo "check-layers: $(wc -l < "$tmp/all") edges among $(wc -l < "$tmp/order") modules, no cycle; no OS call outside platform_*; tools use mmapobj.h only"
    echo "check-layers: order (callers first): $(tr '\n' ' ' < "$tmp/order")"
  fi
  return $fail
}

self_test() {
  local t; t=$(mktemp -d)
  trap 'rm -rf "$t"' RETURN
  mkdir -p "$t/csrc/tools" "$t/csrc/include"
  printf '#include "b.h"\nint a(void) { return 1; }\n' > "$t/csrc/a.c"
  printf 'int a(void);\n' > "$t/csrc/a.h"
  printf '#include "a.h"\n#include <unistd.h>\nint b(void) { return a() + (int)getpid(); }\n' > "$t/csrc/b.c"
  printf 'int b(void);\n' > "$t/csrc/b.h"
  printf '#include "../a.h"\n' > "$t/csrc/tools/t.c"
  (cd "$t/csrc" && cc -c a.c b.c && ar rc liba.a a.o b.o)
  local out
  out=$(check "$t" "$t/csrc/liba.a" 2>&1) && { echo "self-test: a cycle passed"; return 1; }
  grep -q "has a cycle" <<<"$out" || { echo "self-test: cycle not reported: $out"; return 1; }
  grep -q "calls getpid" <<<"$out" || { echo "self-test: OS call not reported: $out"; return 1; }
  grep -q 'includes "../a.h"' <<<"$out" || { echo "self-test: tool include not reported: $out"; return 1; }
  echo "check-layers: self-test passed (a cycle, an OS call and a tool include are each reported)"
}

if [ "${1:-}" = --self-test ]; then self_test; else check "$@"; fi
