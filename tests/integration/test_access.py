"""Require k8s-can: SubjectAccessReviews decided by the stand-in's RBAC.

Every form of the line, allowed and denied; namespace from the URL and verb
from the method; RequireAll / RequireAny; decisions cached and expiring,
counted at the stand-in; every API fault a 503 that is not cached; the
module's credential without create on subjectaccessreviews a 500; no access
review without an authenticated identity; bad lines refused at startup.
"""

import os
import time

import pytest
import requests

from helpers import (MODDIR, MPM, assert_no_challenge, bearer, location, raw_request,
                     write_file)

RBAC_OBJECTS = [
    # a metrics endpoint (non-resource URL), and a prefix with a trailing *
    {"kind": "ClusterRole", "metadata": {"name": "metrics-reader"},
     "rules": [{"verbs": ["get"], "nonResourceURLs": ["/metrics"]}]},
    {"kind": "ClusterRole", "metadata": {"name": "debug-reader"},
     "rules": [{"verbs": ["get"], "nonResourceURLs": ["/debug/*"]}]},
    {"kind": "ClusterRoleBinding", "metadata": {"name": "prom-metrics"},
     "roleRef": {"kind": "ClusterRole", "name": "metrics-reader"},
     "subjects": [{"kind": "ServiceAccount", "name": "prom", "namespace": "monitoring"}]},
    {"kind": "ClusterRoleBinding", "metadata": {"name": "debuggers"},
     "roleRef": {"kind": "ClusterRole", "name": "debug-reader"},
     "subjects": [{"kind": "Group", "name": "debuggers"}]},
    # services/proxy in one namespace (a Role and its RoleBinding)
    {"kind": "Role", "metadata": {"namespace": "monitoring", "name": "proxy"},
     "rules": [{"verbs": ["get"], "apiGroups": [""], "resources": ["services/proxy"]}]},
    {"kind": "RoleBinding", "metadata": {"namespace": "monitoring", "name": "prom-proxy"},
     "roleRef": {"kind": "Role", "name": "proxy"},
     "subjects": [{"kind": "ServiceAccount", "name": "prom"}]},
    # a ClusterRole granted in one namespace by a RoleBinding to a group
    {"kind": "ClusterRole", "metadata": {"name": "pod-reader"},
     "rules": [{"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods", "pods/log"]}]},
    {"kind": "RoleBinding", "metadata": {"namespace": "team-a", "name": "readers"},
     "roleRef": {"kind": "ClusterRole", "name": "pod-reader"},
     "subjects": [{"kind": "Group", "name": "system:serviceaccounts:team-a"}]},
    # wildcards: every verb on deployments.apps, everywhere
    {"kind": "ClusterRole", "metadata": {"name": "deployer"},
     "rules": [{"verbs": ["*"], "apiGroups": ["apps"], "resources": ["deployments"]}]},
    {"kind": "ClusterRoleBinding", "metadata": {"name": "alice-deploys"},
     "roleRef": {"kind": "ClusterRole", "name": "deployer"},
     "subjects": [{"kind": "User", "name": "alice"}]},
    # resourceNames
    {"kind": "Role", "metadata": {"namespace": "team-a", "name": "settings"},
     "rules": [{"verbs": ["get"], "apiGroups": [""], "resources": ["configmaps"],
                "resourceNames": ["settings"]}]},
    {"kind": "RoleBinding", "metadata": {"namespace": "team-a", "name": "runner-settings"},
     "roleRef": {"kind": "Role", "name": "settings"},
     "subjects": [{"kind": "ServiceAccount", "name": "runner", "namespace": "team-a"}]},
    # */status in every namespace for a group
    {"kind": "ClusterRole", "metadata": {"name": "status-reader"},
     "rules": [{"verbs": ["get"], "apiGroups": ["*"], "resources": ["*/status"]}]},
    {"kind": "ClusterRoleBinding", "metadata": {"name": "auditors"},
     "roleRef": {"kind": "ClusterRole", "name": "status-reader"},
     "subjects": [{"kind": "Group", "name": "auditors"}]},
]

# mallory is an auditor, but an authorizer in front of RBAC denies her
DENIES = [{"subjects": [{"kind": "User", "name": "mallory"}],
           "rules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
           "reason": "mallory is suspended"}]

