"""The status table of INTERFACE.md ("Status codes the client sees") for the
client-side cases, and what reaches the API server."""

import pytest
import requests

from helpers import (assert_challenge, bearer, echo_headers,
                     header_values, location)


@pytest.fixture(scope="module")
def srv(harness):
    echo = harness.echo.url
    conf = (location("/echo", "Require valid-user", backend=echo + "/echo")
            + location("/deny", "Require k8s-user nobody", backend=echo + "/deny")
            + location("/deny403", "Require k8s-user nobody\nAuthzSendForbiddenOnFailure On",
                       backend=echo + "/deny403")
            + location("/other-realm", "Require valid-user", realm="kubeflow",
                       backend=echo + "/other-realm"))
    with harness.httpd(conf) as s:
        yield s


def get(srv, path="/echo/", headers=None):
    return requests.get(srv.url(path), headers=headers or {}, timeout=30)


def test_valid_token_reaches_backend(srv, api, harness):
    tok = api.sa_token("demo", "client")
    r = get(srv, headers=bearer(tok))
    assert r.status_code == 200
    assert r.json()["path"] == "/echo/"
    assert header_values(echo_headers(r), "X-Remote-User") == ["system:serviceaccount:demo:client"]
    assert api.reviews == 1
    assert harness.echo.count == 1


def test_review_request_is_a_tokenreview(srv, api, harness):
    tok = api.sa_token("demo", "client")
    assert get(srv, headers=bearer(tok)).status_code == 200
    assert api.reviews == 1
    body = api.bodies[0]
    assert body["apiVersion"] == "authentication.k8s.io/v1"
    assert body["kind"] == "TokenReview"
    assert body["spec"]["token"] == tok
    assert not body["spec"].get("audiences")
    hdrs = dict((k.lower(), v) for k, v in api.requests[0]["headers"])
    assert hdrs["authorization"] == "Bearer " + harness.module_token
    assert hdrs["content-type"].split(";")[0].strip() == "application/json"


def test_every_request_is_reviewed_without_cache(harness, start_httpd, api):
    """AuthK8sCache none: each request causes a TokenReview (the cache
    itself: test_cache.py)."""
    srv = start_httpd(location("/echo", "Require valid-user", backend=harness.echo.url + "/echo"),
                      server_conf=harness.default_server_conf(cache="none"))
    tok = api.sa_token("demo", "client")
    with requests.Session() as s:
        for _ in range(3):
            assert s.get(srv.url("/echo/"), headers=bearer(tok), timeout=30).status_code == 200
    assert api.reviews == 3


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "BeArEr"])
def test_scheme_is_case_insensitive(srv, api, scheme):
    tok = api.sa_token("demo", "client")
    r = get(srv, headers={"Authorization": "%s %s" % (scheme, tok)})
    assert r.status_code == 200
    assert api.bodies[0]["spec"]["token"] == tok


def test_no_authorization_header(srv, api, harness):
    r = get(srv)
    assert r.status_code == 401
    assert_challenge(r, error=None)
    assert api.reviews == 0 and api.connections == 0
    assert harness.echo.count == 0


def test_realm_is_authname(srv, api):
    r = get(srv, "/other-realm/")
    assert r.status_code == 401
    assert_challenge(r, error=None, realm="kubeflow")


@pytest.mark.parametrize("value", ["Basic dXNlcjpwYXNz", "Negotiate YIIB", "Token abc",
                                   "Bearertoken"])
def test_other_scheme(srv, api, harness, value):
    r = get(srv, headers={"Authorization": value})
    assert r.status_code == 401
    assert_challenge(r, error=None)
    assert api.reviews == 0
    assert harness.echo.count == 0


@pytest.mark.parametrize("value", [
    "Bearer",
    "Bearer ",
    "Bearer a b",
    "Bearer abc$",
    "Bearer abc\"def",
    "Bearer =abc",
    "Bearer ab=c",
    "Bearer abc,def",
    "Bearer " + "a" * 20000,
], ids=["no-token", "empty", "space", "dollar", "quote", "leading-equals", "inner-equals",
        "comma", "over-16KiB"])
def test_malformed_bearer_is_400(srv, api, harness, value):
    r = get(srv, headers={"Authorization": value})
    assert r.status_code == 400
    assert_challenge(r, error="invalid_request")
    assert api.reviews == 0, "a malformed token must not be sent for review"
    assert harness.echo.count == 0


def test_all_b64token_characters_are_wellformed(srv, api):
    tok = "AZaz09-._~+/=="
    r = get(srv, headers=bearer(tok))
    assert r.status_code == 401
    assert_challenge(r, error="invalid_token")
    assert api.reviews == 1
    assert api.bodies[0]["spec"]["token"] == tok


def test_long_token_under_limit_is_reviewed(srv, api):
    tok = "a" * 8000
    r = get(srv, headers=bearer(tok))
    assert r.status_code == 401
    assert_challenge(r, error="invalid_token")
    assert api.bodies[0]["spec"]["token"] == tok


def test_invalid_token_is_401_invalid_token(srv, api, harness):
    r = get(srv, headers=bearer("not-a-known-token"))
    assert r.status_code == 401
    assert_challenge(r, error="invalid_token")
    assert api.reviews == 1
    assert harness.echo.count == 0
    # status.error is logged, never sent to the client
    assert "go-jose" not in r.text and "invalid bearer token" not in r.text


def test_audience_mismatch_is_401_invalid_token(srv, api, harness):
    tok = api.sa_token("demo", "client", audiences=["https://some-other-service"])
    r = get(srv, headers=bearer(tok))
    assert r.status_code == 401
    assert_challenge(r, error="invalid_token")
    assert harness.echo.count == 0


def test_require_fails_401_insufficient_scope(srv, api, harness):
    tok = api.sa_token("demo", "client")
    r = get(srv, "/deny/", headers=bearer(tok))
    assert r.status_code == 401
    assert_challenge(r, error="insufficient_scope")
    assert api.reviews == 1
    assert harness.echo.count == 0


def test_require_fails_403_with_forbidden_on_failure(srv, api, harness):
    tok = api.sa_token("demo", "client")
    r = get(srv, "/deny403/", headers=bearer(tok))
    assert r.status_code == 403
    assert harness.echo.count == 0


def test_location_without_authtype_untouched(srv, api):
    r = get(srv, "/nothing-here", headers=bearer("whatever"))
    assert r.status_code == 404
    assert api.reviews == 0
