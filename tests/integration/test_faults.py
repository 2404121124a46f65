"""API server failures: 503 (fail closed), retries, refused module
credentials (500), TLS verification."""

import time

import pytest
import requests

from helpers import assert_no_challenge, bearer, free_port, location
from standin import KubeAPI


def conf(harness):
    return location("/echo", "Require valid-user", backend=harness.echo.url + "/echo")


@pytest.fixture(scope="module")
def srv(harness):
    with harness.httpd(conf(harness)) as s:
        yield s


def get(srv, tok, timeout=30):
    return requests.get(srv.url("/echo/"), headers=bearer(tok), timeout=timeout)


def drop_idle(api):
    """Closes the stand-in's side of kept-alive connections, so that the
    next review starts on a fresh connection: libcurl silently resends a
    request once when a *reused* connection dies before any answer, which
    would hide the module's own retry (see test_reset_on_kept_alive_connection)."""
    api.close_connections()
    time.sleep(0.05)


@pytest.mark.parametrize("mode", ["500", "503", "429", "garbage", "control-chars", "reset"])
def test_api_failure_is_503(srv, api, harness, mode):
    tok = api.sa_token("demo", "client")
    drop_idle(api)
    api.set_mode(mode)
    r = get(srv, tok)
    assert r.status_code == 503
    assert_no_challenge(r)
    assert harness.echo.count == 0
    if mode in ("500", "503", "reset"):
        assert api.reviews == 2, "retried once, then 503"
    elif mode == "429":
        assert api.reviews == 2, "retried once, then 503"
    else:
        assert api.reviews == 1, "an unparseable answer is not retried"


def test_control_chars_never_exported(srv, api, harness):
    tok = api.sa_token("demo", "client")
    api.set_mode("control-chars")
    r = get(srv, tok)
    assert r.status_code == 503
    assert "X-Injected" not in r.headers


def test_api_recovers_after_failure(srv, api):
    """Errors are never cached: the next request after a failure works."""
    tok = api.sa_token("demo", "client")
    api.set_mode("500")
    assert get(srv, tok).status_code == 503
    api.set_mode("normal")
    assert get(srv, tok).status_code == 200
    assert api.reviews_of(tok) == 3, "2 failed (one retry), then a fresh review"


def test_webhook_style_200_accepted(srv, api):
    tok = api.sa_token("demo", "client")
    api.set_mode("200")
    r = get(srv, tok)
    assert r.status_code == 200
    assert api.reviews == 1


@pytest.mark.parametrize("mode", ["500", "503", "429", "reset"])
def test_one_failure_is_retried(srv, api, harness, mode):
    tok = api.sa_token("demo", "client")
    drop_idle(api)
    api.fail_next(1, mode)
    r = get(srv, tok)
    assert r.status_code == 200
    assert api.reviews == 2
    assert harness.echo.count == 1
    assert api.bodies[1]["spec"]["token"] == tok


@pytest.mark.parametrize("mode", ["500", "reset"])
def test_retry_uses_fresh_connection(srv, api, harness, mode):
    # a new token per request: a cached review would not reach the API server
    assert get(srv, api.sa_token("demo", "client")).status_code == 200   # warm a connection
    harness.reset()
    assert get(srv, api.sa_token("demo", "client")).status_code == 200
    assert api.reviews == 1
    assert api.connections == 0, "the review connection is kept alive"
    harness.reset()
    api.fail_next(1, mode)
    assert get(srv, api.sa_token("demo", "client")).status_code == 200
    assert api.reviews == 2
    assert api.connections >= 1, "the retry goes on a fresh connection"
    assert api.requests[1]["conn"] != api.requests[0]["conn"]


def test_reset_on_kept_alive_connection(srv, api, harness):
    """A reset on a kept-alive connection is retried once, not more: the
    API server sees at most 2 exchanges for one client request."""
    for _ in range(4):   # new tokens: reviews, not cache hits, warm the connection
        assert get(srv, api.sa_token("demo", "client")).status_code == 200
    assert api.reviews == 4
    harness.reset()
    api.set_mode("reset")
    r = get(srv, api.sa_token("demo", "client"))
    assert r.status_code == 503
    assert api.reviews == 2, "exchanges seen on connections %s" % [q["conn"] for q in api.requests]


