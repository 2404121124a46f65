"""Every path a request takes inside httpd, attacked with spoofed identity
headers: sub-requests (mod_include, a mod_rewrite look-ahead, mod_dir's
index), internal redirects (a per-directory rewrite, a local ErrorDocument,
an ErrorDocument into a `Require all granted` location), each without and
with a valid token, with AuthK8sResponseHeaders Off and On.

What must hold on each (INTERFACE.md, "Identity headers are the module's
alone"): no byte a client sent under an identity name reaches a backend (as a
header, a CGI variable, a look-ahead's value) or a response; where the module
authenticated the request, the backend sees the module's identity, also after
an internal redirect under the same configuration; no child crashes."""

import json
import os
import re
import shutil

import pytest

import helpers
from helpers import (CGI_SCRIPT, MODDIR, bearer, header_values, location, raw_request,
                     write_file)

SPOOF_USER = "spoofed-user"
SPOOF_GROUP = "spoofed-group"
# Case and '_' variants of the default names; CGI drops names with '_', a
# proxied backend (and many frameworks) does not.
SPOOFS = [
    ("X-Remote-User", SPOOF_USER),
    ("x_remote_group", SPOOF_GROUP),
    ("X-REMOTE-GROUP", SPOOF_GROUP),
    ("X-Remote-Extra-Scopes", SPOOF_GROUP),
    ("x_remote_extra_authentication.kubernetes.io%2Fpod-name", SPOOF_GROUP),
]
SPOOF_MARKERS = (SPOOF_USER, SPOOF_GROUP)
IPS = """<RequireAny>
    Require ip 127.0.0.1
    Require valid-user
</RequireAny>"""

SSI_IP = '<!--#include virtual="/ipcgi/env.cgi" -->'
SSI_TOKEN = '<!--#include virtual="/tokcgi/env.cgi" -->'


def server_conf(harness, docroot, response_headers):
    """Modules and a document root with the files each path needs; the
    locations are in conf()."""
    e = harness.echo.url
    d = docroot
    lines = [
        "LoadModule include_module %s/mod_include.so" % MODDIR,
        "LoadModule rewrite_module %s/mod_rewrite.so" % MODDIR,
        "LoadModule dir_module %s/mod_dir.so" % MODDIR,
        "LoadModule mime_module %s/mod_mime.so" % MODDIR,
        "TypesConfig /dev/null",
        'DocumentRoot "%s"' % d,
        '<Directory "%s">' % d,
        "    Options +Includes +ExecCGI",
        "    AllowOverride None",
        "    Require all granted",
        "</Directory>",
        "AddType text/html .shtml",
        "AddOutputFilter INCLUDES .shtml",
        "AddHandler cgi-script .cgi",
        "DirectoryIndex index.cgi",
        'ScriptAlias /ipcgi/ "%s/"' % harness.cgidir,
        'ScriptAlias /tokcgi/ "%s/"' % harness.cgidir,
        'ScriptAlias /open/ "%s/"' % harness.cgidir,
        # a look-ahead from server context: what the sub-request sees as
        # X-Remote-User, handed to the backend as X-LA-User
        "RewriteEngine On",
        "RewriteCond %{LA-U:HTTP:X-Remote-User} ^(.*)$",
        "RewriteRule ^/la(ip|tok)/ - [E=LA_USER:%1]",
        location("/ipcgi/", IPS),
        location("/tokcgi/", "Require valid-user"),
        location("/open/", "Require all granted"),
        location("/dirtok/", "Require valid-user"),
        location("/dirip/index.cgi", IPS),
        location("/laip/", IPS + '\nRequestHeader set X-LA-User "%{LA_USER}e"',
                 backend=e + "/laip/"),
        location("/latok/", 'Require valid-user\nRequestHeader set X-LA-User "%{LA_USER}e"',
                 backend=e + "/latok/"),
        location("/proxy/", "Require valid-user", backend=e + "/proxy/"),
        location("/fa/", "Require valid-user\nErrorDocument 404 /open/env.cgi"),
        # per-directory sections: a rewrite and an ErrorDocument under the
        # very configuration of the request they redirect
        '<Directory "%s/rw">' % d,
        "    AuthType KubernetesServiceAccount",
        '    AuthName "%s"' % helpers.REALM,
        "    Require valid-user",
        "    RewriteEngine On",
        "    RewriteBase /rw/",
        "    RewriteRule ^alias$ target.cgi",
        "</Directory>",
        '<Directory "%s/ed">' % d,
        "    AuthType KubernetesServiceAccount",
        '    AuthName "%s"' % helpers.REALM,
        "    Require valid-user",
        "    ErrorDocument 404 /ed/notfound.cgi",
        "</Directory>",
    ]
    if response_headers:
        lines += ["<Location />", "    AuthK8sResponseHeaders On", "</Location>"]
    return "\n".join(lines) + "\n"


