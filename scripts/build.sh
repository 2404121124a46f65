#!/bin/sh
# Builds mod_auth_k8ssa out of tree in build/ (configured once; extra
# arguments go to configure). The module is build/.libs/mod_auth_k8ssa.so.
set -eu
top="$(cd "$(dirname "$0")/.." && pwd)"
cd "$top"
[ -x configure ] || ./autogen.sh >/dev/null 2>&1
mkdir -p build
cd build
[ -f Makefile ] || ../configure --enable-werror "$@" >/dev/null
make -j"$(nproc)" >/dev/null
echo "built $top/build/.libs/mod_auth_k8ssa.so"
