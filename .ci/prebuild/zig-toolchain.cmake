# CMake toolchain file: cross-compile this project's CMakeLists.txt with `zig cc` (zig 0.11 from
# the npm package pinned in .ci/prebuild/package.json). Used by .ci/prebuild/prebuild.js for the
# prebuilt libraries and by .ci/run for the cross ctest runs (aarch64 under qemu-user, musl x64).
#
#   cmake -S . -B build-x -DCMAKE_TOOLCHAIN_FILE=.ci/prebuild/zig-toolchain.cmake \
#         -DZIG_EXE=/path/to/zig -DZIG_TARGET=aarch64-linux-musl
#
# ZIG_TARGET is a zig target triple: x86_64-linux-gnu.2.28, aarch64-linux-musl, aarch64-macos,
# x86_64-windows-gnu, ...
# For an aarch64 target the tests run under qemu-aarch64 (CMAKE_CROSSCOMPILING_EMULATOR); a musl
# target links its executables statically, so they need no aarch64 sysroot.
cmake_minimum_required(VERSION 3.19)

# try_compile projects re-read this file: hand them the two settings.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES ZIG_EXE ZIG_TARGET)
if(NOT ZIG_EXE OR NOT ZIG_TARGET)
  message(FATAL_ERROR "zig-toolchain.cmake needs -DZIG_EXE=/path/to/zig and -DZIG_TARGET=<zig target triple>")
endif()

string(REGEX MATCH "^([a-z0-9_]+)-([a-z]+)" _zig_triple "${ZIG_TARGET}")
set(_zig_arch "${CMAKE_MATCH_1}")
set(_zig_os "${CMAKE_MATCH_2}")
if(_zig_os STREQUAL "linux")
  set(CMAKE_SYSTEM_NAME Linux)
elseif(_zig_os STREQUAL "macos")
  set(CMAKE_SYSTEM_NAME Darwin)
  # No Xcode here: keep CMake's Darwin platform files from looking for an SDK.
  set(CMAKE_OSX_SYSROOT "" CACHE STRING "" FORCE)
  set(CMAKE_OSX_DEPLOYMENT_TARGET "" CACHE STRING "" FORCE)
elseif(_zig_os STREQUAL "windows")
  set(CMAKE_SYSTEM_NAME Windows) # x86_64-windows-gnu: mingw-w64 headers and C runtime (msvcrt)
else()
  message(FATAL_ERROR "zig-toolchain.cmake: unsupported ZIG_TARGET ${ZIG_TARGET}")
endif()
set(CMAKE_SYSTEM_PROCESSOR "${_zig_arch}")

# One wrapper script per tool, in this build tree: CMake wants a single compiler path.
set(_zig_bin "${CMAKE_BINARY_DIR}/zig-wrappers")
file(MAKE_DIRECTORY "${_zig_bin}")
foreach(_tool cc ar ranlib)
  if(_tool STREQUAL "cc")
    set(_args "cc -target ${ZIG_TARGET}")
  else()
    set(_args "${_tool}")
  endif()
  file(WRITE "${_zig_bin}/zig-${_tool}.tmp" "#!/bin/sh\nexec \"${ZIG_EXE}\" ${_args} \"$@\"\n")
  file(CHMOD "${_zig_bin}/zig-${_tool}.tmp" PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE
       GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
  file(RENAME "${_zig_bin}/zig-${_tool}.tmp" "${_zig_bin}/zig-${_tool}")
endforeach()
set(CMAKE_C_COMPILER "${_zig_bin}/zig-cc")
set(CMAKE_AR "${_zig_bin}/zig-ar" CACHE FILEPATH "" FORCE)
set(CMAKE_RANLIB "${_zig_bin}/zig-ranlib" CACHE FILEPATH "" FORCE)

# Nothing of the host's /usr/include or /usr/lib may leak into a cross build: search only the
# (empty) find root for headers and libraries; programs (bash, qemu) come from the host.
set(CMAKE_FIND_ROOT_PATH "${CMAKE_BINARY_DIR}/zig-root")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Two header-only files come from the host, copied alone into the find root so that no other
# host header comes along with their -I: xxhash.h (libxxhash-dev; portable C, compiled in with
# XXH_INLINE_ALL) and valgrind/valgrind.h (valgrind; macros that are no-ops outside valgrind,
# which let csrc/platform_*.c tell whether it runs under valgrind). valgrind.h is optional.
set(_zig_inc "${CMAKE_BINARY_DIR}/zig-root/include")
if(NOT EXISTS "${_zig_inc}/xxhash.h")
  if(NOT EXISTS /usr/include/xxhash.h)
    message(FATAL_ERROR "/usr/include/xxhash.h not found: install it with `apt-get install -y libxxhash-dev`")
  endif()
  file(COPY /usr/include/xxhash.h DESTINATION "${_zig_inc}")
endif()
if(NOT EXISTS "${_zig_inc}/valgrind/valgrind.h" AND EXISTS /usr/include/valgrind/valgrind.h)
  file(COPY /usr/include/valgrind/valgrind.h DESTINATION "${_zig_inc}/valgrind")
endif()
set(XXHASH_INCLUDE_DIR "${_zig_inc}" CACHE PATH "xxhash.h (copied from the host)" FORCE)
# the zig-root include directory on every compile line (valgrind.h is found through it)
set(CMAKE_C_FLAGS_INIT "-isystem ${_zig_inc}")

# aarch64 Linux executables (the tests) run under qemu-user. A glibc target's executables are
# dynamically linked: qemu finds the aarch64 glibc in /usr/aarch64-linux-gnu (libc6-arm64-cross).
if(_zig_arch STREQUAL "aarch64" AND _zig_os STREQUAL "linux" AND NOT DEFINED CMAKE_CROSSCOMPILING_EMULATOR)
  find_program(_zig_qemu qemu-aarch64 NO_CMAKE_FIND_ROOT_PATH)
  # -R 64G: a guest address space of 64 GiB. qemu-user 7.2 (Debian 12) keeps ~24 bytes of page
  # flags per reserved guest page and never frees them: a hostile header claiming a 4 TiB
  # max_file_size (test_hostile) would make qemu itself allocate 24 GiB. Within 64 GiB such a
  # reservation fails as it would under `ulimit -v`, and the library falls back (reader) or
  # reports E_NOMEM, which the tests accept on those files.
  if(_zig_qemu AND ZIG_TARGET MATCHES "-gnu")
    set(CMAKE_CROSSCOMPILING_EMULATOR "${_zig_qemu};-R;64G;-L;/usr/aarch64-linux-gnu")
  elseif(_zig_qemu)
    set(CMAKE_CROSSCOMPILING_EMULATOR "${_zig_qemu};-R;64G")
  endif()
  unset(_zig_qemu CACHE)
endif()

# Windows executables (the tests) run under Wine (test/run-wine.sh sets WINEPREFIX and starts a
# persistent wineserver); their children are started by CreateProcessW inside Wine.
if(_zig_os STREQUAL "windows" AND NOT DEFINED CMAKE_CROSSCOMPILING_EMULATOR)
  find_program(_zig_wine wine NO_CMAKE_FIND_ROOT_PATH)
  if(_zig_wine)
    set(CMAKE_CROSSCOMPILING_EMULATOR "${_zig_wine}")
  endif()
  unset(_zig_wine CACHE)
endif()
