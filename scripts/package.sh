#!/bin/sh
# Builds the Debian package libapache2-mod-auth-k8ssa from a copy of the
# tracked files (dpkg-buildpackage -b -us -uc), then, with --check, installs
# it, enables the module with a2enmod, runs `apache2ctl -t` on the system's
# configuration, and purges it again. The .deb is left in $OUT (default
# ./build-deb). Run by scripts/test.sh.
set -eu
top="$(cd "$(dirname "$0")/.." && pwd)"
out="${OUT:-$top/build-deb}"
check=0
[ "${1:-}" = "--check" ] && check=1

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src" "$out"
cd "$top"
git ls-files -z | xargs -0 cp --parents -t "$work/src"
cd "$work/src"
dpkg-buildpackage -b -us -uc >"$work/build.log" 2>&1 || { tail -40 "$work/build.log"; exit 1; }
cp "$work"/libapache2-mod-auth-k8ssa_*.deb "$out/"
deb="$(ls "$out"/libapache2-mod-auth-k8ssa_*.deb | tail -1)"
echo "built $deb"
[ "$check" -eq 1 ] || exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
# The package's postinst enables the module and would restart a running
# apache2: none is started here (tests never use the system's httpd).
made_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod 755 /usr/sbin/policy-rc.d
    made_policy=1
fi
cleanup() {
    $SUDO dpkg -P libapache2-mod-auth-k8ssa >/dev/null 2>&1 || true
    [ "$made_policy" -eq 0 ] || $SUDO rm -f /usr/sbin/policy-rc.d
    rm -rf "$work"
}
trap cleanup EXIT
$SUDO dpkg -i "$deb"
$SUDO a2enmod auth_k8ssa
test -e /etc/apache2/mods-enabled/auth_k8ssa.load
$SUDO apache2ctl -t
dpkg -L libapache2-mod-auth-k8ssa | grep -q '^/usr/share/doc/libapache2-mod-auth-k8ssa/examples/forward-auth.conf$'
echo "installed, enabled, apache2ctl -t passed: $deb"