def make_docroot(harness):
    d = harness.subdir("docroot")
    for sub in ("pub", "dirtok", "dirip", "rw", "ed", "fa"):
        os.makedirs(os.path.join(d, sub), mode=0o755)
    write_file(os.path.join(d, "pub", "ssi-ip.shtml"), "<pre>%s</pre>\n" % SSI_IP)
    write_file(os.path.join(d, "pub", "ssi-token.shtml"), "<pre>%s</pre>\n" % SSI_TOKEN)
    # a redirect inside a sub-request: prev is the sub-request, main the page
    write_file(os.path.join(d, "pub", "ssi-rewrite.shtml"),
               '<pre><!--#include virtual="/rw/alias" --></pre>\n')
    for cgi in ("dirtok/index.cgi", "dirip/index.cgi", "rw/target.cgi", "ed/notfound.cgi"):
        write_file(os.path.join(d, cgi), CGI_SCRIPT, 0o755)
    return d


@pytest.fixture(scope="module", params=[False, True], ids=["response-headers-off",
                                                           "response-headers-on"])
def srv(request, harness):
    docroot = make_docroot(harness)
    with harness.httpd(server_conf(harness, docroot, request.param), name="paths") as s:
        s.response_headers = request.param
        yield s


def cgi_env(body):
    """The environment a CGI printed (also inside an SSI page), or None."""
    m = re.search(r"\{.*\}", body, re.S)
    return json.loads(m.group(0)) if m else None


def send(srv, path, token, spoof=True):
    headers = list(SPOOFS) if spoof else []
    if token:
        headers.append(("Authorization", "Bearer " + token))
    status, resp_headers, body = raw_request(srv, path, headers)
    return status, resp_headers, body.decode(errors="replace")


def assert_no_spoof(pairs, what):
    leaked = [(k, v) for k, v in pairs if any(m in v for m in SPOOF_MARKERS)]
    assert not leaked, "%s: client-sent identity reached it: %r" % (what, leaked)


def assert_clean_response(srv, resp_headers, status, user):
    """No spoof on the answer; identity headers on it only for a 2xx answer
    of a request the module authenticated, with AuthK8sResponseHeaders On."""
    assert_no_spoof(resp_headers, "the response")
    got = header_values(resp_headers, "X-Remote-User")
    if srv.response_headers and user is not None and 200 <= status < 300:
        assert got == [user]
    else:
        assert got == []


def env_user(env):
    """The identity a CGI got: (REMOTE_USER, HTTP_X_REMOTE_USER, K8S_USER)."""
    return env.get("REMOTE_USER"), env.get("HTTP_X_REMOTE_USER"), env.get("K8S_USER")


# path, how its backend answers, whether a token is needed, whether the module
# authenticates the request the backend runs for
PATHS = {
    # sub-requests
    "ssi-into-ip-granted": ("/pub/ssi-ip.shtml", "cgi", False, False),
    "ssi-into-token": ("/pub/ssi-token.shtml", "cgi", False, True),
    "ssi-into-perdir-rewrite": ("/pub/ssi-rewrite.shtml", "cgi", False, True),
    "lookahead-ip-granted": ("/laip/x", "echo", False, False),
    "lookahead-token": ("/latok/x", "echo", True, True),
    "dir-index-protected": ("/dirtok/", "cgi", True, True),
    "dir-index-ip-granted": ("/dirip/", "cgi", False, False),
    # internal redirects
    "perdir-rewrite": ("/rw/alias", "cgi", True, True),
    "local-errordocument": ("/ed/missing", "cgi", True, True),
    "errordocument-into-granted": ("/fa/missing", "cgi", True, False),
    # the plain paths, for comparison
    "granted-location": ("/open/env.cgi", "cgi", False, False),
    "proxy": ("/proxy/x", "echo", True, True),
}


