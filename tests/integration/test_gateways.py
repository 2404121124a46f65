"""Gateway integration: the forward-auth endpoint (SetHandler k8ssa-check,
AuthK8sResponseHeaders) on its own, and the shipped examples in
conf/examples/ used for real: httpd configurations through `apache2 -t`
(and kubeflow.conf / forward-auth.conf served), nginx auth_request and Caddy
forward_auth in front of httpd's check endpoint and the echo backend."""

import json
import os
import re
import types

import pytest

from helpers import (MODDIR, REALM, Caddy, Nginx, assert_bearer_challenge, bearer, free_port,
                     header_values, location, raw_request, write_file)

EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "conf",
                        "examples")
HTTPD_EXAMPLES = ("kubeflow.conf", "forward-auth.conf", "forward-auth-rbac.conf",
                  "kube-apiserver-proxy.conf")
OTHER_EXAMPLES = ("nginx-auth-request.conf", "Caddyfile.forward-auth", "istio-ext-authz.yaml")
POD_NAME_H = "X-Remote-Extra-authentication.kubernetes.io%2Fpod-name"
POD_UID_H = "X-Remote-Extra-authentication.kubernetes.io%2Fpod-uid"
KUBEFLOW_AUD = "istio-ingressgateway.istio-system.svc.cluster.local"
FORWARD_REALM = "gateway"       # AuthName in forward-auth.conf


def example(name):
    with open(os.path.join(EXAMPLES, name)) as f:
        return f.read()


def replace_once(text, old, new, times=1):
    """The example must hold old exactly once (or `times` times): an edited
    example that no longer matches what the test adapts fails here, loudly."""
    assert text.count(old) == times, "%r occurs %d times" % (old, text.count(old))
    return text.replace(old, new)


def out_of_cluster(text, harness):
    """What the examples' comments tell an admin outside the cluster:
    uncomment AuthK8sAPIServer/CAFile/TokenFile and set them."""
    text, n = re.subn(r"^#(AuthK8s(?:APIServer|CAFile|TokenFile)\s)", r"\1", text, flags=re.M)
    assert n == 3, text
    text = replace_once(text, "AuthK8sAPIServer https://kubernetes.example.com:6443",
                        "AuthK8sAPIServer " + harness.api.url)
    text = replace_once(text, "/etc/apache2/k8ssa/ca.crt", harness.pki.ca_cert)
    text = replace_once(text, "/etc/apache2/k8ssa/token", harness.token_file)
    return text


def fields(headers, name):
    """Values of the header fields named name (case-insensitive) in a list
    of (name, value) pairs."""
    return [v for k, v in headers if k.lower() == name.lower()]


def identity_fields(headers):
    """Header fields that look like identity headers (x-remote-*, kubeflow-*,
    with _ or -), as (lower-case name, value)."""
    out = []
    for k, v in headers:
        n = k.lower().replace("_", "-")
        if n.startswith("x-remote-") or n.startswith("kubeflow-"):
            out.append((k.lower(), v))
    return sorted(out)


def assert_bearer(headers, error=None, realm=FORWARD_REALM):
    assert_bearer_challenge(fields(headers, "WWW-Authenticate"), error, realm)


# Identity headers a client might send to claim to be someone else.
SPOOF = [
    ("X-Remote-User", "system:admin"),
    ("x-remote-user", "system:admin"),
    ("X-Remote-Group", "system:masters"),
    ("x_remote_user", "system:admin"),
    ("X_Remote_Group", "system:masters"),
    ("X-Remote_User", "system:admin"),
    ("X_Remote-Group", "system:masters"),
    (POD_NAME_H, "spoofed-pod"),
]


# --------------------------------------------------------------------------
# The examples directory


