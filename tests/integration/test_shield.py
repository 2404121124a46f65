"""Protecting the API server: AuthK8sTokenPrecheck, AuthK8sSignatureCheck,
AuthK8sReviewConcurrency, every row of the contract, counted at the stand-in
(reviews, key fetches, reviews in flight)."""

import concurrent.futures
import glob
import json
import os
import secrets
import time

import pytest
import requests

import helpers
from helpers import HTTPD_THREADS, MPM, assert_challenge, bearer, free_port, location

AUD = "gw.example"

# The key cache and the review cap are per child: under prefork every child
# is a process of one thread, with its own.
per_child = pytest.mark.skipif(MPM == "prefork", reason="a bound per child, and prefork "
                               "serves concurrent requests from several children")


def conf(harness, extra=""):
    e = harness.echo.url
    return (location("/app", "Require valid-user\n" + extra, backend=e + "/app") +
            location("/aud", "AuthK8sAudiences %s\nRequire valid-user\n%s" % (AUD, extra),
                     backend=e + "/aud") +
            location("/noprecheck", "AuthK8sTokenPrecheck Off\nRequire valid-user",
                     backend=e + "/noprecheck"))


def server(harness, mode=None, extra=None):
    lines = []
    if mode:
        lines.append("AuthK8sSignatureCheck %s" % mode)
    if extra:
        lines.append(extra)
    return harness.default_server_conf(extra=lines)


def get(s, path, tok):
    return requests.get(s.url(path), headers=bearer(tok), timeout=30)


@pytest.fixture(scope="module")
def plain(harness):
    with harness.httpd(conf(harness), name="shield-off") as s:
        yield s


@pytest.fixture(scope="module")
def signed(harness):
    with harness.httpd(conf(harness), server_conf=server(harness, "On"),
                       name="shield-on") as s:
        yield s


@pytest.fixture(scope="module")
def required(harness):
    with harness.httpd(conf(harness), server_conf=server(harness, "Require"),
                       name="shield-require") as s:
        yield s


# --------------------------------------------------------------------------
# AuthK8sTokenPrecheck (On by default)

@pytest.mark.parametrize("claims,path,reviewed", [
    ({"lifetime": -120}, "/app", False),               # exp 120 s ago
    ({"lifetime": -61}, "/app", False),
    ({"lifetime": -30}, "/app", True),                  # within the leeway: the API decides
    ({"nbf": 120}, "/app", False),                      # nbf 120 s ahead
    ({"nbf": 30}, "/app", True),
    ({"audiences": ["other"]}, "/aud", False),
    ({"audiences": ["other", AUD]}, "/aud", True),
    ({"audiences": ["other"]}, "/app", True),           # no AuthK8sAudiences: not checked
    ({"lifetime": -120}, "/noprecheck", True),          # AuthK8sTokenPrecheck Off
])
def test_precheck(plain, api, harness, claims, path, reviewed):
    kw = dict(claims)
    if "nbf" in kw:
        kw["nbf"] = int(time.time()) + kw["nbf"]
    tok = api.sa_token("team-a", "runner", **kw)
    mark = plain.log_mark()
    r = get(plain, path, tok)
    assert api.reviews == (1 if reviewed else 0)
    if not reviewed:
        assert r.status_code == 401
        assert_challenge(r, "invalid_token")
        assert any("refused without a review" in l for l in plain.new_log_lines(mark))
        # never cached: refused again, still without a review
        assert get(plain, path, tok).status_code == 401
        assert api.reviews == 0
    assert harness.echo.count == (1 if r.status_code == 200 else 0)


def test_precheck_leaves_other_tokens_alone(plain, api):
    for tok in (api.user_token("alice"), "opaque-" + secrets.token_hex(8),
                "e30.e30.", "a.b.c"):
        get(plain, "/aud", tok)
    assert api.reviews == 4


# --------------------------------------------------------------------------
# AuthK8sSignatureCheck On

def test_no_fetch_at_startup(harness, start_httpd, api):
    start_httpd(conf(harness), server_conf=server(harness, "Require"))
    time.sleep(0.3)
    assert api.key_fetches == []