@pytest.mark.parametrize("with_token", [False, True], ids=["no-token", "valid-token"])
@pytest.mark.parametrize("name", sorted(PATHS))
def test_request_path(srv, api, name, with_token):
    path, kind, needs_token, authenticates = PATHS[name]
    tok = api.sa_token("team-a", "paths") if with_token else None
    user = "system:serviceaccount:team-a:paths" if with_token and authenticates else None
    mark = srv.log_mark()
    status, resp_headers, body = send(srv, path, tok)
    assert_no_spoof([("body", body)], name)
    # the page of an SSI include is not what the module authenticated
    assert_clean_response(srv, resp_headers, status, None if name.startswith("ssi") else user)
    assert not [l for l in srv.new_log_lines(mark) if "exit signal" in l], \
        "a child crashed:\n" + "\n".join(srv.new_log_lines(mark))

    if needs_token and not with_token:
        assert status == 401, (status, body[:300])
        return
    expect_status = 404 if "errordocument" in name else 200
    assert status == expect_status, (status, body[:500])

    if kind == "echo":
        hs = json.loads(body)["headers"]
        assert_no_spoof(hs, name)
        assert header_values(hs, "X-Remote-User") == ([user] if user else [])
        if name.startswith("lookahead"):
            # What the look-ahead saw under X-Remote-User: never the client's.
            # Nor the module's: in server context the look-ahead of the same
            # URI gets the main request's walk cache, so httpd takes it for
            # that very configuration and skips its authentication.
            assert header_values(hs, "X-LA-User") == [""]
        return

    env = cgi_env(body)
    if name in ("ssi-into-token", "ssi-into-perdir-rewrite") and not with_token:
        assert env is None and "an error occurred" in body   # the sub-request was 401
        return
    assert env is not None, body[:500]
    assert_no_spoof(env.items(), name)
    if user:
        assert env_user(env) == (user, user, user)
        assert env["K8S_NAMESPACE"] == "team-a"
        # (a CGI variable holds one of several fields of a name)
        assert env["HTTP_X_REMOTE_GROUP"] in ("system:serviceaccounts",
                                              "system:serviceaccounts:team-a",
                                              "system:authenticated")
    else:
        assert env_user(env) == (None, None, None)
        assert not [k for k in env if k.startswith(("K8S_", "HTTP_X_REMOTE_"))], env


def test_spoof_removal_is_logged_once_per_client_request(srv, api):
    """The client's headers are logged as removed on the request the client
    sent; the module's own ones on a redirect are not 'client-sent'."""
    mark = srv.log_mark()
    status, _, _ = send(srv, "/rw/alias", api.sa_token("team-a", "log"))
    assert status == 200
    removed = [l for l in srv.new_log_lines(mark) if "K8SSA010" in l]
    assert len(removed) == len(SPOOFS), removed


# --------------------------------------------------------------------------
# The client's Connection header cannot name an identity header


@pytest.mark.parametrize("connection", [
    "keep-alive X-Remote-User, X-Remote-Group",
    "keep-alive;X-Remote-Group;x_remote_user",
    "close\tX-Remote-User X-REMOTE-GROUP",
    "X-Remote-Extra-authentication.kubernetes.io%2Fpod-name;keep-alive X-Remote-Group "
    "X-Remote-User",
], ids=["space", "semicolon", "tab", "mixed"])
def test_connection_tokens_cannot_drop_identity_headers(srv, api, connection):
    """mod_proxy reads the options of a Connection header with ap_get_token,
    which also splits at white space and ';'."""
    tok = api.sa_token("team-a", "conn")
    u = api.user_of(tok)
    status, _, body = raw_request(srv, "/proxy/x", [("Authorization", "Bearer " + tok),
                                                    ("Connection", connection)])
    assert status == 200, body[:300]
    hs = json.loads(body)["headers"]
    assert header_values(hs, "X-Remote-User") == [u["username"]]
    assert header_values(hs, "X-Remote-Group") == u["groups"]
    assert header_values(hs, "X-Remote-Extra-authentication.kubernetes.io%2Fpod-name") == \
        u["extra"]["authentication.kubernetes.io/pod-name"]