@pytest.mark.parametrize("mode", ["500", "429", "reset"])
def test_two_failures_are_503(srv, api, harness, mode):
    tok = api.sa_token("demo", "client")
    drop_idle(api)
    api.fail_next(2, mode)
    r = get(srv, tok)
    assert r.status_code == 503
    assert api.reviews == 2, "exactly one retry"
    assert harness.echo.count == 0
    # and the next request is fine again
    assert get(srv, tok).status_code == 200


def test_module_token_refused_is_500(srv, api, harness):
    tok = api.sa_token("demo", "client")
    api.set_module_tokens(set())
    r = get(srv, tok)
    assert r.status_code == 500
    assert_no_challenge(r)
    assert harness.echo.count == 0
    assert api.reviews == 1, "the token file did not change: no second attempt"
    assert "tokenreviews" in srv.error_log() or "auth-delegator" in srv.error_log()


def test_module_forbidden_is_500(srv, api, harness):
    tok = api.sa_token("demo", "client")
    api.set_forbidden_tokens({harness.module_token})
    r = get(srv, tok)
    assert r.status_code == 500
    assert_no_challenge(r)
    assert harness.echo.count == 0
    assert api.reviews == 1, "a 403 is not retried"


def test_unreachable_api_is_503(harness, start_httpd, api):
    port = free_port()   # nothing listens there
    s = start_httpd(conf(harness),
                    server_conf=harness.default_server_conf(api_url="https://127.0.0.1:%d" % port))
    tok = api.sa_token("demo", "client")
    t = time.time()
    r = get(s, tok)
    assert r.status_code == 503
    assert_no_challenge(r)
    assert time.time() - t < 5
    assert harness.echo.count == 0


def test_timeout_is_503(harness, start_httpd, api):
    s = start_httpd(conf(harness), server_conf=harness.default_server_conf(timeout=1))
    tok = api.sa_token("demo", "client")
    api.set_mode("slow", 4)
    t = time.time()
    r = get(s, tok)
    elapsed = time.time() - t
    assert r.status_code == 503
    assert_no_challenge(r)
    assert elapsed < 2.5, "AuthK8sTimeout 1 bounds the review, retry included (%.2fs)" % elapsed
    assert harness.echo.count == 0


def test_timeout_not_hit_when_fast_enough(harness, start_httpd, api):
    s = start_httpd(conf(harness), server_conf=harness.default_server_conf(timeout=3))
    tok = api.sa_token("demo", "client")
    api.fail_next(1, "slow", 1)
    assert get(s, tok).status_code == 200


def test_ca_mismatch_is_503(harness, start_httpd, api):
    s = start_httpd(conf(harness),
                    server_conf=harness.default_server_conf(ca=harness.pki.other_ca_cert))
    tok = api.sa_token("demo", "client")
    r = get(s, tok)
    assert r.status_code == 503
    assert_no_challenge(r)
    assert api.reviews == 0, "no request may be sent to an unverified server"
    assert harness.echo.count == 0


def test_hostname_is_verified(harness, start_httpd, api):
    """A stand-in on 127.0.0.2 with a certificate naming only localhost and
    127.0.0.1: the CA matches, the name does not."""
    other = KubeAPI(harness.pki, host="127.0.0.2").start()
    try:
        other.set_module_tokens({harness.module_token})
        tok = other.sa_token("demo", "client")
        s = start_httpd(conf(harness), server_conf=harness.default_server_conf(
            api_url="https://127.0.0.2:%d" % other.port))
        r = get(s, tok)
        assert r.status_code == 503
        assert other.reviews == 0
        assert other.connections >= 1, "the stand-in was reached (so TLS refused it)"
    finally:
        other.stop()


def test_hostname_localhost_works(harness, start_httpd, api):
    s = start_httpd(conf(harness), server_conf=harness.default_server_conf(
        api_url="https://localhost:%d" % api.port))
    assert get(s, api.sa_token("demo", "client")).status_code == 200