def test_every_example_is_covered():
    """A new file in conf/examples/ needs a test here."""
    assert sorted(os.listdir(EXAMPLES)) == sorted(HTTPD_EXAMPLES + OTHER_EXAMPLES)
    for name in HTTPD_EXAMPLES + OTHER_EXAMPLES:
        first = example(name).splitlines()[0]
        assert first.startswith("#") and len(first) > 20, (name, first)
    assert example("nginx-auth-request.conf").startswith("# nginx configuration")
    assert example("Caddyfile.forward-auth").startswith("# Caddyfile")
    assert example("istio-ext-authz.yaml").startswith("# Istio configuration")


def _ssl_line():
    return "LoadModule ssl_module %s/mod_ssl.so\n" % MODDIR


@pytest.mark.parametrize("name", ["kubeflow.conf", "forward-auth.conf",
                                  "forward-auth-rbac.conf"])
def test_example_configtest_in_cluster(apache_configtest, harness, name):
    """As shipped: inside a cluster nothing else is needed (the API server
    from KUBERNETES_SERVICE_HOST/PORT)."""
    env = {"KUBERNETES_SERVICE_HOST": "127.0.0.1",
           "KUBERNETES_SERVICE_PORT": str(harness.api.port)}
    rc, out = apache_configtest(example(name), server_conf="", env=env)
    assert rc == 0, out
    assert "Syntax OK" in out, out


def test_example_configtest_needs_an_api_server(apache_configtest):
    """apache2 -t is no rubber stamp: as shipped, outside a cluster and with
    no AuthK8sAPIServer, it fails."""
    rc, out = apache_configtest(example("forward-auth.conf"), server_conf="")
    assert rc != 0, out
    assert "AuthK8sAPIServer" in out, out


@pytest.mark.parametrize("name", ["kubeflow.conf", "forward-auth.conf",
                                  "forward-auth-rbac.conf"])
def test_example_configtest_out_of_cluster(apache_configtest, harness, name):
    rc, out = apache_configtest(out_of_cluster(example(name), harness), server_conf="")
    assert rc == 0, out
    assert "Syntax OK" in out, out


def test_forward_auth_example_kubeflow_variant(harness, api):
    """The commented Kubeflow naming in forward-auth.conf, uncommented."""
    text, n = re.subn(r"^(\s*)#(AuthK8s(?:UserHeader kubeflow-userid|GroupsHeader "
                      r"kubeflow-groups|ExtraHeaderPrefix none))$", r"\1\2",
                      out_of_cluster(example("forward-auth.conf"), harness), flags=re.M)
    assert n == 3
    tok = api.sa_token("kubeflow", "pipeline-runner")
    u = api.user_of(tok)
    with harness.httpd(text, server_conf="", name="forward-auth-kf") as s:
        status, hs, body = raw_request(s, "/k8ssa/check", list(bearer(tok).items())
                                       + [("kubeflow-userid", "admin@example.com")])
    assert (status, body) == (200, b"")
    assert identity_fields(hs) == sorted([("kubeflow-userid", u["username"]),
                                          ("kubeflow-groups", ",".join(u["groups"]))])


def kube_apiserver_proxy_conf(harness):
    pem = os.path.join(harness.workdir, "front-proxy-client.pem")
    with open(harness.pki.client_cert) as c, open(harness.pki.client_key) as k:
        write_file(pem, c.read() + k.read())
    text = example("kube-apiserver-proxy.conf")
    text = replace_once(text, "AuthK8sAPIServer https://kubernetes.example:6443",
                        "AuthK8sAPIServer " + harness.api.url)
    text = text.replace("/etc/apache2/k8ssa/apiserver-ca.crt", harness.pki.ca_cert)
    text = replace_once(text, "AuthK8sTokenFile /etc/apache2/k8ssa/token",
                        "AuthK8sTokenFile " + harness.token_file)
    text = replace_once(text, "SSLProxyMachineCertificateFile /etc/apache2/k8ssa/"
                        "front-proxy-client.pem", "SSLProxyMachineCertificateFile " + pem)
    text = text.replace("https://kubernetes.example:6443/", harness.api.url + "/")
    active = [l for l in text.splitlines() if not l.lstrip().startswith("#")]
    assert not [l for l in active if "/etc/apache2/k8ssa" in l or "kubernetes.example" in l]
    return text