def test_connection_cannot_drop_identity_headers(srv, api):
    tok = api.sa_token("team-a", "conn")
    u = api.user_of(tok)
    status, _, body = raw_request(srv, "/proxy/x", [
        ("Authorization", "Bearer " + tok),
        ("Connection", "keep-alive, X-Remote-Group, X-Remote-Extra-"
                       "authentication.kubernetes.io%2Fpod-name, x_remote_user"),
        ("Connection", "X-REMOTE-EXTRA-authentication.kubernetes.io%2Fpod-uid, Upgrade")])
    assert status == 200, body[:300]
    hs = json.loads(body)["headers"]
    assert header_values(hs, "X-Remote-User") == [u["username"]]
    assert header_values(hs, "X-Remote-Group") == u["groups"]
    assert header_values(hs, "X-Remote-Extra-authentication.kubernetes.io%2Fpod-name") == \
        u["extra"]["authentication.kubernetes.io/pod-name"]
    assert header_values(hs, "X-Remote-Extra-authentication.kubernetes.io%2Fpod-uid") == \
        u["extra"]["authentication.kubernetes.io/pod-uid"]


# --------------------------------------------------------------------------
# Groups the backend could misread


@pytest.fixture(scope="module")
def groups_srv(harness):
    e = harness.echo.url
    conf = "".join([
        location("/multi/", "Require valid-user", backend=e + "/multi/"),
        location("/sep/", 'Require valid-user\nAuthK8sGroupsSeparator ","',
                 backend=e + "/sep/"),
        location("/cgi/", "Require valid-user"),
    ])
    with harness.httpd(conf, name="groups") as s:
        yield s


def test_group_holding_the_separator_is_500(groups_srv, api):
    tok = api.user_token("ldap-user", groups=["devs", "cn=admins,ou=groups"])
    mark = groups_srv.log_mark()
    status, _, _ = raw_request(groups_srv, "/sep/", [("Authorization", "Bearer " + tok)])
    assert status == 500
    log = "\n".join(groups_srv.new_log_lines(mark))
    assert "K8SSA015" in log and "AuthK8sGroupsSeparator" in log, log
    # one field per group is unambiguous
    status, _, body = raw_request(groups_srv, "/multi/", [("Authorization", "Bearer " + tok)])
    assert status == 200
    assert header_values(json.loads(body)["headers"], "X-Remote-Group") == \
        ["devs", "cn=admins,ou=groups"]


def test_k8s_groups_variable_is_percent_encoded(groups_srv, api):
    tok = api.user_token("ldap-user", groups=["cn=admins,ou=groups", "100%"])
    status, _, body = raw_request(groups_srv, "/cgi/env.cgi", [("Authorization", "Bearer " + tok)])
    assert status == 200
    assert cgi_env(body.decode())["K8S_GROUPS"] == "cn=admins%2Cou=groups,100%25"


@pytest.mark.parametrize("field,value", [
    ("groups", [" system:masters"]),
    ("groups", ["system:masters\u00a0"]),
    ("groups", [""]),
    ("username", " admin"),
    ("uid", "u-1 "),
    ("extra", {" scopes": ["a"]}),
    ("extra", {"scopes": ["\u3000admin"]}),
    ("extra", {"scopes": [""]}),
])
def test_padded_or_empty_identity_values_are_503(groups_srv, api, field, value):
    """A backend that trims " system:masters" would see system:masters."""
    tok = api.user_token("alice", groups=["devs"])
    with api.lock:
        api.tokens[tok]["user"][field] = value
    status, _, _ = raw_request(groups_srv, "/multi/", [("Authorization", "Bearer " + tok)])
    assert status == 503


# --------------------------------------------------------------------------
# Require not k8s-... with a user another module authenticated


def test_require_not_with_another_authtype_is_500(harness, start_httpd):
    import base64
    import hashlib
    pw = harness.file("basic.htpasswd", "bob:{SHA}%s\n" % base64.b64encode(
        hashlib.sha1(b"secret").digest()).decode())
    conf = "\n".join([
        "LoadModule auth_basic_module %s/mod_auth_basic.so" % MODDIR,
        "LoadModule authn_file_module %s/mod_authn_file.so" % MODDIR,
        "<Location /basic/>",
        "    AuthType Basic",
        '    AuthName "basic"',
        '    AuthUserFile "%s"' % pw,
        "    <RequireAll>",
        "        Require valid-user",
        "        Require not k8s-group system:masters",
        "    </RequireAll>",
        "    ProxyPass %s/basic/" % harness.echo.url,
        "</Location>",
        "<Location /basic-user/>",
        "    AuthType Basic",
        '    AuthName "basic"',
        '    AuthUserFile "%s"' % pw,
        "    <RequireAll>",
        "        Require valid-user",
        "        Require not k8s-user admin",
        "    </RequireAll>",
        "    ProxyPass %s/basic-user/" % harness.echo.url,
        "</Location>",
    ]) + "\n"
    s = start_httpd(conf)
    auth = "Basic " + base64.b64encode(b"bob:secret").decode()
    for path in ("/basic/", "/basic-user/"):
        mark = s.log_mark()
        status, _, _ = raw_request(s, path, [("Authorization", auth)])
        assert status == 500, path
        assert any("K8SSA040" in l for l in s.new_log_lines(mark))
    assert harness.echo.count == 0