LOCATIONS = {
    "/metrics": "Require k8s-can get /metrics",
    "/debug/": "Require k8s-can get %{REQUEST_URI}",
    "/proxy": "Require k8s-can get services/proxy monitoring",
    "/deploy": "Require k8s-can update deployments.apps team-b",
    "/settings": "Require k8s-can get configmaps team-a settings",
    "/other-config": "Require k8s-can get configmaps team-a other",
    "/status": "Require k8s-can get pods/status kube-system",
    "/logs": "Require k8s-can get pods/log team-a",
    "/nodes": "Require k8s-can list nodes",
    "/all": "<RequireAll>\n    Require k8s-group system:serviceaccounts:team-a\n"
            "    Require k8s-can get pods team-a\n</RequireAll>",
    "/any": "<RequireAny>\n    Require k8s-can get services/proxy monitoring\n"
            "    Require k8s-can update deployments.apps default\n</RequireAny>",
    "/not": "<RequireAll>\n    Require valid-user\n    Require not k8s-can list nodes\n"
            "</RequireAll>",
    "/any-group": "<RequireAny>\n    Require k8s-group system:serviceaccounts:team-a\n"
                  "    Require k8s-can list nodes\n</RequireAny>",
    "/unset-ns": "Require k8s-can get pods %{env:NO_SUCH_VARIABLE}",
    "/open": "<RequireAny>\n    Require ip 127.0.0.1\n    Require k8s-can list nodes\n"
             "</RequireAny>",
}

# namespace from the URL (a LocationMatch named group), verb from the method
# as kube-apiserver maps it (an unmapped method leaves it unset: refused)
NS_FROM_URL = (
    '<LocationMatch "^/ns/(?<ns>[^/]*)/pods">\n'
    "    AuthType KubernetesServiceAccount\n"
    '    AuthName "k8s"\n'
    '    SetEnvIf Request_Method "^(GET|HEAD)$" VERB=get\n'
    '    SetEnvIf Request_Method "^DELETE$" VERB=delete\n'
    "    Require k8s-can %{reqenv:VERB} pods %{env:MATCH_NS}\n"
    "    AuthzSendForbiddenOnFailure On\n"
    "    ProxyPass {echo}\n"
    "</LocationMatch>\n")


def access_conf(harness, extra_body=""):
    e = harness.echo.url
    conf = "".join(location(p, body + "\nAuthzSendForbiddenOnFailure On\n" + extra_body,
                            backend=e + p.rstrip("/"))
                   for p, body in LOCATIONS.items())
    return conf + NS_FROM_URL.replace("{echo}", e + "/ns")


@pytest.fixture(scope="module")
def srv(harness):
    with harness.httpd(access_conf(harness)) as s:
        yield s


@pytest.fixture(autouse=True)
def rbac(api):
    api.set_rbac(RBAC_OBJECTS, DENIES)


@pytest.fixture
def tokens(api):
    return {
        "prom": api.sa_token("monitoring", "prom"),
        "runner": api.sa_token("team-a", "runner"),
        "builder": api.sa_token("team-b", "builder"),
        "alice": api.user_token("alice", groups=["system:authenticated"]),
        "dora": api.user_token("dora", groups=["debuggers", "system:authenticated"]),
        "ann": api.user_token("ann", groups=["auditors", "system:authenticated"]),
        "mallory": api.user_token("mallory", groups=["auditors", "system:authenticated"]),
    }


def get(srv, path, tok=None, method="GET"):
    headers = bearer(tok) if tok else {}
    return requests.request(method, srv.url(path), headers=headers, timeout=30)


CASES = [
    ("/metrics", "prom", 200), ("/metrics", "runner", 403), ("/metrics", "alice", 403),
    ("/debug/pprof/heap", "dora", 200), ("/debug/", "dora", 200), ("/debug/x", "prom", 403),
    ("/proxy", "prom", 200), ("/proxy", "runner", 403), ("/proxy", "alice", 403),
    ("/deploy", "alice", 200), ("/deploy", "builder", 403),
    ("/settings", "runner", 200), ("/settings", "prom", 403),
    ("/other-config", "runner", 403),
    ("/status", "ann", 200), ("/status", "alice", 403), ("/status", "mallory", 403),
    ("/logs", "runner", 200), ("/logs", "builder", 403),
    ("/nodes", "runner", 403), ("/nodes", "alice", 403),
    ("/all", "runner", 200), ("/all", "builder", 403), ("/all", "alice", 403),
    ("/any", "prom", 200), ("/any", "alice", 200), ("/any", "runner", 403),
    ("/not", "runner", 200),
    ("/ns/team-a/pods", "runner", 200), ("/ns/team-b/pods", "runner", 403),
    ("/ns/team-a/pods", "builder", 403), ("/ns/team-a/pods", "alice", 403),
]