@pytest.mark.parametrize("ssl_loaded_by", ["test", "example"])
def test_example_configtest_kube_apiserver_proxy(apache_configtest, harness, ssl_loaded_by):
    """With mod_ssl loaded before it (a2enmod ssl) and without (the
    example's guarded LoadModule lines)."""
    text = kube_apiserver_proxy_conf(harness)
    if ssl_loaded_by == "test":
        text = _ssl_line() + text
    rc, out = apache_configtest(text, server_conf="")
    assert rc == 0, out
    assert "Syntax OK" in out, out


def test_example_kube_apiserver_proxy_directives(harness):
    """What the requestheader authenticator needs is in the file."""
    text = example("kube-apiserver-proxy.conf")
    active = "\n".join(l.strip() for l in text.splitlines() if not l.lstrip().startswith("#"))
    for line in ("AuthType KubernetesServiceAccount", "AuthK8sForwardToken Off",
                 "SSLProxyEngine On", "SSLProxyVerify require",
                 "ProxyPass        https://kubernetes.example:6443/",
                 "AuthK8sUserHeader X-Remote-User", "AuthK8sGroupsHeader X-Remote-Group",
                 "AuthK8sExtraHeaderPrefix X-Remote-Extra-"):
        assert line in active, line
    assert re.search(r"^SSLProxyMachineCertificateFile \S+", active, re.M)
    assert re.search(r"^SSLProxyCACertificateFile \S+", active, re.M)
    for flag in ("--requestheader-client-ca-file", "--requestheader-allowed-names",
                 "--requestheader-username-headers=X-Remote-User",
                 "--requestheader-group-headers=X-Remote-Group",
                 "--requestheader-extra-headers-prefix=X-Remote-Extra-"):
        assert flag in text, flag


def test_example_istio_ext_authz():
    import yaml  # Debian python3-yaml, installed by scripts/deps.sh
    docs = list(yaml.safe_load_all(example("istio-ext-authz.yaml")))
    providers = docs[0]["spec"]["meshConfig"]["extensionProviders"]
    (p,) = providers
    e = p["envoyExtAuthzHttp"]
    assert e["pathPrefix"] == "/k8ssa/check"
    assert e["service"] and isinstance(e["port"], int)
    assert e["includeRequestHeadersInCheck"] == ["authorization", "sec-websocket-protocol"]
    assert e["headersToUpstreamOnAllow"][:2] == ["x-remote-user", "x-remote-group"]
    assert set(e["headersToDownstreamOnDeny"]) == {"www-authenticate", "content-type"}
    pol = docs[1]
    assert pol["kind"] == "AuthorizationPolicy"
    assert pol["spec"]["action"] == "CUSTOM"
    assert pol["spec"]["provider"]["name"] == p["name"]
    assert pol["spec"]["selector"]["matchLabels"] == {"istio": "ingressgateway"}


# --------------------------------------------------------------------------
# kubeflow.conf, served


@pytest.fixture(scope="module")
def kubeflow(harness):
    text = out_of_cluster(example("kubeflow.conf"), harness)
    dash = "http://centraldashboard.kubeflow.svc.cluster.local:80/"
    assert text.count(dash) == 2
    text = text.replace(dash, harness.echo.url + "/dashboard/")
    with harness.httpd(text, server_conf="", name="kubeflow") as s:
        yield s


def test_kubeflow_example_headers(kubeflow, api):
    tok = api.sa_token("kubeflow-user-example-com", "default-editor", audiences=[KUBEFLOW_AUD])
    u = api.user_of(tok)
    status, _, body = raw_request(kubeflow, "/pipelines/", list(bearer(tok).items()) + [
        ("kubeflow-userid", "admin@example.com"), ("Kubeflow-UserID", "admin@example.com"),
        ("kubeflow_userid", "admin@example.com"), ("kubeflow-groups", "admins"),
        ("kubeflow_groups", "admins")])
    assert status == 200, body
    got = json.loads(body)
    hs = got["headers"]
    assert got["path"] == "/dashboard/pipelines/"
    assert identity_fields(hs) == sorted([("kubeflow-userid", u["username"]),
                                          ("kubeflow-groups", ",".join(u["groups"]))])
    assert header_values(hs, "Authorization") == []