# --------------------------------------------------------------------------
# Require expr on the K8S_* variables


def test_require_expr_on_k8s_variables_alone_fails_startup(apache_configtest):
    rc, out = apache_configtest(location("/x/", """<RequireAll>
    Require expr "%{env:K8S_NAMESPACE} != 'kube-system'"
</RequireAll>"""))
    assert rc != 0
    assert "K8SSA016" in out and "K8S_NAMESPACE" in out and "%{REMOTE_USER}" in out, out
    rc, out = apache_configtest(location("/x/", """<RequireAll>
    Require valid-user
    Require not expr "%{env:K8S_USER} == 'x'"
</RequireAll>"""))
    assert rc != 0 and "K8S_USER" in out, out


def test_require_expr_documented_form(harness, start_httpd, api):
    """The README's form: -n %{REMOTE_USER} makes httpd authenticate first."""
    s = start_httpd(location(
        "/x/", "Require expr \"-n %{REMOTE_USER} && %{env:K8S_NAMESPACE} != 'kube-system'\"",
        backend=harness.echo.url + "/x/"))
    assert raw_request(s, "/x/", [])[0] == 401
    assert raw_request(s, "/x/", bearer_pairs(api.sa_token("kube-system", "a")))[0] in (401, 403)
    assert raw_request(s, "/x/", bearer_pairs(api.sa_token("team-a", "a")))[0] == 200


def bearer_pairs(tok):
    return list(bearer(tok).items())


# --------------------------------------------------------------------------
# Credentials never reach the backend, authenticated or not


def test_credentials_removed_where_authorization_needs_no_token(harness, start_httpd, api):
    """Require ip grants without authentication, with a token in the request:
    AuthK8sForwardToken Off still removes it, and a WebSocket bearer entry is
    always removed."""
    e = harness.echo.url
    s = start_httpd("".join([
        location("/ip-noforward/", IPS + "\nAuthK8sForwardToken Off",
                 backend=e + "/ip-noforward/"),
        location("/ip/", IPS, backend=e + "/ip/"),
    ]))
    tok = api.sa_token("team-a", "cred")
    entry = "base64url.bearer.authorization.k8s.io." + \
        __import__("base64").urlsafe_b64encode(tok.encode()).decode().rstrip("=")
    status, _, body = raw_request(s, "/ip-noforward/", [("Authorization", "Bearer " + tok)])
    assert status == 200
    hs = json.loads(body)["headers"]
    assert header_values(hs, "Authorization") == []
    status, _, body = raw_request(s, "/ip/", [("Sec-WebSocket-Protocol", "chat, " + entry)])
    assert status == 200
    hs = json.loads(body)["headers"]
    assert header_values(hs, "Sec-WebSocket-Protocol") == ["chat"]
    assert tok not in body.decode()
    assert api.reviews == 0


# --------------------------------------------------------------------------
# Extra keys cannot write the user or groups header


def test_extra_key_colliding_with_the_user_header_is_500(harness, start_httpd, api):
    s = start_httpd(location("/overlap/", "Require valid-user\n"
                             "AuthK8sExtraHeaderPrefix X-Remote-",
                             backend=harness.echo.url + "/overlap/"))
    tok = api.user_token("alice", groups=["devs"], extra={"user": ["admin"]})
    mark = s.log_mark()
    status, _, _ = raw_request(s, "/overlap/", [("Authorization", "Bearer " + tok)])
    assert status == 500
    assert any("K8SSA017" in l for l in s.new_log_lines(mark))
    tok = api.user_token("bob", extra={"scopes": ["a"]})
    status, _, body = raw_request(s, "/overlap/", [("Authorization", "Bearer " + tok)])
    assert status == 200
    hs = json.loads(body)["headers"]
    assert header_values(hs, "X-Remote-User") == ["bob"]
    assert header_values(hs, "X-Remote-scopes") == ["a"]
    assert harness.echo.count == 1