@pytest.mark.parametrize("path,who,status", CASES)
def test_decision(srv, harness, tokens, path, who, status):
    r = get(srv, path, tokens[who])
    assert r.status_code == status, r.text
    assert harness.echo.count == (1 if status == 200 else 0)


def test_explicit_deny_beats_rbac(srv, api, tokens):
    """mallory's group is granted */status, but the deny comes first; the
    reason is logged, never sent."""
    mark = srv.log_mark()
    r = get(srv, "/status", tokens["mallory"])
    assert r.status_code == 403
    assert "suspended" not in r.text and "suspended" not in str(r.headers)
    assert any("mallory is suspended" in l for l in srv.new_log_lines(mark))
    assert api.access_bodies[-1]["spec"]["user"] == "mallory"


def test_verb_from_method(srv, api, tokens):
    """pod-reader grants get and list, not delete."""
    assert get(srv, "/ns/team-a/pods", tokens["runner"], method="DELETE").status_code == 403
    ra = api.access_bodies[-1]["spec"]["resourceAttributes"]
    assert ra == {"namespace": "team-a", "verb": "delete", "resource": "pods"}
    assert get(srv, "/ns/team-a/pods", tokens["runner"], method="HEAD").status_code == 200
    assert api.access_bodies[-1]["spec"]["resourceAttributes"]["verb"] == "get"


@pytest.mark.parametrize("method", ["LIST", "WATCH", "*", "IMPERSONATE", "POST"])
def test_unmapped_method_is_refused_without_review(srv, api, harness, tokens, method):
    """The client cannot choose the verb: an unmapped method leaves it unset."""
    status, _, _ = raw_request(srv, "/ns/team-a/pods", list(bearer(tokens["runner"]).items())
                               + [("Content-Length", "0")], method=method)
    assert status == 403
    assert api.access_reviews == 0
    assert harness.echo.count == 0


@pytest.mark.parametrize("ns", ["Team-A", "team_a", "-x", "a" * 64, "team-a%20x",
                                "team-a%0d%0aX-Injected:1", "team-a%00"])
def test_bad_namespace_from_url_is_denied_without_review(srv, api, harness, tokens, ns):
    """A namespace Kubernetes would not accept is a denial, never a wider
    question (an empty namespace is not every namespace)."""
    r = get(srv, "/ns/%s/pods" % ns, tokens["runner"])
    assert r.status_code in (403, 404) if ns == "team-a%00" else r.status_code == 403
    assert api.access_reviews == 0
    assert harness.echo.count == 0


def test_unset_namespace_is_denied_without_review(srv, api, tokens):
    assert get(srv, "/unset-ns", tokens["runner"]).status_code == 403
    assert api.access_reviews == 0


def test_access_review_body(srv, api, tokens):
    """spec: the identity exactly as the token review gave it (not the
    header view), and the line's attributes."""
    tok = tokens["runner"]
    assert get(srv, "/settings", tok).status_code == 200
    user = api.user_of(tok)
    body = api.access_bodies[-1]
    assert body["apiVersion"] == "authorization.k8s.io/v1"
    assert body["kind"] == "SubjectAccessReview"
    spec = body["spec"]
    assert spec["user"] == user["username"]
    assert spec["uid"] == user["uid"]
    assert spec["groups"] == user["groups"]
    assert spec["extra"] == user["extra"]
    assert spec["resourceAttributes"] == {"namespace": "team-a", "verb": "get",
                                          "resource": "configmaps", "name": "settings"}
    assert "nonResourceAttributes" not in spec


def test_non_resource_body(srv, api, tokens):
    assert get(srv, "/metrics", tokens["prom"]).status_code == 200
    spec = api.access_bodies[-1]["spec"]
    assert spec["nonResourceAttributes"] == {"path": "/metrics", "verb": "get"}
    assert "resourceAttributes" not in spec