def test_kubeflow_example_wrong_audience(kubeflow, api, harness):
    tok = api.sa_token("kubeflow-user-example-com", "default-editor")
    status, hs, _ = raw_request(kubeflow, "/", list(bearer(tok).items()))
    assert status == 401
    assert_bearer(hs, "invalid_token", realm="kubeflow")
    assert harness.echo.count == 0


# --------------------------------------------------------------------------
# The check endpoint directly


@pytest.fixture(scope="module")
def check(harness):
    conf = "".join([
        location("/check-on", """SetHandler k8ssa-check
AuthK8sResponseHeaders On
AuthzSendForbiddenOnFailure On
Require valid-user"""),
        location("/check-off", """SetHandler k8ssa-check
AuthzSendForbiddenOnFailure On
Require valid-user"""),
        location("/check-off-explicit", """SetHandler k8ssa-check
AuthK8sResponseHeaders Off
Require valid-user"""),
        location("/check-other-ns", """SetHandler k8ssa-check
AuthK8sResponseHeaders On
AuthzSendForbiddenOnFailure On
Require k8s-namespace other"""),
        location("/check-other-ns-401", """SetHandler k8ssa-check
AuthK8sResponseHeaders On
Require k8s-namespace other"""),
        location("/check-kubeflow", """SetHandler k8ssa-check
AuthK8sResponseHeaders On
AuthK8sUserHeader kubeflow-userid
AuthK8sUserPrefix "accounts.google.com:"
AuthK8sGroupsHeader kubeflow-groups
AuthK8sGroupsSeparator ","
AuthK8sExtraHeaderPrefix none
Require valid-user"""),
        "<Location /check-no-authtype>\n    SetHandler k8ssa-check\n"
        "    Require all granted\n</Location>\n",
        # A local ErrorDocument redirects internally, and that request
        # authenticates again: its success must not put the identity on the
        # 403/404 answer.
        location("/site", """AuthK8sResponseHeaders On
AuthzSendForbiddenOnFailure On
ErrorDocument 403 /site/oops
ErrorDocument 404 /site/oops
Require valid-user"""),
        location("/site/oops", """SetHandler k8ssa-check
AuthK8sResponseHeaders On
Require valid-user"""),
        location("/site/admin", """AuthK8sResponseHeaders On
AuthzSendForbiddenOnFailure On
Require k8s-namespace other"""),
    ])
    with harness.httpd(conf, name="check") as s:
        yield s


def test_check_on_success_has_identity_headers(check, api):
    tok = api.sa_token("team-a", "runner")
    u = api.user_of(tok)
    status, hs, body = raw_request(check, "/check-on", list(bearer(tok).items()))
    assert status == 200
    assert body == b""
    assert fields(hs, "Content-Length") in ([], ["0"])
    assert fields(hs, "X-Remote-User") == [u["username"]]
    # one field per group (no AuthK8sGroupsSeparator), in order
    groups = [g.strip() for v in fields(hs, "X-Remote-Group") for g in v.split(",")]
    assert groups == u["groups"]
    assert fields(hs, POD_NAME_H) == u["extra"]["authentication.kubernetes.io/pod-name"]
    assert fields(hs, POD_UID_H) == u["extra"]["authentication.kubernetes.io/pod-uid"]
    assert "WWW-Authenticate" not in dict(hs)


def test_check_on_any_method_and_subpath(check, api):
    """Envoy ext_authz sends the original method to pathPrefix + path."""
    tok = api.sa_token("team-a", "runner")
    u = api.user_of(tok)
    for method, path in (("POST", "/check-on/apis/v1/runs?x=1"), ("DELETE", "/check-on/x"),
                         ("HEAD", "/check-on")):
        status, hs, body = raw_request(check, path, list(bearer(tok).items())
                                       + [("Content-Length", "0")], method=method)
        assert (method, status, body) == (method, 200, b"")
        assert fields(hs, "X-Remote-User") == [u["username"]]


