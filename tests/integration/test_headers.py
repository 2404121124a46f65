"""Identity headers and directory directives, seen by a proxied backend and
a CGI: names, `none`, prefix, separator, extra encoding, ForwardToken,
audiences, spoofed headers, environment variables."""

import json

import pytest
import requests

from helpers import (assert_challenge, bearer, echo_headers, header_values, location,
                     raw_request)

POD_NAME_H = "X-Remote-Extra-authentication.kubernetes.io%2Fpod-name"
POD_UID_H = "X-Remote-Extra-authentication.kubernetes.io%2Fpod-uid"


@pytest.fixture(scope="module")
def srv(harness):
    e = harness.echo.url
    conf = "".join([
        location("/default", "Require valid-user", backend=e + "/default"),
        location("/renamed", """Require valid-user
AuthK8sUserHeader X-Auth-User
AuthK8sGroupsHeader X-Auth-Groups
AuthK8sExtraHeaderPrefix X-Auth-Extra-""", backend=e + "/renamed"),
        location("/none", """Require valid-user
AuthK8sUserHeader none
AuthK8sGroupsHeader none
AuthK8sExtraHeaderPrefix none""", backend=e + "/none"),
        location("/prefix", 'Require valid-user\nAuthK8sUserPrefix "k8s:"', backend=e + "/prefix"),
        location("/sep", 'Require valid-user\nAuthK8sGroupsSeparator ","', backend=e + "/sep"),
        location("/sep2", 'Require valid-user\nAuthK8sGroupsHeader kubeflow-groups\n'
                 'AuthK8sGroupsSeparator "; "', backend=e + "/sep2"),
        location("/noforward", "Require valid-user\nAuthK8sForwardToken Off",
                 backend=e + "/noforward"),
        location("/forward", "Require valid-user\nAuthK8sForwardToken On",
                 backend=e + "/forward"),
        location("/aud", "Require valid-user\nAuthK8sAudiences https://svc.example aud-two",
                 backend=e + "/aud"),
        location("/cgi/", "Require valid-user"),
        location("/open", "Require all granted", backend=e + "/open"),
        location("/ip-or-token", """<RequireAny>
    Require ip 127.0.0.1
    Require valid-user
</RequireAny>""", backend=e + "/ip-or-token"),
        'ScriptAlias /cgi-prefix/ "%s/"\n' % harness.cgidir,
        location("/cgi-prefix/", 'Require valid-user\nAuthK8sUserPrefix "oidc:"'),
    ])
    with harness.httpd(conf) as s:
        yield s


def get(srv, path, tok, headers=None):
    h = dict(headers or {})
    h.update(bearer(tok))
    return requests.get(srv.url(path), headers=h, timeout=30)


def test_default_headers(srv, api):
    tok = api.sa_token("team-a", "runner")
    u = api.user_of(tok)
    hs = echo_headers(get(srv, "/default/", tok))
    assert header_values(hs, "X-Remote-User") == ["system:serviceaccount:team-a:runner"]
    assert header_values(hs, "X-Remote-Group") == [
        "system:serviceaccounts", "system:serviceaccounts:team-a", "system:authenticated"]
    assert header_values(hs, POD_NAME_H) == u["extra"]["authentication.kubernetes.io/pod-name"]
    assert header_values(hs, POD_UID_H) == u["extra"]["authentication.kubernetes.io/pod-uid"]
    extras = [k for k, _ in hs if k.lower().startswith("x-remote-extra-")]
    assert sorted(extras) == sorted([POD_NAME_H, POD_UID_H])
    assert header_values(hs, "Authorization") == ["Bearer " + tok]


def test_extra_key_percent_encoding_and_multiple_values(srv, api):
    tok = api.user_token("alice", groups=["admins"], extra={
        "scopes.example.com/a b%": ["v1", "v2"],
        "plain-key_1~!": ["x"],
        "ключ": ["y"],
    })
    hs = echo_headers(get(srv, "/default/", tok))
    assert header_values(hs, "X-Remote-Extra-scopes.example.com%2Fa%20b%25") == ["v1", "v2"]
    assert header_values(hs, "X-Remote-Extra-plain-key_1~!") == ["x"]
    assert header_values(hs, "X-Remote-Extra-%D0%BA%D0%BB%D1%8E%D1%87") == ["y"]
    assert header_values(hs, "X-Remote-Group") == ["admins"]


def test_user_without_groups_or_extra(srv, api):
    tok = api.user_token("bob")
    hs = echo_headers(get(srv, "/default/", tok))
    assert header_values(hs, "X-Remote-User") == ["bob"]
    assert header_values(hs, "X-Remote-Group") == []
    assert not [k for k, _ in hs if k.lower().startswith("x-remote-extra-")]