def test_group_and_subresource_body(srv, api, tokens):
    get(srv, "/deploy", tokens["alice"])
    assert api.access_bodies[-1]["spec"]["resourceAttributes"] == {
        "namespace": "team-b", "verb": "update", "group": "apps", "resource": "deployments"}
    get(srv, "/logs", tokens["runner"])
    assert api.access_bodies[-1]["spec"]["resourceAttributes"] == {
        "namespace": "team-a", "verb": "get", "resource": "pods", "subresource": "log"}


def test_no_review_without_identity(srv, api, harness, tokens):
    r = get(srv, "/metrics")
    assert r.status_code == 401
    r = get(srv, "/metrics", "not-a-registered-token")
    assert r.status_code == 401
    assert api.access_reviews == 0
    # Require ip grants before any token is asked for
    r = get(srv, "/open")
    assert r.status_code == 200
    assert api.access_reviews == 0 and api.reviews == 1


def test_decisions_cached(srv, api, tokens):
    for _ in range(3):
        assert get(srv, "/proxy", tokens["prom"]).status_code == 200
        assert get(srv, "/proxy", tokens["runner"]).status_code == 403
    assert api.access_reviews == 2, "one allowed and one denied decision, each reused"


def test_decisions_per_identity_and_line(srv, api, tokens):
    """Another token of the same service account is the same identity only
    if the token review says so: its pod extras differ, so it is asked again;
    another line is another question."""
    assert get(srv, "/proxy", tokens["prom"]).status_code == 200
    assert get(srv, "/metrics", tokens["prom"]).status_code == 200
    assert api.access_reviews == 2
    assert get(srv, "/proxy", api.sa_token("monitoring", "prom")).status_code == 200
    assert api.access_reviews == 3


def test_decisions_expire(harness, start_httpd, api):
    api.set_rbac(RBAC_OBJECTS, DENIES)
    s = start_httpd(access_conf(harness, "AuthK8sAccessCacheTTL 1\n"
                                         "AuthK8sAccessNegativeCacheTTL 1\n"))
    prom, runner = api.sa_token("monitoring", "prom"), api.sa_token("team-a", "runner")
    assert get(s, "/proxy", prom).status_code == 200
    assert get(s, "/proxy", runner).status_code == 403
    assert get(s, "/proxy", prom).status_code == 200
    assert get(s, "/proxy", runner).status_code == 403
    assert api.access_reviews == 2
    time.sleep(2.2)
    assert get(s, "/proxy", prom).status_code == 200
    assert get(s, "/proxy", runner).status_code == 403
    assert api.access_reviews == 4, "both decisions asked again after their TTL"


def test_revoked_permission_seen_after_ttl(harness, start_httpd, api):
    s = start_httpd(access_conf(harness, "AuthK8sAccessCacheTTL 1\n"))
    prom = api.sa_token("monitoring", "prom")
    assert get(s, "/proxy", prom).status_code == 200
    api.set_rbac([])
    assert get(s, "/proxy", prom).status_code == 200, "cached within its TTL"
    time.sleep(1.2)
    assert get(s, "/proxy", prom).status_code == 403


def test_negative_caching_off(harness, start_httpd, api):
    s = start_httpd(access_conf(harness, "AuthK8sAccessNegativeCacheTTL 0\n"))
    runner = api.sa_token("team-a", "runner")
    for _ in range(3):
        assert get(s, "/proxy", runner).status_code == 403
    assert api.access_reviews == 3


@pytest.mark.parametrize("mode", ["500", "503", "429", "garbage", "control-chars", "reset"])
def test_api_failure_is_503_not_cached(srv, api, harness, tokens, mode):
    tok = tokens["prom"]
    assert get(srv, "/metrics", tok).status_code == 200   # token reviewed and cached
    n = api.access_reviews
    api.close_connections()
    api.set_mode(mode, kind="access")
    r = get(srv, "/proxy", tok)
    assert r.status_code == 503
    assert_no_challenge(r)
    assert harness.echo.count == 1
    api.set_mode("normal", kind="access")
    assert get(srv, "/proxy", tok).status_code == 200, "the failure was not cached"
    assert api.access_reviews > n + 1