def test_check_spoofed_headers_never_echoed(check, api):
    tok = api.sa_token("team-a", "runner")
    u = api.user_of(tok)
    status, hs, _ = raw_request(check, "/check-on", list(bearer(tok).items()) + SPOOF)
    assert status == 200
    assert fields(hs, "X-Remote-User") == [u["username"]]
    assert "system:masters" not in [v for _, v in hs]
    assert "system:admin" not in [v for _, v in hs]
    assert fields(hs, POD_NAME_H) == u["extra"]["authentication.kubernetes.io/pod-name"]
    assert fields(hs, "x_remote_user") == [] and fields(hs, "X_Remote_Group") == []


@pytest.mark.parametrize("path", ["/check-off", "/check-off-explicit"])
def test_check_off_no_identity_headers(check, api, path):
    tok = api.sa_token("team-a", "runner")
    status, hs, body = raw_request(check, path, list(bearer(tok).items()) + SPOOF)
    assert status == 200
    assert body == b""
    assert identity_fields(hs) == []


def test_check_forbidden_has_no_identity_headers(check, api):
    tok = api.sa_token("team-a", "runner")
    status, hs, _ = raw_request(check, "/check-other-ns", list(bearer(tok).items()) + SPOOF)
    assert status == 403
    assert identity_fields(hs) == []
    assert fields(hs, "WWW-Authenticate") == []


@pytest.mark.parametrize("path,code", [("/site/missing-file", 404), ("/site/admin", 403)])
def test_no_identity_headers_on_error_documents(check, api, path, code):
    tok = api.sa_token("team-a", "runner")
    status, hs, _ = raw_request(check, path, list(bearer(tok).items()))
    assert status == code
    assert identity_fields(hs) == []


def test_check_insufficient_scope_without_forbidden(check, api):
    tok = api.sa_token("team-a", "runner")
    status, hs, _ = raw_request(check, "/check-other-ns-401", list(bearer(tok).items()))
    assert status == 401
    assert_bearer(hs, "insufficient_scope", realm=REALM)
    assert identity_fields(hs) == []


def test_check_allowed_namespace(check, api):
    tok = api.sa_token("other", "runner")
    status, hs, _ = raw_request(check, "/check-other-ns", list(bearer(tok).items()))
    assert status == 200
    assert fields(hs, "X-Remote-User") == ["system:serviceaccount:other:runner"]


def test_check_invalid_token(check, api):
    status, hs, _ = raw_request(check, "/check-on", list(bearer("not-a-known-token").items())
                                + SPOOF)
    assert status == 401
    assert_bearer(hs, "invalid_token", realm=REALM)
    assert identity_fields(hs) == []


def test_check_no_token(check):
    status, hs, _ = raw_request(check, "/check-on", SPOOF)
    assert status == 401
    assert_bearer(hs, None, realm=REALM)
    assert identity_fields(hs) == []


def test_check_malformed_token(check):
    status, hs, _ = raw_request(check, "/check-on", [("Authorization", 'Bearer "quoted"')])
    assert status == 400
    assert_bearer(hs, "invalid_request", realm=REALM)


def test_check_kubeflow_naming(check, api):
    tok = api.sa_token("kubeflow", "pipeline-runner")
    u = api.user_of(tok)
    status, hs, _ = raw_request(check, "/check-kubeflow", list(bearer(tok).items()))
    assert status == 200
    assert identity_fields(hs) == sorted([
        ("kubeflow-userid", "accounts.google.com:" + u["username"]),
        ("kubeflow-groups", ",".join(u["groups"]))])


def test_check_without_authtype_is_500(check, api):
    tok = api.sa_token("team-a", "runner")
    for headers in ([], list(bearer(tok).items())):
        status, hs, _ = raw_request(check, "/check-no-authtype", headers)
        assert status == 500
        assert identity_fields(hs) == []