# --------------------------------------------------------------------------
# Forward-auth: the response headers are the module's alone


def test_response_identity_headers_come_only_from_the_module(harness, start_httpd, api):
    """With AuthK8sResponseHeaders On a gateway trusts the answer's identity
    headers: what a backend sets under those names never gets there."""
    backend_cgi = harness.file("sets-identity.cgi", "#!/bin/sh\n"
                               "printf 'Content-Type: text/plain\\r\\n"
                               "X-Remote-User: backend-admin\\r\\n"
                               "X-Remote-Group: system:masters\\r\\n\\r\\nok'\n", 0o755)
    os.chmod(backend_cgi, 0o755)
    s = start_httpd("".join([
        'ScriptAlias /fa-cgi/ "%s/"\n' % os.path.dirname(backend_cgi),
        location("/fa-cgi/", IPS + "\nAuthK8sResponseHeaders On"),
    ]))
    # granted by ip, no identity: none of the backend's either
    status, hs, _ = raw_request(s, "/fa-cgi/sets-identity.cgi", [])
    assert status == 200
    assert header_values(hs, "X-Remote-User") == [] and header_values(hs, "X-Remote-Group") == []


# --------------------------------------------------------------------------
# K8S_* in expressions before authentication: refused at startup where the
# configuration shows it, an error at run time otherwise, never ""


@pytest.mark.parametrize("require", [
    "Require expr \"%{REMOTE_USER} != 'x' && %{env:K8S_NAMESPACE} != 'kube-system'\"",
    "Require expr \"%{env:k8s_namespace} != 'kube-system'\"",
    "Require expr \"%{env:K8S_NAMESPACE} == 'team-a' && -n %{REMOTE_USER}\"",
    "Require expr \"reqenv('K8S_Namespace') == 'team-a'\"",
    # unquoted: mod_authz_core takes the whole rest of the line
    "Require expr %{REQUEST_METHOD} != 'X' && %{env:K8S_NAMESPACE} != 'kube-system'",
], ids=["true-without-user", "lower-case", "user-checked-last", "reqenv", "unquoted"])
def test_unguarded_k8s_expressions_fail_startup(apache_configtest, require):
    rc, out = apache_configtest(location("/x/", require))
    assert rc != 0
    assert "K8SSA016" in out and "-n %{REMOTE_USER} &&" in out, out


def test_guarded_k8s_expressions_start(apache_configtest):
    rc, out = apache_configtest(location("/x/", """<RequireAny>
    Require expr "-n %{REMOTE_USER} && %{env:K8S_NAMESPACE} != 'kube-system'"
    Require expr "( -n %{REMOTE_USER}  &&(%{env:K8S_USER} =~ /^system:/))"
    Require expr "(-n %{REMOTE_USER}) && %{env:K8S_UID} != ''"
    Require expr -n %{REMOTE_USER} && %{env:K8S_GROUPS} =~ /admins/
</RequireAny>"""))
    assert rc == 0, out


def test_k8s_variables_before_authentication_are_an_error(harness, start_httpd, api):
    """What the startup check cannot see: a name computed at run time, and
    .htaccess files. Without a user the read is an error (500), never ""."""
    docroot = harness.subdir("htdocs")
    os.makedirs(os.path.join(docroot, "ht"))
    write_file(os.path.join(docroot, "ht", "index.html"), "hello\n")
    write_file(os.path.join(docroot, "ht", ".htaccess"),
               "AuthType KubernetesServiceAccount\nAuthName \"%s\"\n"
               "Require expr \"%%{REMOTE_USER} != 'x' && %%{env:K8S_NAMESPACE} != "
               "'kube-system'\"\n" % helpers.REALM)
    s = start_httpd("\n".join([
        'DocumentRoot "%s"' % docroot,
        '<Directory "%s">' % docroot,
        "    AllowOverride AuthConfig",
        "    Require all granted",
        "</Directory>",
        location("/computed/", "Require expr \"env('K8S_' . 'NAMESPACE') != 'kube-system'\"",
                 backend=harness.echo.url + "/computed/"),
    ]))
    for path in ("/computed/", "/ht/"):
        mark = s.log_mark()
        assert raw_request(s, path, [])[0] == 500, path
        assert raw_request(s, path, bearer_pairs(api.sa_token("team-a", "a")))[0] == 500
        assert any("before authentication" in l and "K8S_NAMESPACE" in l
                   for l in s.new_log_lines(mark)), "\n".join(s.new_log_lines(mark))
    assert harness.echo.count == 0