def test_renamed_headers(srv, api):
    tok = api.sa_token("team-a", "runner")
    hs = echo_headers(get(srv, "/renamed/", tok))
    assert header_values(hs, "X-Auth-User") == ["system:serviceaccount:team-a:runner"]
    assert len(header_values(hs, "X-Auth-Groups")) == 3
    assert len(header_values(hs, "X-Auth-Extra-authentication.kubernetes.io%2Fpod-name")) == 1
    assert header_values(hs, "X-Remote-User") == []
    assert header_values(hs, "X-Remote-Group") == []
    assert not [k for k, _ in hs if k.lower().startswith("x-remote-extra-")]


def test_none_headers(srv, api):
    tok = api.sa_token("team-a", "runner")
    hs = echo_headers(get(srv, "/none/", tok))
    names = [k.lower() for k, _ in hs]
    assert not [n for n in names if n.startswith("x-remote-")]
    assert not [n for n in names if n in ("none", "x-auth-user")]
    assert not [v for _, v in hs if "system:serviceaccount:team-a:runner" in v]


def test_user_prefix_only_in_header(srv, api):
    tok = api.sa_token("team-a", "runner")
    hs = echo_headers(get(srv, "/prefix/", tok))
    assert header_values(hs, "X-Remote-User") == ["k8s:system:serviceaccount:team-a:runner"]
    assert header_values(hs, "X-Remote-Group")[0] == "system:serviceaccounts"


def test_user_prefix_not_in_env(srv, api):
    tok = api.sa_token("team-a", "runner")
    r = get(srv, "/cgi-prefix/env.cgi", tok)
    assert r.status_code == 200, r.text[:300]
    env = r.json()
    assert env["REMOTE_USER"] == "system:serviceaccount:team-a:runner"
    assert env["K8S_USER"] == "system:serviceaccount:team-a:runner"
    assert env["HTTP_X_REMOTE_USER"] == "oidc:system:serviceaccount:team-a:runner"


def test_groups_one_field_per_group_by_default(srv, api):
    tok = api.user_token("alice", groups=["g1", "g2", "g,3"])
    hs = echo_headers(get(srv, "/default/", tok))
    assert header_values(hs, "X-Remote-Group") == ["g1", "g2", "g,3"]


def test_groups_separator(srv, api):
    tok = api.sa_token("team-a", "runner")
    hs = echo_headers(get(srv, "/sep/", tok))
    assert header_values(hs, "X-Remote-Group") == [
        "system:serviceaccounts,system:serviceaccounts:team-a,system:authenticated"]


def test_groups_separator_custom_header(srv, api):
    tok = api.user_token("alice", groups=["a", "b"])
    hs = echo_headers(get(srv, "/sep2/", tok))
    assert header_values(hs, "kubeflow-groups") == ["a; b"]
    assert header_values(hs, "X-Remote-Group") == []


def test_forward_token_off(srv, api):
    tok = api.sa_token("team-a", "runner")
    hs = echo_headers(get(srv, "/noforward/", tok))
    assert header_values(hs, "Authorization") == []
    assert header_values(hs, "X-Remote-User") == ["system:serviceaccount:team-a:runner"]


def test_forward_token_on(srv, api):
    tok = api.sa_token("team-a", "runner")
    hs = echo_headers(get(srv, "/forward/", tok))
    assert header_values(hs, "Authorization") == ["Bearer " + tok]


def test_audiences_sent_and_matching(srv, api):
    tok = api.sa_token("team-a", "runner", audiences=["aud-two"])
    r = get(srv, "/aud/", tok)
    assert r.status_code == 200
    assert api.bodies[0]["spec"]["audiences"] == ["https://svc.example", "aud-two"]


def test_audiences_not_matching(srv, api, harness):
    """The API server decides: an opaque token (no aud claim to precheck)
    registered for the API server's audiences only."""
    tok = api.user_token("alice")   # the API server's audiences
    r = get(srv, "/aud/", tok)
    assert r.status_code == 401
    assert_challenge(r, error="invalid_token")
    assert api.bodies[0]["spec"]["audiences"] == ["https://svc.example", "aud-two"]
    assert harness.echo.count == 0


def test_audiences_not_matching_jwt_refused_without_review(srv, api, harness):
    """A JWT whose aud names none of them: AuthK8sTokenPrecheck refuses it."""
    tok = api.sa_token("team-a", "runner")
    r = get(srv, "/aud/", tok)
    assert r.status_code == 401
    assert_challenge(r, error="invalid_token")
    assert api.reviews == 0
    assert harness.echo.count == 0


def test_no_audiences_uses_api_audiences(srv, api):
    tok = api.sa_token("team-a", "runner")
    assert get(srv, "/default/", tok).status_code == 200
    assert not api.bodies[0]["spec"].get("audiences")
    tok2 = api.sa_token("team-a", "runner", audiences=["aud-two"])
    r = get(srv, "/default/", tok2)
    assert r.status_code == 401
    assert_challenge(r, error="invalid_token")


SPOOFS = [("X-Remote-User", "evil-1"), ("x-remote-user", "evil-2"), ("X_Remote_User", "evil-3"),
          ("X-REMOTE-GROUP", "system:masters"), ("X_Remote_Group", "evil-group"),
          ("X-Remote-Extra-foo", "evil-extra"), ("X_REMOTE_EXTRA_bar", "evil-extra-2"),
          ("x-remote-extra-authentication.kubernetes.io%2Fpod-name", "evil-pod")]