# --------------------------------------------------------------------------
# forward-auth.conf behind nginx auth_request and Caddy forward_auth


@pytest.fixture(scope="module")
def forward_httpd(harness):
    """forward-auth.conf and forward-auth-rbac.conf (its server directives
    left commented: the first file sets them)."""
    text = out_of_cluster(example("forward-auth.conf"), harness) + "\n" + \
        example("forward-auth-rbac.conf")
    with harness.httpd(text, server_conf="", name="forward-auth") as s:
        yield s


def test_forward_auth_example_direct(forward_httpd, api):
    tok = api.sa_token("team-a", "runner")
    u = api.user_of(tok)
    status, hs, body = raw_request(forward_httpd, "/k8ssa/check/some/app/path",
                                   list(bearer(tok).items()) + SPOOF)
    assert (status, body) == (200, b"")
    assert fields(hs, "X-Remote-User") == [u["username"]]
    assert fields(hs, "X-Remote-Group") == [",".join(u["groups"])]


def nginx_snippet(httpd_port, echo_port, port, rbac_port):
    text = example("nginx-auth-request.conf")
    text = replace_once(text, "server 127.0.0.1:8081;", "server 127.0.0.1:%d;" % httpd_port)
    text = replace_once(text, "server 127.0.0.1:3000;", "server 127.0.0.1:%d;" % echo_port)
    text = replace_once(text, "listen 8080;", "listen 127.0.0.1:%d;" % port)
    text = replace_once(text, "listen 8090;", "listen 127.0.0.1:%d;" % rbac_port)
    return text


def caddyfile(httpd_port, echo_port, port, rbac_port):
    text = example("Caddyfile.forward-auth")
    text = replace_once(text, "\napp.example.com {", "\nhttp://127.0.0.1:%d {" % port)
    text = replace_once(text, "\nnamespaced.example.com {", "\nhttp://127.0.0.1:%d {"
                        % rbac_port)
    text = replace_once(text, "forward_auth 127.0.0.1:8081", "forward_auth 127.0.0.1:%d"
                        % httpd_port, times=2)
    text = replace_once(text, "reverse_proxy 127.0.0.1:3000", "reverse_proxy 127.0.0.1:%d"
                        % echo_port, times=2)
    return text


@pytest.fixture(scope="module", params=["nginx", "caddy"])
def gateway(request, harness, forward_httpd):
    port, rbac_port = free_port(), free_port()
    if request.param == "nginx":
        g = Nginx(harness, nginx_snippet(forward_httpd.port, harness.echo.port, port,
                                         rbac_port), port)
    else:
        g = Caddy(harness, caddyfile(forward_httpd.port, harness.echo.port, port, rbac_port),
                  port)
    g.rbac = types.SimpleNamespace(name=g.name, port=rbac_port)
    g.start()
    yield g
    g.stop()


def test_gateway_valid_token(gateway, api, harness):
    tok = api.sa_token("team-a", "runner")
    u = api.user_of(tok)
    status, _, body = raw_request(gateway, "/app/x?y=1", list(bearer(tok).items()))
    assert status == 200, (gateway.name, body[:300])
    got = json.loads(body)
    assert got["path"] == "/app/x?y=1"
    hs = got["headers"]
    assert header_values(hs, "X-Remote-User") == [u["username"]]
    assert header_values(hs, "X-Remote-Group") == [",".join(u["groups"])]
    assert harness.echo.count == 1


def test_gateway_spoofed_identity_never_reaches_backend(gateway, api, harness):
    tok = api.sa_token("team-a", "runner")
    u = api.user_of(tok)
    spoof = list(SPOOF)
    if gateway.name == "caddy":     # nginx cannot remove by prefix: documented
        spoof.append(("X-Remote-Extra-Scopes", "cluster-admin"))
    status, _, body = raw_request(gateway, "/app/", list(bearer(tok).items()) + spoof)
    assert status == 200, (gateway.name, body[:300])
    hs = json.loads(body)["headers"]
    assert identity_fields(hs) == sorted([("x-remote-user", u["username"]),
                                          ("x-remote-group", ",".join(u["groups"]))])