def test_another_modules_user_does_not_unlock_k8s_variables(harness, start_httpd, api):
    """SSLUserName sets r->user from a client certificate before the pass
    without authentication: "-n %{REMOTE_USER}" is then true, but K8S_* are
    still unset. Reading them is an error (500), not a grant without token."""
    import ssl
    import http.client
    port2 = helpers.free_port()
    pki = harness.pki
    s = start_httpd("\n".join([
        "LoadModule ssl_module %s/mod_ssl.so" % MODDIR,
        "Listen 127.0.0.1:%d" % port2,
        "<VirtualHost 127.0.0.1:%d>" % port2,
        "    SSLEngine on",
        '    SSLCertificateFile "%s"' % pki.server_cert,
        '    SSLCertificateKeyFile "%s"' % pki.server_key,
        '    SSLCACertificateFile "%s"' % pki.ca_cert,
        "    SSLVerifyClient optional",
        "    SSLUserName SSL_CLIENT_S_DN_CN",
        location("/team/", "Require expr \"-n %{REMOTE_USER} && "
                           "%{env:K8S_NAMESPACE} != 'kube-system'\"",
                 backend=harness.echo.url + "/team/"),
        "</VirtualHost>",
    ]))
    ctx = ssl.create_default_context(cafile=pki.ca_cert)
    ctx.load_cert_chain(pki.client_cert, pki.client_key)
    c = http.client.HTTPSConnection("127.0.0.1", port2, context=ctx, timeout=30)
    try:
        c.request("GET", "/team/")
        r = c.getresponse()
        r.read()
        assert r.status == 500
    finally:
        c.close()
    assert harness.echo.count == 0
    assert any("before authentication" in l for l in s.error_log().splitlines())


def test_k8s_variables_never_come_from_the_process_environment(harness, start_httpd, api):
    """A pod may have K8S_NAMESPACE in its environment: in a location with
    this AuthType only the module sets it; elsewhere env() is httpd's."""
    e = harness.echo.url
    s = start_httpd("".join([
        location("/ns/", "Require expr \"-n %{REMOTE_USER} && "
                         "%{env:K8S_NAMESPACE} == 'podns'\"", backend=e + "/ns/"),
        "<Location /plain/>\n    RequestHeader set X-NS \"expr=%{env:K8S_NAMESPACE}\"\n"
        "    ProxyPass " + e + "/plain/\n</Location>\n",
    ]), env={"K8S_NAMESPACE": "podns"})
    # alice is no service account: the module sets no K8S_NAMESPACE
    assert raw_request(s, "/ns/", bearer_pairs(api.user_token("alice")))[0] in (401, 403)
    assert raw_request(s, "/ns/", bearer_pairs(api.sa_token("podns", "a")))[0] == 200
    status, _, body = raw_request(s, "/plain/", [])
    assert status == 200
    assert header_values(json.loads(body)["headers"], "X-NS") == ["podns"]


def test_k8s_variables_outside_require_read_as_before(harness, start_httpd, api):
    """Logs and headers that read K8S_* on anonymous requests: "" as in httpd,
    no error, no lost log line."""
    logpath = os.path.join(harness.workdir, "cond-%d.log" % os.getpid())
    s = start_httpd("\n".join([
        'CustomLog "%s" "%%h %%>s" "expr=%%{env:K8S_NAMESPACE} != \'monitoring\'"' % logpath,
        location("/x/", 'Require valid-user\nHeader always set X-K8s-User '
                        '"expr=%{env:K8S_USER}"', backend=harness.echo.url + "/x/"),
    ]))
    mark = s.log_mark()
    assert raw_request(s, "/x/", [])[0] == 401
    status, hs, _ = raw_request(s, "/x/", bearer_pairs(api.sa_token("team-a", "log")))
    assert status == 200
    assert header_values(hs, "X-K8s-User") == ["system:serviceaccount:team-a:log"]
    s.stop()
    with open(logpath) as f:
        assert [l.split()[1] for l in f.read().splitlines()] == ["401", "200"]
    assert not [l for l in s.new_log_lines(mark) if ":error]" in l]


