#!/bin/sh
# Integration suite: a real httpd with the built module against the
# Kubernetes API stand-in. make passes top_srcdir and top_builddir; both
# default to the repository root. Extra arguments go to pytest (options such
# as -k EXPR or -x, or test files/node ids instead of the whole directory).
here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$(cd "$here/../.." && pwd)}"
: "${top_builddir:=$top_srcdir/build}"
top_srcdir=$(cd "$top_srcdir" && pwd)
top_builddir=$(cd "$top_builddir" && pwd)
export top_srcdir top_builddir
cd "$top_srcdir" || exit 1
paths=tests/integration
for a in "$@"; do
    case "$a" in
        -*) ;;
        *) if [ -e "${a%%::*}" ]; then paths=; fi ;;
    esac
done
PYTHONDONTWRITEBYTECODE=1
export PYTHONDONTWRITEBYTECODE
exec /usr/bin/python3 -m pytest -v -p no:cacheprovider "$@" $paths