def test_starts_while_the_api_server_is_down(harness, start_httpd):
    down = "https://127.0.0.1:%d" % free_port()
    s = start_httpd(conf(harness), server_conf=server(harness, "On").replace(
        harness.api.url, down))
    r = get(s, "/app", harness.api.sa_token("team-a", "runner"))
    assert r.status_code == 503


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
def test_valid_signatures_reviewed_and_cached(signed, api, harness, alg):
    tok = api.sa_token("team-a", "runner", alg=alg)
    assert get(signed, "/app", tok).status_code == 200
    assert get(signed, "/app", tok).status_code == 200
    assert api.reviews == 1
    assert harness.echo.count == 2


def flip(tok, i=-5):
    head, sig = tok.rsplit(".", 1)
    c = "A" if sig[i] != "A" else "B"
    return head + "." + sig[:i] + c + sig[i + 1:]


def forgeries(api):
    """Tokens of the cluster's issuer, each registered with the stand-in (as
    if the API server would take them): only the signature check stands
    between them and a review."""
    unpublished = api.issuer.unpublished_key("RS256")
    rs = api.issuer.keys["RS256"]
    good = api.sa_token("team-a", "runner", register=False)
    head, payload, _ = good.split(".")
    out = {
        "flipped-bit": flip(good),
        "unpublished-key-same-kid": api.sa_token("team-a", "runner", register=False,
                                                 key=unpublished,
                                                 header={"alg": "RS256", "kid": rs.kid}),
        "unknown-kid": api.sa_token("team-a", "runner", register=False, key=unpublished),
        "alg-none": api.issuer.token(json.loads(_b64d(payload)), key=rs,
                                     header={"alg": "none", "kid": rs.kid}).rsplit(".", 1)[0]
                    + ".",
        "hs256": _hs256(api, payload, rs),
        "es256-der": _es256_der(api),
        "no-alg": api.sa_token("team-a", "runner", register=False, header={"kid": rs.kid}),
    }
    for tok in out.values():
        api.add_token(tok, "system:serviceaccount:team-a:runner")
    return out