def test_gateway_invalid_token(gateway, harness):
    status, hs, _ = raw_request(gateway, "/app/", list(bearer("not-a-known-token").items())
                                + SPOOF)
    assert status == 401, gateway.name
    assert_bearer(hs, "invalid_token")
    assert harness.echo.count == 0


def test_gateway_no_token(gateway, harness):
    status, hs, _ = raw_request(gateway, "/app/", SPOOF)
    assert status == 401, gateway.name
    assert_bearer(hs, None)
    assert harness.echo.count == 0


def test_gateway_check_endpoint_not_reachable_as_app_path(gateway, api, harness):
    """The client's own request to /k8ssa-auth (nginx: internal) or any path
    is authenticated before the application; without a token nothing passes."""
    status, _, _ = raw_request(gateway, "/k8ssa-auth", [])
    assert status in (401, 404), (gateway.name, status)
    assert harness.echo.count == 0


# --------------------------------------------------------------------------
# forward-auth-rbac.conf: /ns/<namespace>/ decided by RBAC through the gateway

APP_USERS = [
    {"kind": "Role", "metadata": {"namespace": "team-a", "name": "app-user"},
     "rules": [{"apiGroups": [""], "resources": ["services/proxy"], "verbs": ["get"]}]},
    {"kind": "RoleBinding", "metadata": {"namespace": "team-a", "name": "app-users"},
     "roleRef": {"kind": "Role", "name": "app-user", "apiGroup": "rbac.authorization.k8s.io"},
     "subjects": [{"kind": "Group", "name": "system:serviceaccounts:team-a"}]},
]


@pytest.fixture
def app_users(api):
    api.set_rbac(APP_USERS)


@pytest.mark.parametrize("method,path,status", [
    ("GET", "/ns/team-a/dashboard?x=1", 200),
    ("HEAD", "/ns/team-a/", 200),
    ("GET", "/ns/team-a", 200),
    ("POST", "/ns/team-a/dashboard", 403),       # create is not granted
    ("DELETE", "/ns/team-a/dashboard", 403),
    ("GET", "/ns/team-b/dashboard", 403),
    ("GET", "/ns/team-a/../team-b/dashboard", 403),
    ("GET", "/ns/team-a/%2e%2e/team-b/", 403),
    ("GET", "/ns/Team-A/", 403),
    ("GET", "/ns//team-a/", 403),
    ("GET", "/ns/team-a/..;/team-b/dashboard", 403),
    ("GET", "/ns/team-a/x/..;/..;/team-b/x", 403),
    ("GET", "/NS/team-a/", 403),
    ("GET", "/NS/team-b/", 403),
    ("GET", "/ns;x/team-b/", 403),
    ("GET", "/ns/team-a;x/", 403),
    ("GET", "/ns\\team-b\\x", 403),
    ("GET", "/", 403),
    ("GET", "/other/app", 403),
    ("GET", "/ns/team-a/.../x", 403),
])
def test_gateway_rbac(gateway, api, harness, app_users, method, path, status):
    tok = api.sa_token("team-a", "runner")
    got, _, body = raw_request(gateway.rbac, path, list(bearer(tok).items())
                               + [("Content-Length", "0")], method=method)
    if got == 400 and status == 403:
        got = 403     # the gateway itself refused the path: not let through either
    assert got == status, (gateway.name, method, path, body[:300])
    assert harness.echo.count == (1 if status == 200 else 0)
    if status == 200:
        spec = api.access_bodies[-1]["spec"]
        assert spec["resourceAttributes"] == {"namespace": "team-a", "verb": "get",
                                              "resource": "services",
                                              "subresource": "proxy"}
        assert spec["user"] == "system:serviceaccount:team-a:runner"