# --------------------------------------------------------------------------
# Local redirects carry err_headers_out: a backend's identity headers never
# reach the answer a gateway trusts


REDIRECTING_CGI = """#!/bin/sh
printf 'Location: %s\\r\\nX-Remote-User: admin\\r\\nX-Remote-Group: system:masters\\r\\n\\r\\n'
"""
FAILING_CGI = """#!/bin/sh
printf 'Status: 500 Broken\\r\\nX-Remote-User: admin\\r\\nX-Remote-Group: system:masters\\r\\n\\r\\n'
"""


def test_backend_identity_headers_through_local_redirects(harness, start_httpd, api):
    d = harness.subdir("redirecting")
    for name, target in (("to-plain.cgi", "/plainpage/page.txt"),
                         ("to-renamed.cgi", "/renamed/page.txt")):
        write_file(os.path.join(d, name), REDIRECTING_CGI % target, 0o755)
    write_file(os.path.join(d, "fails.cgi"), FAILING_CGI, 0o755)
    pages = harness.subdir("pages")
    write_file(os.path.join(pages, "page.txt"), "page\n")
    s = start_httpd("\n".join([
        'ScriptAlias /cg/ "%s/"' % d,
        'Alias /plainpage/ "%s/"' % pages,
        'Alias /renamed/ "%s/"' % pages,
        '<Directory "%s">\n    Require all granted\n</Directory>' % pages,
        location("/cg/", "Require valid-user\nAuthK8sResponseHeaders On"),
        location("/renamed/", "Require valid-user\nAuthK8sResponseHeaders On\n"
                              "AuthK8sUserHeader X-User"),
    ]))
    tok = api.sa_token("team-a", "fa")
    user = "system:serviceaccount:team-a:fa"
    status, hs, _ = raw_request(s, "/cg/to-plain.cgi", bearer_pairs(tok))
    assert status == 200
    assert header_values(hs, "X-Remote-User") == [] and header_values(hs, "X-Remote-Group") == []
    status, hs, _ = raw_request(s, "/cg/to-renamed.cgi", bearer_pairs(tok))
    assert status == 200
    # /renamed/ writes the user as X-User, the groups under the default name
    assert header_values(hs, "X-Remote-User") == []
    assert header_values(hs, "X-User") == [user]
    assert header_values(hs, "X-Remote-Group") == api.user_of(tok)["groups"]
    status, hs, _ = raw_request(s, "/cg/fails.cgi", bearer_pairs(tok))
    assert status == 500
    assert header_values(hs, "X-Remote-User") == [] and header_values(hs, "X-Remote-Group") == []


# --------------------------------------------------------------------------
# A token removed under AuthK8sForwardToken Off still serves a later redirect


def test_removed_token_serves_a_later_redirect(harness, start_httpd, api):
    docroot = harness.subdir("fwdroot")
    for sub in ("pub2", "api"):
        os.makedirs(os.path.join(docroot, sub))
    write_file(os.path.join(docroot, "api", "env.cgi"), CGI_SCRIPT, 0o755)
    s = start_httpd("\n".join([
        "LoadModule rewrite_module %s/mod_rewrite.so" % MODDIR,
        "LoadModule mime_module %s/mod_mime.so" % MODDIR,
        "TypesConfig /dev/null",
        "AddHandler cgi-script .cgi",
        'DocumentRoot "%s"' % docroot,
        '<Directory "%s/pub2">' % docroot,
        "    AuthType KubernetesServiceAccount",
        '    AuthName "%s"' % helpers.REALM,
        "    AuthK8sForwardToken Off",
        "    Require all granted",
        "    RewriteEngine On",
        "    RewriteRule ^old$ /api/env.cgi",
        "</Directory>",
        '<Directory "%s/api">' % docroot,
        "    Options +ExecCGI",
        "    AuthType KubernetesServiceAccount",
        '    AuthName "%s"' % helpers.REALM,
        "    AuthK8sForwardToken Off",
        "    Require valid-user",
        "</Directory>",
    ]))
    tok = api.sa_token("team-a", "fwd")
    status, _, body = raw_request(s, "/pub2/old", bearer_pairs(tok))
    assert status == 200, body[:300]
    env = cgi_env(body.decode())
    assert env["K8S_USER"] == "system:serviceaccount:team-a:fwd"
    assert "HTTP_AUTHORIZATION" not in env and tok not in body.decode()
