#!/bin/sh
# Runs mod_auth_k8ssa for real: installs what is missing (Debian packages),
# builds the module, starts the bundled Kubernetes API stand-in and httpd on
# 127.0.0.1:8080 with the module in front of a small backend, and prints a
# curl that gets 200 and one that gets 401. Ctrl-C stops everything.
set -eu
top="$(cd "$(dirname "$0")/.." && pwd)"
port="${K8SSA_DEMO_PORT:-8080}"
api_port="${K8SSA_DEMO_API_PORT:-6443}"

"$top/scripts/deps.sh"
"$top/scripts/build.sh"

# httpd's children run as www-data when started as root: everything they read
# (certificates, token, the CGI) lives in a run directory they can read.
run="$(mktemp -d /tmp/k8ssa-demo.XXXXXX)"
chmod 755 "$run"
cleanup() {
    [ -f "$run/httpd.pid" ] && kill "$(cat "$run/httpd.pid")" 2>/dev/null || true
    [ -n "${api_pid:-}" ] && kill "$api_pid" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$run"
}
trap cleanup EXIT INT TERM

/usr/bin/python3 "$top/tests/kubeapi/standin.py" --listen "127.0.0.1:$api_port" \
    --pki-dir "$run/pki" --module-token-file "$run/module.token" \
    --demo-token-file "$run/demo.token" >"$run/api.log" 2>&1 &
api_pid=$!
for _ in $(seq 50); do
    [ -s "$run/demo.token" ] && grep -q "stand-in on" "$run/api.log" && break
    sleep 0.2
done
grep -q "stand-in on" "$run/api.log" || { cat "$run/api.log"; exit 1; }
mkdir -p "$run/cgi"
cp "$top/scripts/demo/whoami.cgi" "$run/cgi/"
chmod -R a+rX "$run"

user_lines=""
[ "$(id -u)" -eq 0 ] && user_lines="User www-data
Group www-data"
mods=/usr/lib/apache2/modules
cat >"$run/httpd.conf" <<CONF
ServerRoot "$run"
ServerName localhost
Listen 127.0.0.1:$port
PidFile "$run/httpd.pid"
DefaultRuntimeDir "$run"
ErrorLog "$run/error.log"
LogLevel warn auth_k8ssa:info
$user_lines
LoadModule mpm_event_module $mods/mod_mpm_event.so
LoadModule authn_core_module $mods/mod_authn_core.so
LoadModule authz_core_module $mods/mod_authz_core.so
LoadModule authz_user_module $mods/mod_authz_user.so
LoadModule alias_module $mods/mod_alias.so
LoadModule cgid_module $mods/mod_cgid.so
LoadModule socache_shmcb_module $mods/mod_socache_shmcb.so
ScriptSock "$run/cgid.sock"
LoadModule auth_k8ssa_module $top/build/.libs/mod_auth_k8ssa.so

AuthK8sAPIServer https://127.0.0.1:$api_port
AuthK8sCAFile "$run/pki/ca.crt"
AuthK8sTokenFile "$run/module.token"

ScriptAlias / "$run/cgi/whoami.cgi/"
<Location />
    AuthType KubernetesServiceAccount
    AuthName "k8ssa-demo"
    # CGI sees one value per header name: join the groups into one field.
    AuthK8sGroupsSeparator ","
    Require valid-user
</Location>
<Directory "$run/cgi">
    Require all granted
</Directory>
CONF
/usr/sbin/apache2 -f "$run/httpd.conf" -DFOREGROUND &
for _ in $(seq 50); do
    curl -s -o /dev/null "http://127.0.0.1:$port/" && break
    sleep 0.2
done

cat <<MSG

mod_auth_k8ssa is running: httpd on http://127.0.0.1:$port, the Kubernetes API
stand-in on https://127.0.0.1:$api_port. Try, from another terminal:

  # 200: a valid service-account token (system:serviceaccount:demo:client)
  curl -i -H "Authorization: Bearer $(cat "$run/demo.token")" http://127.0.0.1:$port/

  # 401: a token the API server does not know
  curl -i -H "Authorization: Bearer not-a-valid-token" http://127.0.0.1:$port/

Logs: $run/error.log. Ctrl-C stops httpd and the stand-in and removes $run.
MSG
wait
