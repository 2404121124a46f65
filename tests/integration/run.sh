#!/bin/sh
# Integration suite: a real httpd with the built module against the
# Kubernetes API stand-in. make passes top_srcdir and top_builddir.
here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$(cd "$here/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir
cd "$top_srcdir" || exit 1
PYTHONDONTWRITEBYTECODE=1 exec /usr/bin/python3 -m pytest -v -p no:cacheprovider "$@" tests/integration