def test_timeout_is_503(harness, start_httpd, api):
    s = start_httpd(access_conf(harness), server_conf=harness.default_server_conf(timeout=1))
    tok = api.sa_token("monitoring", "prom")
    api.set_mode("slow", 4, kind="access")
    t = time.time()
    r = get(s, "/proxy", tok)
    assert r.status_code == 503
    assert time.time() - t < 2.5


def test_one_failure_is_retried(srv, api, tokens):
    tok = tokens["prom"]
    api.close_connections()
    api.fail_next(1, "503", kind="access")
    assert get(srv, "/proxy", tok).status_code == 200
    assert api.access_reviews == 2


def test_failure_in_require_any(srv, api, tokens):
    """mod_authz_core stops at the first line that grants: a k8s-group
    before a k8s-can spares the review. A line that cannot be decided ends
    the evaluation (httpd's rule for every provider error): 503."""
    api.set_mode("503", kind="access")
    assert get(srv, "/any-group", tokens["runner"]).status_code == 200
    assert api.access_reviews == 0
    assert get(srv, "/any-group", tokens["builder"]).status_code == 503
    assert get(srv, "/any", tokens["runner"]).status_code == 503


def test_missing_permission_is_500(srv, api, harness, tokens):
    tok = tokens["prom"]
    api.access_forbidden = True
    mark = srv.log_mark()
    r = get(srv, "/proxy", tok)
    assert r.status_code == 500
    assert harness.echo.count == 0
    lines = srv.new_log_lines(mark)
    assert any("subjectaccessreviews.authorization.k8s.io" in l and "auth-delegator" in l
               for l in lines), lines
    api.access_forbidden = False
    assert get(srv, "/proxy", tok).status_code == 200, "not cached"


@pytest.mark.skipif(MPM == "prefork", reason="coalescing is per child; prefork serves "
                    "concurrent requests from several children")
def test_decision_coalesced(harness, start_httpd, api):
    """Concurrent requests of one identity for one line wait for one review."""
    import concurrent.futures
    s = start_httpd(access_conf(harness), threads=16)
    tok = api.sa_token("monitoring", "prom")
    assert get(s, "/metrics", tok).status_code == 200
    api.set_mode("slow", 1, kind="access")
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        codes = list(ex.map(lambda _: get(s, "/proxy", tok).status_code, range(8)))
    assert codes == [200] * 8
    assert api.access_reviews == 2, "one for /metrics, one for the eight /proxy requests"


# --------------------------------------------------------------------------
# Sub-requests and internal redirects under a line that reads the request

GO_CGI = """#!/usr/bin/python3
import os, urllib.parse
q = urllib.parse.parse_qs(os.environ.get("QUERY_STRING", ""))
if "next" in q:
    print("Location: " + q["next"][0])
    print()
else:
    print("Content-Type: text/plain")
    print()
    print("SECRET of " + os.environ.get("NS", "?"), end="")
"""