def test_gateway_rbac_client_cannot_choose_method_or_path(gateway, api, harness, app_users):
    """The client sends the headers of the other gateway, and this one's: the
    decision is on what the gateway saw."""
    tok = api.sa_token("team-a", "runner")
    forged = [("X-Original-URI", "/ns/team-a/"), ("X-Original-Method", "GET"),
              ("X-Forwarded-Uri", "/ns/team-a/"), ("X-Forwarded-Method", "GET")]
    for method, path in (("DELETE", "/ns/team-a/x"), ("GET", "/ns/team-b/x")):
        got, _, body = raw_request(gateway.rbac, path, list(bearer(tok).items()) + forged
                                   + [("Content-Length", "0")], method=method)
        assert got == 403, (gateway.name, method, path, body[:300])
    assert harness.echo.count == 0


def test_gateway_rbac_needs_a_token(gateway, api, harness, app_users):
    got, hs, _ = raw_request(gateway.rbac, "/ns/team-a/", [])
    assert got == 401
    assert_bearer(hs, None)
    assert api.access_reviews == 0


def test_gateway_rbac_api_failure(gateway, api, harness, app_users):
    """503 from httpd: Caddy passes it on; nginx's auth_request turns any
    status but 2xx/401/403 into 500. Never a grant."""
    tok = api.sa_token("team-a", "runner")
    api.set_mode("503", kind="access")
    got, _, _ = raw_request(gateway.rbac, "/ns/team-a/", list(bearer(tok).items()))
    assert got == (503 if gateway.name == "caddy" else 500)
    assert harness.echo.count == 0


def test_gateway_rbac_drops_override_headers(gateway, api, harness, app_users):
    """RBAC decided on the request line: headers an application may take
    for another method or path do not reach it."""
    tok = api.sa_token("team-a", "runner")
    override = [("X-HTTP-Method-Override", "DELETE"), ("X-HTTP-Method", "DELETE"),
                ("X-Method-Override", "DELETE"), ("X-Original-URL", "/ns/team-b/"),
                ("X-Rewrite-URL", "/ns/team-b/"), ("X-Original-URI", "/ns/team-b/"),
                ("X-Original-Method", "DELETE"), ("X-Forwarded-Uri", "/ns/team-b/"),
                ("X-Forwarded-Method", "DELETE"), ("X-Forwarded-Prefix", "/ns/team-b"),
                ("X-Forwarded-Path", "/ns/team-b/"),
                ("X_HTTP_Method_Override", "DELETE"), ("X_HTTP_Method", "DELETE"),
                ("X_Method_Override", "DELETE"), ("X_Original_URL", "/ns/team-b/"),
                ("X_Rewrite_URL", "/ns/team-b/"), ("X_Forwarded_Uri", "/ns/team-b/"),
                ("X-HTTP_Method-Override", "DELETE"), ("X-Original_URL", "/ns/team-b/"),
                ("X-Forwarded_Uri", "/ns/team-b/"), ("X-Method_Override", "DELETE")]
    got, _, body = raw_request(gateway.rbac, "/ns/team-a/x", list(bearer(tok).items()) + override)
    assert got == 200, (gateway.name, body[:300])
    hs = json.loads(body)["headers"]
    for name, _ in override:
        assert header_values(hs, name) in ([], [""]), (gateway.name, name)
        assert header_values(hs, name.replace("_", "-")) in ([], [""]), (gateway.name, name)


def test_gateway_rbac_application_cannot_redirect_internally(gateway, api, harness,
                                                             app_users):
    """nginx would serve an application's X-Accel-Redirect to another
    namespace on the decision about the client's request line."""
    tok = api.sa_token("team-a", "runner")
    assert raw_request(gateway.rbac, "/ns/team-b/secret", list(bearer(tok).items()))[0] == 403
    got, _, body = raw_request(gateway.rbac,
                               "/ns/team-a/download?x-accel-redirect=/ns/team-b/secret",
                               list(bearer(tok).items()))
    assert got == 200, (gateway.name, body[:300])
    assert json.loads(body)["path"].startswith("/ns/team-a/download"), body[:300]
    assert harness.echo.count == 1
