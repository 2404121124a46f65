"""Require providers: k8s-user, k8s-group, k8s-namespace, k8s-serviceaccount,
granting and denying, alone and combined."""

import pytest
import requests

from helpers import assert_challenge, bearer, location


@pytest.fixture(scope="module")
def srv(harness):
    e = harness.echo.url
    locs = {
        "/user-sa": "Require k8s-user system:serviceaccount:team-a:runner",
        "/user-alice": "Require k8s-user bob alice",
        "/group": "Require k8s-group admins system:serviceaccounts:team-b",
        "/ns": "Require k8s-namespace team-b team-a",
        "/sa": "Require k8s-serviceaccount other:x team-a:runner",
        "/all": "<RequireAll>\n    Require k8s-namespace team-a\n"
                "    Require k8s-group system:authenticated\n</RequireAll>",
        "/any": "<RequireAny>\n    Require k8s-user alice\n"
                "    Require k8s-serviceaccount team-b:builder\n</RequireAny>",
        "/not": "<RequireAll>\n    Require valid-user\n    Require not k8s-namespace team-a\n"
                "</RequireAll>",
        "/forbidden": "Require k8s-namespace nobody\nAuthzSendForbiddenOnFailure On",
        # values are httpd expressions, like Require user's (SetEnvIf runs
        # before authentication, mod_env's SetEnv would be too late)
        "/expr": 'SetEnvIf Request_URI "^/expr/(team-[a-z])/" ALLOWED_NS=$1\n'
                 "Require k8s-namespace %{env:ALLOWED_NS}",
    }
    conf = "".join(location(p, body, backend=e + p) for p, body in locs.items())
    with harness.httpd(conf) as s:
        yield s


@pytest.fixture
def tokens(api):
    return {
        "runner": api.sa_token("team-a", "runner"),
        "other-a": api.sa_token("team-a", "other"),
        "builder-b": api.sa_token("team-b", "builder"),
        "runner-c": api.sa_token("team-c", "runner"),
        "alice": api.user_token("alice", groups=["admins", "system:authenticated"]),
        "carol": api.user_token("carol", groups=["system:authenticated"]),
        # looks like a namespace but is not a service-account username
        "fake-sa": api.user_token("system:serviceaccount:team-a", groups=[]),
    }


CASES = [
    ("/user-sa", "runner", 200), ("/user-sa", "other-a", 401), ("/user-sa", "alice", 401),
    ("/user-alice", "alice", 200), ("/user-alice", "carol", 401), ("/user-alice", "runner", 401),
    ("/group", "alice", 200), ("/group", "builder-b", 200), ("/group", "runner", 401),
    ("/group", "carol", 401),
    ("/ns", "runner", 200), ("/ns", "other-a", 200), ("/ns", "builder-b", 200),
    ("/ns", "runner-c", 401), ("/ns", "alice", 401), ("/ns", "fake-sa", 401),
    ("/sa", "runner", 200), ("/sa", "other-a", 401), ("/sa", "runner-c", 401),
    ("/sa", "alice", 401), ("/sa", "fake-sa", 401),
    ("/all", "runner", 200), ("/all", "builder-b", 401), ("/all", "alice", 401),
    ("/any", "alice", 200), ("/any", "builder-b", 200), ("/any", "runner", 401),
    ("/not", "builder-b", 200), ("/not", "runner", 401),
    ("/forbidden", "runner", 403), ("/forbidden", "alice", 403),
]


@pytest.mark.parametrize("path,who,status", CASES, ids=["%s-%s" % (p, w) for p, w, _ in CASES])
def test_require(srv, api, harness, tokens, path, who, status):
    r = requests.get(srv.url(path + "/"), headers=bearer(tokens[who]), timeout=30)
    assert r.status_code == status
    if status == 200:
        assert r.json()["path"] == path + "/"
        assert harness.echo.count == 1
    else:
        assert harness.echo.count == 0
    if status == 401:
        assert_challenge(r, error="insufficient_scope")
    assert api.reviews == 1


@pytest.mark.parametrize("ns,who,status", [("team-a", "runner", 200), ("team-b", "runner", 401),
                                           ("team-b", "builder-b", 200), ("team-x", "alice", 401)])
def test_require_expression(srv, api, tokens, ns, who, status):
    r = requests.get(srv.url("/expr/%s/" % ns), headers=bearer(tokens[who]), timeout=30)
    assert r.status_code == status
    if status == 200:
        assert r.json()["path"] == "/expr/%s/" % ns