def _b64d(s):
    import base64
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def _hs256(api, payload_b64, rs):
    """HS256 keyed by the RSA public key, the classic algorithm confusion."""
    import base64
    import hashlib
    import hmac
    import subprocess
    pem = subprocess.run(["openssl", "rsa", "-in", rs.path, "-pubout"], check=True,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout
    head = base64.urlsafe_b64encode(json.dumps({"alg": "HS256", "kid": rs.kid}).encode()) \
        .rstrip(b"=").decode()
    si = head + "." + payload_b64
    mac = hmac.new(pem, si.encode(), hashlib.sha256).digest()
    return si + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def _es256_der(api):
    """ES256 with the DER signature openssl writes instead of r||s."""
    import base64
    import subprocess
    ec = api.issuer.keys["ES256"]
    tok = api.sa_token("team-a", "runner", alg="ES256", register=False)
    si = tok.rsplit(".", 1)[0]
    der = subprocess.run(["openssl", "dgst", "-sha256", "-sign", ec.path], input=si.encode(),
                         check=True, stdout=subprocess.PIPE).stdout
    return si + "." + base64.urlsafe_b64encode(der).rstrip(b"=").decode()


def test_forgeries_refused_without_review(signed, plain, api, harness):
    for name, tok in forgeries(api).items():
        n = api.reviews
        r = get(signed, "/app", tok)
        assert r.status_code == 401, name
        assert_challenge(r, "invalid_token")
        assert api.reviews == n, "%s cost a review" % name
        # without signature checks the same token reaches the API server
        get(plain, "/app", tok)
        assert api.reviews == n + 1, name


def test_revoked_token_with_good_signature_refused(signed, api):
    tok = api.sa_token("team-a", "runner")
    api.remove_token(tok)
    r = get(signed, "/app", tok)
    assert r.status_code == 401
    assert api.reviews == 1, "a good signature is no identity: the review decides"


def test_other_issuers_and_opaque_tokens_reviewed_under_on(signed, api):
    other = api.sa_token("team-a", "runner", register=False)
    # another issuer's JWT (not signed by ours): the API server may know it
    import base64
    head, payload, sig = other.split(".")
    claims = json.loads(_b64d(payload))
    claims["iss"] = "https://oidc.example.com"
    p2 = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    foreign = head + "." + p2 + "." + sig
    api.add_token(foreign, "alice@example.com")
    opaque = api.user_token("bob")
    assert get(signed, "/app", foreign).status_code == 200
    assert get(signed, "/app", opaque).status_code == 200
    assert api.reviews == 2


def test_require_refuses_everything_but_the_issuers_jwts(required, api, harness):
    opaque = api.user_token("bob")
    foreign_head = api.sa_token("a", "b", register=False).split(".")
    import base64
    claims = json.loads(_b64d(foreign_head[1]))
    claims["iss"] = "https://oidc.example.com"
    foreign = ".".join([foreign_head[0],
                        base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=")
                        .decode(), foreign_head[2]])
    api.add_token(foreign, "alice")
    for tok in (opaque, foreign, "not.a.jwt"):
        r = get(required, "/app", tok)
        assert r.status_code == 401
        assert_challenge(r, "invalid_token")
    assert api.reviews == 0
    good = api.sa_token("team-a", "runner", alg="ES256")
    assert get(required, "/app", good).status_code == 200
    assert api.reviews == 1


@per_child
def test_rotation_refetches_once(harness, start_httpd, api):
    s = start_httpd(conf(harness), server_conf=server(harness, "On"))
    assert get(s, "/app", api.sa_token("team-a", "runner")).status_code == 200
    assert api.key_fetches == ["/.well-known/openid-configuration", "/openid/v1/jwks"]
    api.issuer.rotate("RS256")
    for _ in range(3):
        assert get(s, "/app", api.sa_token("team-a", "runner")).status_code == 200
    assert len(api.key_fetches) == 4, "one refetch for the new kid: %s" % api.key_fetches


# Debian's faketime package, for the machine's architecture
FAKETIME_LIB = next(iter(glob.glob("/usr/lib/*/faketime/libfaketimeMT.so.1")), "libfaketimeMT")


def faketime_env(clock_file):
    """httpd under libfaketime, its clock ahead of ours by what clock_file
    says ("+660": 11 minutes), read again at every call; after the sanitizer
    runtime when there is one (it must come first)."""
    assert os.path.exists(FAKETIME_LIB), "install faketime (scripts/deps.sh)"
    preload = ":".join(p for p in (helpers.SANITIZER_PRELOAD, FAKETIME_LIB) if p)
    return {"LD_PRELOAD": preload, "FAKETIME_TIMESTAMP_FILE": clock_file,
            "FAKETIME_NO_CACHE": "1"}


def set_clock(clock_file, offset):
    with open(clock_file + ".new", "w") as f:
        f.write("%+d\n" % offset)
    os.replace(clock_file + ".new", clock_file)


@per_child
@pytest.mark.skipif(helpers.SANITIZER_PRELOAD is not None,
                    reason="libfaketime and the ASan runtime together hang httpd's start")
def test_keys_refreshed_every_10_minutes(harness, start_httpd, api):
    """The issuer's keys are fetched again 10 minutes after the last fetch,
    with no new kid asking for it: a key the cluster withdrew stops being
    accepted then. Before, the set in hand is used without a fetch. httpd's
    clock is moved with libfaketime; the stand-in's stays."""
    clock = os.path.join(harness.workdir, "clock-%s" % secrets.token_hex(4))
    set_clock(clock, 0)
    s = start_httpd(conf(harness), server_conf=server(harness, "On"), env=faketime_env(clock))
    old_key_token = api.sa_token("team-a", "runner")
    assert get(s, "/app", old_key_token).status_code == 200
    assert api.key_fetches == ["/.well-known/openid-configuration", "/openid/v1/jwks"]
    # the cluster rotates: the key of old_key_token is no longer published
    api.issuer.rotate("RS256")

    # 9 minutes on (the review's 120 s cache entry has expired): the keys in
    # hand still verify the token, which the API server still accepts
    set_clock(clock, 540)
    n = api.reviews
    assert get(s, "/app", old_key_token).status_code == 200
    assert api.reviews == n + 1
    assert len(api.key_fetches) == 2, api.key_fetches

    # 11 minutes on: the periodic refresh; the withdrawn key is gone, the
    # token is refused as forged without a review
    set_clock(clock, 660)
    n = api.reviews
    r = get(s, "/app", old_key_token)
    assert r.status_code == 401
    assert_challenge(r, "invalid_token")
    assert api.reviews == n
    assert api.key_fetches[2:4] == ["/.well-known/openid-configuration", "/openid/v1/jwks"], \
        api.key_fetches
    # a token of the new key is verified with the refreshed set: no fetch
    fetched = len(api.key_fetches)
    assert get(s, "/app", api.sa_token("team-a", "runner")).status_code == 200
    assert len(api.key_fetches) == fetched, api.key_fetches


@per_child
def test_unknown_kid_burst_is_bounded(harness, start_httpd, api):
    s = start_httpd(conf(harness), server_conf=server(harness, "On"), threads=8)
    unpublished = api.issuer.unpublished_key("RS256")
    toks = [api.sa_token("team-a", "runner", register=False, key=unpublished,
                         header={"alg": "RS256", "kid": "kid-%d" % i}) for i in range(40)]
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        codes = list(ex.map(lambda t: get(s, "/app", t).status_code, toks))
    assert codes == [401] * 40
    assert api.reviews == 0
    # the first need, then at most one refresh for an unknown kid per 10 s
    assert len(api.key_fetches) <= 4, api.key_fetches


@pytest.mark.parametrize("fault", ["forbidden", "500", "garbage", "reset"])
def test_key_set_unavailable(harness, start_httpd, api, fault):
    on = start_httpd(conf(harness), server_conf=server(harness, "On"))
    req = start_httpd(conf(harness), server_conf=server(harness, "Require"))
    if fault == "forbidden":
        api.keys_forbidden = True
    else:
        api.set_mode(fault, kind="keys")
    tok = api.sa_token("team-a", "runner")
    mark = on.log_mark()
    assert get(on, "/app", tok).status_code == 200, "On: reviewed as if Off"
    assert any("cannot be had" in l for l in on.new_log_lines(mark))
    r = get(req, "/app", tok)
    assert r.status_code == 503
    fetched = len(api.key_fetches)
    # a failed fetch is not retried for every request (in each child: under
    # prefork, the other requests may meet children that did not try yet)
    for _ in range(5):
        get(req, "/app", tok)
    if MPM == "prefork":
        assert len(api.key_fetches) - fetched <= HTTPD_THREADS
    else:
        assert len(api.key_fetches) == fetched


@per_child
@pytest.mark.parametrize("mode,status", [("On", 200), ("Require", 503)])
def test_key_set_that_cannot_be_refreshed(harness, start_httpd, api, mode, status):
    """A rotated key while the key set cannot be fetched again: the set may
    be what is out of date, so the token is not refused as forged; On
    reviews it, Require answers 503."""
    s = start_httpd(conf(harness), server_conf=server(harness, mode))
    assert get(s, "/app", api.sa_token("team-a", "runner")).status_code == 200
    api.set_mode("503", kind="keys")
    api.issuer.rotate("RS256")
    tok = api.sa_token("team-a", "runner")
    n = api.reviews
    assert get(s, "/app", tok).status_code == status
    assert api.reviews == n + (1 if status == 200 else 0)


def test_key_set_recovers(harness, start_httpd, api):
    s = start_httpd(conf(harness), server_conf=server(harness, "Require"))
    api.set_mode("503", kind="keys")
    tok = api.sa_token("team-a", "runner")
    assert get(s, "/app", tok).status_code == 503
    api.set_mode("normal", kind="keys")
    time.sleep(10.5)   # the retry interval after a failed fetch
    assert get(s, "/app", tok).status_code == 200


# --------------------------------------------------------------------------
# AuthK8sReviewConcurrency

@per_child
def test_concurrency_cap(harness, start_httpd, api):
    s = start_httpd(conf(harness), server_conf=server(harness, extra="AuthK8sReviewConcurrency 2"),
                    threads=16)
    cached = api.sa_token("team-a", "cached")
    assert get(s, "/app", cached).status_code == 200
    api.reset()
    api.set_module_tokens({harness.module_token})
    api.set_mode("slow", 2)
    toks = [api.sa_token("team-a", "r%d" % i) for i in range(8)]

    def one(t):
        t0 = time.time()
        r = get(s, "/app", t)
        return r.status_code, r.headers.get("Retry-After"), time.time() - t0

    with concurrent.futures.ThreadPoolExecutor(9) as ex:
        futs = [ex.submit(one, t) for t in toks]
        time.sleep(0.5)
        t0 = time.time()
        r = get(s, "/app", cached)
        cached_time = time.time() - t0
        results = [f.result() for f in futs]
    assert r.status_code == 200 and cached_time < 1.0, "cached verdicts unaffected"
    ok = [x for x in results if x[0] == 200]
    shed = [x for x in results if x[0] == 503]
    assert len(ok) == 2 and len(shed) == 6, results
    assert all(x[1] == "1" and x[2] < 1.0 for x in shed), shed
    assert api.max_in_flight <= 2