def _no_evil(hs):
    assert not [(k, v) for k, v in hs if "evil" in v or "system:masters" in v], hs
    assert not [k for k, _ in hs if "_" in k and k.lower().startswith("x_remote")], hs


def test_spoofed_headers_removed_valid_token(srv, api):
    tok = api.sa_token("team-a", "runner")
    st, _, body = raw_request(srv, "/default/",
                              SPOOFS + [("Authorization", "Bearer " + tok)])
    assert st == 200
    hs = json.loads(body)["headers"]
    _no_evil(hs)
    assert header_values(hs, "X-Remote-User") == ["system:serviceaccount:team-a:runner"]
    assert len(header_values(hs, "X-Remote-Group")) == 3
    assert sorted(k for k, _ in hs if k.lower().startswith("x-remote-extra-")) == \
        sorted([POD_NAME_H, POD_UID_H])


def test_spoofed_headers_invalid_token(srv, api, harness):
    st, hdrs, _ = raw_request(srv, "/default/",
                              SPOOFS + [("Authorization", "Bearer unknown-token")])
    assert st == 401
    assert harness.echo.count == 0


def test_spoofed_headers_no_token(srv, api, harness):
    st, _, _ = raw_request(srv, "/default/", SPOOFS)
    assert st == 401
    assert harness.echo.count == 0


@pytest.mark.parametrize("path", ["/open/", "/ip-or-token/"])
@pytest.mark.parametrize("with_token", [False, True])
def test_spoofed_headers_removed_without_authentication(srv, api, path, with_token):
    """Authorization can pass before authentication runs (Require all granted,
    Require ip in a RequireAny): the identity headers are stripped anyway."""
    extra = [("Authorization", "Bearer " + api.sa_token("team-a", "runner"))] \
        if with_token else []
    st, _, body = raw_request(srv, path, SPOOFS + extra)
    assert st == 200
    hs = json.loads(body)["headers"]
    _no_evil(hs)
    assert not [k for k, _ in hs if k.lower().startswith("x-remote")], hs


def test_spoofed_renamed_headers(srv, api):
    tok = api.sa_token("team-a", "runner")
    spoofs = [("X-Auth-User", "evil-a"), ("x_auth_user", "evil-b"), ("X-AUTH-GROUPS", "evil-g"),
              ("X_Auth_Groups", "evil-g2"), ("X-Auth-Extra-scope", "evil-e"),
              ("x_auth_extra_scope2", "evil-e2")]
    st, _, body = raw_request(srv, "/renamed/",
                              spoofs + [("Authorization", "Bearer " + tok)])
    assert st == 200
    hs = json.loads(body)["headers"]
    assert not [(k, v) for k, v in hs if "evil" in v], hs
    assert header_values(hs, "X-Auth-User") == ["system:serviceaccount:team-a:runner"]


def test_spoofed_header_not_in_cgi_env(srv, api):
    tok = api.sa_token("team-a", "runner")
    st, _, body = raw_request(srv, "/cgi/env.cgi",
                              SPOOFS + [("Authorization", "Bearer " + tok)])
    assert st == 200
    env = json.loads(body)
    assert env["HTTP_X_REMOTE_USER"] == "system:serviceaccount:team-a:runner"
    assert env["REMOTE_USER"] == "system:serviceaccount:team-a:runner"
    assert not [(k, v) for k, v in env.items() if "evil" in v or "system:masters" in v]


def test_cgi_env_service_account(srv, api):
    tok = api.sa_token("team-a", "runner")
    u = api.user_of(tok)
    r = get(srv, "/cgi/env.cgi", tok)
    assert r.status_code == 200, r.text[:300]
    env = r.json()
    assert env["REMOTE_USER"] == "system:serviceaccount:team-a:runner"
    assert env["K8S_USER"] == "system:serviceaccount:team-a:runner"
    assert env["K8S_UID"] == u["uid"]
    assert env["K8S_GROUPS"] == \
        "system:serviceaccounts,system:serviceaccounts:team-a,system:authenticated"
    assert env["K8S_NAMESPACE"] == "team-a"
    assert env["K8S_SERVICEACCOUNT"] == "runner"


def test_cgi_env_plain_user(srv, api):
    tok = api.user_token("alice", groups=["admins", "devs"])
    u = api.user_of(tok)
    r = get(srv, "/cgi/env.cgi", tok)
    assert r.status_code == 200, r.text[:300]
    env = r.json()
    assert env["REMOTE_USER"] == "alice"
    assert env["K8S_USER"] == "alice"
    assert env["K8S_UID"] == u["uid"]
    assert env["K8S_GROUPS"] == "admins,devs"
    assert "K8S_NAMESPACE" not in env
    assert "K8S_SERVICEACCOUNT" not in env
