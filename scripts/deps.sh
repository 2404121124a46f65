#!/bin/sh
# Installs what building and testing mod_auth_k8ssa needs, from Debian's
# packages only. Does nothing when everything is already there.
set -eu

PKGS="build-essential autoconf automake libtool pkg-config
apache2 apache2-dev libcurl4-openssl-dev libjson-c-dev libssl-dev libyaml-dev libcmocka-dev
clang libclang-rt-14-dev curl openssl python3 python3-pytest python3-requests python3-yaml wrk
memcached redis-server nginx caddy debhelper dpkg-dev libapache2-mod-auth-openidc faketime"

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
        || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "installing:$missing"
# Debian starts apache2 as a service when it is installed; our scripts and tests
# run their own httpd on other ports, so keep the package from starting one.
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod 755 /usr/sbin/policy-rc.d
    trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