REDIRECT_RBAC = [
    {"kind": "ClusterRole", "metadata": {"name": "pod-reader"},
     "rules": [{"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}]},
    {"kind": "RoleBinding", "metadata": {"namespace": "team-a", "name": "readers"},
     "roleRef": {"kind": "ClusterRole", "name": "pod-reader"},
     "subjects": [{"kind": "Group", "name": "system:serviceaccounts:team-a"}]},
]


@pytest.fixture(scope="module")
def redirect_srv(harness):
    """httpd skips authentication and authorization of a redirect or
    sub-request under the very configuration of its parent; these lines
    read the request, so the module makes it check again."""
    d = harness.subdir("cgi-redirect")
    write_file(os.path.join(d, "app.cgi"), GO_CGI, 0o755)
    write_file(os.path.join(d, "page.shtml"),
               'before <!--#include virtual="/rns/kube-system/app" --> after\n')
    conf = "\n".join([
        "LoadModule include_module %s/mod_include.so" % MODDIR,
        "LoadModule mime_module %s/mod_mime.so" % MODDIR,
        "TypesConfig /dev/null",
        'ScriptAliasMatch "^/rns/([a-z0-9-]+)/(app|other)$" "%s/app.cgi"' % d,
        'AliasMatch "^/rns/([a-z0-9-]+)/page.shtml$" "%s/page.shtml"' % d,
        'ScriptAlias /q "%s/app.cgi"' % d,
        'ScriptAliasMatch "^/nsu/([a-z0-9-]+)/app$" "%s/app.cgi"' % d,
        '<Directory "%s">' % d,
        "    Options +Includes +ExecCGI",
        "    AddOutputFilter INCLUDES .shtml",
        "    AddType text/html .shtml",
        "    Require all granted",
        "</Directory>",
        '<LocationMatch "^/rns/(?<ns>[^/]*)/">',
        "    AuthType KubernetesServiceAccount",
        '    AuthName "k8s"',
        '    SetEnvIfExpr "%{env:MATCH_NS} =~ /(.+)/" NS=$1',
        "    Require k8s-can get pods %{env:MATCH_NS}",
        "    AuthzSendForbiddenOnFailure On",
        "</LocationMatch>",
        "<Location /q>",
        "    AuthType KubernetesServiceAccount",
        '    AuthName "k8s"',
        '    SetEnvIfExpr "%{QUERY_STRING} =~ /(?:^|&)ns=([a-z0-9-]+)/" NS=$1',
        "    Require k8s-can get pods %{reqenv:NS}",
        "    AuthzSendForbiddenOnFailure On",
        "</Location>",
        '<LocationMatch "^/nsu/(?<ns>[^/]*)/">',
        "    AuthType KubernetesServiceAccount",
        '    AuthName "k8s"',
        "    Require k8s-namespace %{env:MATCH_NS}",
        "    AuthzSendForbiddenOnFailure On",
        "</LocationMatch>", ""])
    with harness.httpd(conf, name="redirects") as s:
        yield s


@pytest.mark.parametrize("path", [
    "/rns/team-a/app?next=/rns/kube-system/app",      # a CGI's local redirect
    "/q?ns=team-a&next=/q%3Fns%3Dkube-system",         # the same path, another query
    "/rns/team-a/page.shtml",                           # an SSI include (sub-request)
])
def test_redirect_or_subrequest_is_authorized_again(redirect_srv, api, path):
    api.set_rbac(REDIRECT_RBAC)
    tok = api.sa_token("team-a", "runner")
    assert requests.get(redirect_srv.url("/rns/kube-system/app"), headers=bearer(tok),
                        timeout=30).status_code == 403
    r = requests.get(redirect_srv.url(path), headers=bearer(tok), timeout=30)
    assert "SECRET of kube-system" not in r.text, (r.status_code, r.text)
    asked = [b["spec"]["resourceAttributes"]["namespace"] for b in api.access_bodies]
    assert asked.count("kube-system") >= 1, asked


def test_redirect_allowed_where_granted(redirect_srv, api):
    api.set_rbac(REDIRECT_RBAC)
    tok = api.sa_token("team-a", "runner")
    r = requests.get(redirect_srv.url("/rns/team-a/app?next=/rns/team-a/other"),
                     headers=bearer(tok), timeout=30)
    assert (r.status_code, r.text) == (200, "SECRET of team-a")


def test_redirect_under_computed_k8s_namespace(redirect_srv, api):
    """The other k8s-* providers take expressions too."""
    tok = api.sa_token("team-a", "runner")
    assert requests.get(redirect_srv.url("/nsu/team-a/app"), headers=bearer(tok),
                        timeout=30).text == "SECRET of ?"
    r = requests.get(redirect_srv.url("/nsu/team-a/app?next=/nsu/kube-system/app"),
                     headers=bearer(tok), timeout=30)
    assert r.status_code == 403, r.text


def test_computed_word_cannot_change_the_form(harness, start_httpd, api):
    """A computed resource that turns out to be a /path is refused: the
    request fills in values, it does not choose the kind of question."""
    api.set_rbac(RBAC_OBJECTS)
    s = start_httpd(location("/r", 'SetEnvIfExpr "%{HTTP:X-Res} =~ /(.+)/" RES=$1\n'
                                   "Require k8s-can get %{reqenv:RES} monitoring\n"
                                   "AuthzSendForbiddenOnFailure On",
                        backend=harness.echo.url + "/r"))
    tok = api.sa_token("monitoring", "prom")
    for res in ("/metrics", "/"):
        r = requests.get(s.url("/r"), headers=dict(bearer(tok), **{"X-Res": res}), timeout=30)
        assert r.status_code == 403
    assert api.access_reviews == 0
    r = requests.get(s.url("/r"), headers=dict(bearer(tok), **{"X-Res": "services/proxy"}),
                     timeout=30)
    assert r.status_code == 200


BAD_LINES = [
    ("Require k8s-can", "needs a verb"),
    ("Require k8s-can get", "needs a verb"),
    ("Require k8s-can Get pods", "verb"),
    ("Require k8s-can get Pods", "resource"),
    ("Require k8s-can get pods Team-A", "namespace"),
    ("Require k8s-can get /metrics default", "/path takes no namespace"),
    ("Require k8s-can get pods a b c", "too many"),
    ("Require k8s-can get pods %{env:X", "expression"),
    ("Require k8s-can %{tolower:%{REQUEST_METHOD}} pods.Apps", "group"),
    ('Require k8s-can get "/a path"', "path"),
]


@pytest.mark.parametrize("line,why", BAD_LINES)
def test_bad_line_fails_startup(harness, line, why):
    rc, out = harness.configtest(location("/x", line))
    assert rc != 0
    assert "k8s-can" in out and why in out, out


@pytest.mark.parametrize("line", [
    "Require k8s-can get /metrics",
    "Require k8s-can '*' '*.*'",
    "Require k8s-can get services/proxy monitoring prometheus",
    "Require k8s-can %{tolower:%{REQUEST_METHOD}} pods %{env:NS} %{env:NAME}",
    "Require k8s-can get %{REQUEST_URI}",
    "<RequireAll>\nRequire valid-user\nRequire not k8s-can delete pods kube-system\n"
    "</RequireAll>",
    "<RequireAll>\nRequire valid-user\nRequire not k8s-can delete pods %{env:NS}\n"
    "</RequireAll>",
])
def test_good_line_passes_startup(harness, line):
    rc, out = harness.configtest(location("/x", line))
    assert rc == 0, out
    assert ("the verb comes from the request method" in out) == ("REQUEST_METHOD" in line), out


# --------------------------------------------------------------------------
# Negated lines with values from the request

DELETERS = [
    {"kind": "ClusterRole", "metadata": {"name": "pod-deleter"},
     "rules": [{"verbs": ["delete"], "apiGroups": [""], "resources": ["pods"]}]},
    {"kind": "RoleBinding", "metadata": {"namespace": "kube-system", "name": "deleters"},
     "roleRef": {"kind": "ClusterRole", "name": "pod-deleter"},
     "subjects": [{"kind": "Group", "name": "system:serviceaccounts:team-a"}]},
]


def negated(prefix, line):
    return ('<LocationMatch "^/%s/(?<ns>[^/]*)/">\n'
            "    AuthType KubernetesServiceAccount\n"
            '    AuthName "k8s"\n'
            "    AuthzSendForbiddenOnFailure On\n"
            "    <RequireAll>\n"
            "        Require valid-user\n"
            "        %s\n"
            "    </RequireAll>\n"
            "    ProxyPass {echo}/%s\n"
            "</LocationMatch>\n") % (prefix, line, prefix)


@pytest.fixture(scope="module")
def negated_srv(harness):
    conf = ('<AuthzProviderAlias k8s-can may-delete "delete pods %{env:MATCH_NS}">\n'
            "</AuthzProviderAlias>\n" +
            negated("not", "Require not k8s-can delete pods %{env:MATCH_NS}") +
            negated("quoted", 'Require "not" k8s-can delete pods %{env:MATCH_NS}') +
            negated("none", "<RequireNone>\n Require k8s-can delete pods %{env:MATCH_NS}\n"
                            "</RequireNone>") +
            negated("alias", "Require not may-delete") +
            negated("nsnot", "Require not k8s-namespace %{env:MATCH_NS}") +
            negated("sanot", "Require not k8s-serviceaccount %{env:MATCH_NS}:runner") +
            negated("sanot2", "Require not k8s-serviceaccount team-a:%{env:MATCH_NS}") +
            negated("usernot", "Require not k8s-user %{env:MATCH_NS}") +
            negated("pos", "Require k8s-namespace %{env:MATCH_NS}"))
    with harness.httpd(conf.replace("{echo}", harness.echo.url), name="negated") as s:
        yield s


@pytest.mark.parametrize("prefix", ["not", "quoted", "none", "alias"])
@pytest.mark.parametrize("ns,status", [("kube-system", 403), ("team-a", 200),
                                       ("Kube-System", 403), ("kube_system", 403)])
def test_negated_k8s_can(negated_srv, api, harness, prefix, ns, status):
    """A value Kubernetes refuses is a 403 wherever the line stands: `not`
    would turn its denial into a pass."""
    api.set_rbac(DELETERS)
    tok = api.sa_token("team-a", "runner")
    r = requests.get(negated_srv.url("/%s/%s/x" % (prefix, ns)), headers=bearer(tok),
                     timeout=30)
    assert r.status_code == status, r.text
    assert harness.echo.count == (1 if status == 200 else 0)


@pytest.mark.parametrize("prefix", ["nsnot", "sanot"])
@pytest.mark.parametrize("ns,status", [("team-a", 403), ("team-b", 200), ("Team-A", 403),
                                       ("team_a", 403), ("%20", 403), ("%22%22", 403),
                                       ("%22%22%20team-a", 403), ("team-b%20team-a", 403),
                                       ("'team-a'", 403)])
def test_negated_identity_lines(negated_srv, api, harness, prefix, ns, status):
    tok = api.sa_token("team-a", "runner")
    r = requests.get(negated_srv.url("/%s/%s/x" % (prefix, ns)), headers=bearer(tok),
                     timeout=30)
    assert r.status_code == status, r.text
    assert harness.echo.count == (1 if status == 200 else 0)


def readme_rbac_locations():
    import os
    import re
    import textwrap
    readme = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "README.md")
    with open(readme) as f:
        text = f.read()
    section = text[text.index("## RBAC for your locations"):text.index("## RBAC the module needs")]
    blocks = re.findall(r"^(    <Location(?:Match)? .*?^    </Location(?:Match)?>)$", section,
                        re.M | re.S)
    return [textwrap.dedent(b) for b in blocks]


def test_readme_rbac_examples(harness):
    """The README's k8s-can locations pass apache2 -t; its sample error is
    what httpd prints."""
    blocks = readme_rbac_locations()
    assert len(blocks) == 3
    for b in blocks:
        rc, out = harness.configtest(b)
        assert rc == 0, (b, out)
    rc, out = harness.configtest(location("/x", "Require k8s-can get pods Team-A"))
    assert "Require k8s-can get pods Team-A: the namespace must be a DNS label" in out, out


def test_readme_namespace_recipe(harness, start_httpd, api):
    """The README's LocationMatch recipe, served: allowed requests get past
    authorization (404: no such file), ';' and '\\' are refused before any
    review, an unmapped method is refused."""
    api.set_rbac(RBAC_OBJECTS)
    s = start_httpd(readme_rbac_locations()[2])
    tok = api.sa_token("team-a", "runner")
    assert raw_request(s, "/ns/team-a/pods", list(bearer(tok).items()))[0] == 404
    assert api.access_reviews == 2
    for path in ("/ns/team-a/pods/..;/x", "/ns/team-a/pods;x", "/ns/team-a/pods\\x"):
        assert raw_request(s, path, list(bearer(tok).items()))[0] == 403, path
    assert raw_request(s, "/ns/team-b/pods", list(bearer(tok).items()))[0] == 403
    assert raw_request(s, "/ns/team-a/pods", list(bearer(tok).items()), method="LIST")[0] == 403
    asked = [b["spec"]["resourceAttributes"]["namespace"] for b in api.access_bodies]
    assert set(asked) == {"team-a", "team-b"}, asked


@pytest.mark.parametrize("prefix,value,status", [
    ("sanot2", "a..b", 403), ("sanot2", "a.-b", 403), ("sanot2", "runner", 403),
    ("sanot2", "other", 200),
    # a blank value names nobody; '""' is a name (quotes are not stripped from
    # a value, as no value is split), so `not` passes it like any other
    ("usernot", "%20", 403), ("usernot", "%22%22", 200), ("usernot", "someone", 200),
    # a value from the request is one value: it cannot add another
    ("pos", "team-a", 200), ("pos", "team-b%20team-a", 403), ("pos", "%22team-a%22", 403),
    ("pos", "team-b", 403),
])
def test_computed_identity_values(negated_srv, api, harness, prefix, value, status):
    tok = api.sa_token("team-a", "runner")
    r = requests.get(negated_srv.url("/%s/%s/x" % (prefix, value)), headers=bearer(tok),
                     timeout=30)
    assert r.status_code == status, r.text
    assert harness.echo.count == (1 if status == 200 else 0)
