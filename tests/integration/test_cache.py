"""The review cache (INTERFACE.md "Cache", AuthK8sCache*, AuthK8sStaleIfError):
hits and misses counted at the API stand-in, TTLs read per location, the
token's own exp, negative entries, errors never cached, keys per audience
set, coalescing, shared memcached/redis between two httpds, tampered shared
entries, stale-if-error, graceful restart, startup errors."""

import concurrent.futures
import os
import re
import secrets
import threading
import time

import pytest
import requests

import helpers

from helpers import (assert_challenge, assert_no_challenge, bearer, echo_headers,
                     header_values, location)

POD_NAME = "authentication.kubernetes.io/pod-name"
POD_UID = "authentication.kubernetes.io/pod-uid"
POD_NAME_H = "X-Remote-Extra-authentication.kubernetes.io%2Fpod-name"
POD_UID_H = "X-Remote-Extra-authentication.kubernetes.io%2Fpod-uid"


def conf(harness):
    e = harness.echo.url
    locs = [
        ("/echo", ""),
        ("/ttl1", "AuthK8sCacheTTL 1"),
        ("/neg0", "AuthK8sNegativeCacheTTL 0"),
        ("/aud-ab", "AuthK8sAudiences aud-a aud-b"),
        ("/aud-ba", "AuthK8sAudiences aud-b aud-a"),
        ("/aud-a", "AuthK8sAudiences aud-a"),
        ("/stale", "AuthK8sCacheTTL 1\nAuthK8sNegativeCacheTTL 1\nAuthK8sStaleIfError 3"),
    ]
    return "".join(location(p, "Require valid-user\n" + body, backend=e + p) for p, body in locs)


@pytest.fixture(scope="module")
def srv(harness):
    """One httpd with the default cache (shmcb) and locations of several TTLs."""
    with harness.httpd(conf(harness), name="cache") as s:
        yield s


def get(srv, path, tok, timeout=30):
    return requests.get(srv.url(path), headers=bearer(tok), timeout=timeout)


def assert_identity(r, user):
    """The backend got exactly this identity (user: api.user_of(token),
    taken before the token is removed)."""
    hs = echo_headers(r)
    assert header_values(hs, "X-Remote-User") == [user["username"]], hs
    assert header_values(hs, "X-Remote-Group") == user.get("groups", []), hs
    extra = user.get("extra", {})
    assert header_values(hs, POD_NAME_H) == extra.get(POD_NAME, []), hs
    assert header_values(hs, POD_UID_H) == extra.get(POD_UID, []), hs


def sleep_until(t):
    d = t - time.time()
    if d > 0:
        time.sleep(d)


def secret_file(harness, nbytes=48):
    return harness.file("cache-secret-%s" % secrets.token_hex(4),
                        secrets.token_hex(nbytes)[:nbytes], 0o644)


def shared_server_conf(harness, cache, secret):
    return harness.default_server_conf(cache=cache.spec,
                                       extra='AuthK8sCacheSecretFile "%s"' % secret)


# --------------------------------------------------------------------------
# Hits, misses, TTLs


def test_same_token_twice_one_review(srv, api, harness):
    a = api.sa_token("team-a", "one")
    b = api.sa_token("team-b", "two")
    ua, ub = api.user_of(a), api.user_of(b)
    for _ in range(2):
        r = get(srv, "/echo/", a)
        assert r.status_code == 200
        assert_identity(r, ua)
    assert api.reviews_of(a) == 1
    r = get(srv, "/echo/", b)        # another token: its own review, its own identity
    assert r.status_code == 200
    assert_identity(r, ub)
    r = get(srv, "/echo/", b)
    assert_identity(r, ub)
    assert api.reviews_of(b) == 1
    assert api.reviews == 2
    assert harness.echo.count == 4


def test_cache_none_reviews_every_request(harness, start_httpd, api):
    s = start_httpd(conf(harness), server_conf=harness.default_server_conf(cache="none"))
    tok = api.sa_token("team-a", "one")
    bad = "unknown-" + secrets.token_hex(8)
    for _ in range(3):
        assert get(s, "/echo/", tok).status_code == 200
        r = get(s, "/echo/", bad)
        assert r.status_code == 401
        assert_challenge(r, error="invalid_token")
    assert api.reviews_of(tok) == 3
    assert api.reviews_of(bad) == 3


@pytest.mark.parametrize("size,parts", [(600000, 1), (4194304, 4), (67108864, 16)])
def test_shmcb_in_parts(harness, start_httpd, api, size, parts):
    """shmcb scans a subcache linearly under its mutex: a cache of 2 MiB or
    more is made of up to 16 parts, each a shmcb of its own with its own
    mutex (one lock file each with `Mutex flock:`). Every part stores and
    finds its keys: with no child copies, each token is reviewed once."""
    locks = harness.subdir("locks-%d" % size)
    server = harness.default_server_conf(
        cache="shmcb:%s(%d)" % (os.path.join(harness.workdir, "shm-%d" % size), size),
        extra=["Mutex flock:%s k8ssa-cache" % locks, "AuthK8sChildCacheEntries 0"])
    s = start_httpd(location("/files", "Require valid-user"), server_conf=server)
    # 160 keys: every one of 16 parts gets some but with odds of 1 in 2000
    tokens = [api.user_token("part-%d" % i) for i in range(160)]
    with requests.Session() as session:     # kept alive: 320 requests in a second
        for _ in range(2):
            for tok in tokens:
                r = session.get(s.url("/files/"), headers=bearer(tok), timeout=30)
                assert r.status_code == 404     # authenticated; no such directory
    assert api.reviews == len(tokens)
    # counted once children serve: httpd reads its configuration twice at
    # startup, and the first pass's lock files go with its pool
    assert len(os.listdir(locks)) == parts, os.listdir(locks)


@pytest.mark.parametrize("size,says", [("lots", "numerical"), ("4294967296", "size has to be"),
                                       ("99999999999999999999999", "size has to be")])
def test_shmcb_bad_size_still_refused(apache_configtest, harness, size, says):
    """Sizes shmcb refuses are refused whole, not split into parts it would
    take (4 GiB in 16 parts of 256 MiB)."""
    rc, out = apache_configtest(loc(), server_conf=harness.default_server_conf(
        cache="shmcb:%s(%s)" % (os.path.join(harness.workdir, "shm"), size)))
    assert rc != 0, out
    assert "AuthK8sCache" in out and says in out, out


def test_shmcb_without_a_path_is_one_part(harness, start_httpd, api):
    """shmcb:(BYTES): the parts would have no file names; one shmcb, as
    configured."""
    locks = harness.subdir("locks-nopath")
    server = harness.default_server_conf(cache="shmcb:(8388608)", extra=[
        "Mutex flock:%s k8ssa-cache" % locks, "AuthK8sChildCacheEntries 0"])
    s = start_httpd(conf(harness), server_conf=server)
    tok = api.sa_token("team-a", "nopath")
    for _ in range(2):
        assert get(s, "/echo/", tok).status_code == 200
    assert api.reviews == 1
    assert len(os.listdir(locks)) == 1, os.listdir(locks)


def test_ttl_expires(srv, api):
    tok = api.sa_token("team-a", "ttl")
    u = api.user_of(tok)
    assert get(srv, "/ttl1/", tok).status_code == 200
    assert_identity(get(srv, "/ttl1/", tok), u)
    assert api.reviews_of(tok) == 1, "within AuthK8sCacheTTL 1"
    time.sleep(1.2)
    r = get(srv, "/ttl1/", tok)
    assert r.status_code == 200
    assert_identity(r, u)
    assert api.reviews_of(tok) == 2, "reviewed again after AuthK8sCacheTTL 1"


def test_ttl_applies_when_read(srv, api):
    """An entry written through a location with TTL 1 serves a location with
    the default TTL (120) after that second has passed."""
    tok = api.sa_token("team-a", "shared-ttl")
    u = api.user_of(tok)
    assert get(srv, "/ttl1/", tok).status_code == 200
    assert_identity(get(srv, "/echo/", tok), u)
    assert api.reviews_of(tok) == 1
    time.sleep(1.2)
    assert_identity(get(srv, "/echo/", tok), u)
    assert api.reviews_of(tok) == 1, "TTL 120 where it is read"
    assert_identity(get(srv, "/ttl1/", tok), u)
    assert api.reviews_of(tok) == 2, "TTL 1 where it is read"


def test_jwt_exp_caps_ttl(srv, api):
    """TTL 120, but the token's exp comes in 1-2 s: reviewed again after exp
    (and the stand-in then rejects it)."""
    exp = int(time.time()) + 2
    tok = api.sa_token("team-a", "short-lived", exp=exp)
    u = api.user_of(tok)
    assert_identity(get(srv, "/echo/", tok), u)
    assert_identity(get(srv, "/echo/", tok), u)
    assert api.reviews_of(tok) == 1
    sleep_until(exp + 0.3)
    r = get(srv, "/echo/", tok)
    assert r.status_code == 401, "an expired token must not be served from the cache"
    assert_challenge(r, error="invalid_token")
    assert api.reviews_of(tok) == 2


def test_negative_cache(srv, api, harness):
    bad = "unknown-" + secrets.token_hex(8)
    for _ in range(2):
        r = get(srv, "/echo/", bad)
        assert r.status_code == 401
        assert_challenge(r, error="invalid_token")
    assert api.reviews_of(bad) == 1, "AuthK8sNegativeCacheTTL 10 (default)"
    # a known token the API server rejects for its audiences: negative too
    wrong_aud = api.sa_token("team-a", "x", audiences=["https://elsewhere"])
    for _ in range(2):
        assert get(srv, "/echo/", wrong_aud).status_code == 401
    assert api.reviews_of(wrong_aud) == 1
    assert harness.echo.count == 0


def test_negative_cache_off(srv, api, harness):
    bad = "unknown-" + secrets.token_hex(8)
    for _ in range(2):
        r = get(srv, "/neg0/", bad)
        assert r.status_code == 401
        assert_challenge(r, error="invalid_token")
    assert api.reviews_of(bad) == 2, "AuthK8sNegativeCacheTTL 0"
    assert harness.echo.count == 0


def test_server_error_not_cached(srv, api):
    tok = api.sa_token("team-a", "flaky")
    u = api.user_of(tok)
    api.fail_next(2, "500")
    r = get(srv, "/echo/", tok)
    assert r.status_code == 503
    assert_no_challenge(r)
    assert api.reviews_of(tok) == 2, "one retry"
    r = get(srv, "/echo/", tok)
    assert r.status_code == 200
    assert_identity(r, u)
    assert api.reviews_of(tok) == 3, "the 500 was not cached"
    assert_identity(get(srv, "/echo/", tok), u)
    assert api.reviews_of(tok) == 3, "the success was"


@pytest.mark.parametrize("mode", ["garbage", "429", "503"])
def test_other_errors_not_cached(srv, api, mode):
    tok = api.sa_token("team-a", "flaky-" + mode)
    api.set_mode(mode)
    assert get(srv, "/echo/", tok).status_code == 503
    n = api.reviews_of(tok)
    assert n >= 1
    api.set_mode("normal")
    assert get(srv, "/echo/", tok).status_code == 200
    assert api.reviews_of(tok) == n + 1


def test_audiences_in_key(srv, api):
    tok = api.sa_token("team-a", "aud", audiences=["aud-a", "aud-b"])
    u = api.user_of(tok)
    assert_identity(get(srv, "/aud-ab/", tok), u)
    assert api.reviews_of(tok) == 1
    assert_identity(get(srv, "/aud-ba/", tok), u)
    assert api.reviews_of(tok) == 1, "the same audiences in another order share the entry"
    assert_identity(get(srv, "/aud-a/", tok), u)
    assert api.reviews_of(tok) == 2, "other audiences: another key"
    assert_identity(get(srv, "/aud-a/", tok), u)
    assert api.reviews_of(tok) == 2


def test_audiences_entry_not_reused_elsewhere(srv, api, harness):
    """A token accepted for aud-a is not accepted from the cache where the
    location asks for the API server's audiences: that is a review, and a 401."""
    tok = api.sa_token("team-a", "aud-only", audiences=["aud-a"])
    assert get(srv, "/aud-a/", tok).status_code == 200
    r = get(srv, "/echo/", tok)
    assert r.status_code == 401
    assert_challenge(r, error="invalid_token")
    assert api.reviews_of(tok) == 2
    assert harness.echo.count == 1


# --------------------------------------------------------------------------
# Coalescing


@pytest.mark.skipif(helpers.MPM == "prefork", reason="requests coalesce within one child; a "
                    "prefork child serves one request at a time")
def test_concurrent_requests_share_one_review(harness, start_httpd, api):
    s = start_httpd(conf(harness), threads=64)
    tok = api.sa_token("team-a", "crowd")
    u = api.user_of(tok)
    api.set_mode("slow", 0.5)
    n = 50
    barrier = threading.Barrier(n)

    def one(_):
        barrier.wait(10)
        return get(s, "/echo/", tok)

    with concurrent.futures.ThreadPoolExecutor(n) as ex:
        rs = list(ex.map(one, range(n)))
    assert [r.status_code for r in rs] == [200] * n
    for r in rs:
        assert_identity(r, u)
    assert api.reviews_of(tok) == 1, "%d concurrent requests, one review" % n
    assert harness.echo.count == n


# --------------------------------------------------------------------------
# Shared caches: memcached, redis


def wait_new_keys(cache, before, n=1, timeout=3):
    deadline = time.time() + timeout
    while True:
        new = sorted(set(cache.keys()) - set(before))
        if len(new) >= n or time.time() > deadline:
            return new
        time.sleep(0.05)


@pytest.mark.parametrize("backend", ["memcached", "redis"])
def test_shared_cache_between_hosts(harness, api, request, backend):
    cache = request.getfixturevalue(backend)
    secret = secret_file(harness)
    sc = shared_server_conf(harness, cache, secret)
    with harness.httpd(conf(harness), server_conf=sc, name="host1") as h1, \
            harness.httpd(conf(harness), server_conf=sc, name="host2") as h2:
        tok = api.sa_token("team-a", "roaming")
        u = api.user_of(tok)
        before = cache.keys()
        r = get(h1, "/echo/", tok)
        assert r.status_code == 200
        assert_identity(r, u)
        assert api.reviews_of(tok) == 1
        new = wait_new_keys(cache, before)
        assert len(new) == 1, new
        r = get(h2, "/echo/", tok)
        assert r.status_code == 200
        assert_identity(r, u)
        assert api.reviews_of(tok) == 1, "host2 served host1's review from %s" % backend
        # the raw token is neither the key nor in the entry
        for k in cache.keys():
            assert tok not in k and tok[-40:] not in k
            assert tok.encode()[-40:] not in cache.get(k)[1]
    # another secret: other keys, no sharing
    other = shared_server_conf(harness, cache, secret_file(harness))
    with harness.httpd(conf(harness), server_conf=other, name="host3") as h3:
        r = get(h3, "/echo/", tok)
        assert r.status_code == 200
        assert_identity(r, u)
        assert api.reviews_of(tok) == 2


TAMPERS = ["swap", "garbage", "truncated", "short", "empty"]


@pytest.mark.parametrize("backend", ["memcached", "redis"])
def test_tampered_shared_entries(harness, api, request, backend):
    """Entries changed in the shared cache (random bytes, cut, another
    token's entry copied under this key, ...) are misses with a warning and
    a fresh review: never an identity that is not the token's own. Each
    tampered token is new to host2, which must go to the shared cache."""
    cache = request.getfixturevalue(backend)
    sc = shared_server_conf(harness, cache, secret_file(harness))
    with harness.httpd(conf(harness), server_conf=sc, name="writer") as h1, \
            harness.httpd(conf(harness), server_conf=sc, name="reader") as h2:
        donor = api.sa_token("team-b", "donor")
        before = cache.keys()
        assert get(h1, "/echo/", donor).status_code == 200
        donor_keys = wait_new_keys(cache, before)
        assert len(donor_keys) == 1, donor_keys
        donor_value = cache.get(donor_keys[0])
        assert donor_value is not None
        for how in TAMPERS:
            tok = api.sa_token("team-a", "victim-" + how)
            u = api.user_of(tok)
            before = cache.keys()
            assert get(h1, "/echo/", tok).status_code == 200
            keys = wait_new_keys(cache, before)
            assert len(keys) == 1, (how, keys)
            flags, value = cache.get(keys[0])
            if how == "swap":
                flags, value = donor_value
            elif how == "garbage":
                value = secrets.token_bytes(len(value))
            elif how == "truncated":
                value = value[:len(value) // 2]
            elif how == "short":
                value = b"garbage"
            else:
                value = b""
            cache.set(keys[0], value, flags=flags)
            assert cache.get(keys[0])[1] == value
            mark = h2.log_mark()
            r = get(h2, "/echo/", tok)
            assert r.status_code == 200, (how, r.status_code)
            assert_identity(r, u)
            assert api.reviews_of(tok) == 2, "%s entry: a miss and a fresh review" % how
            warnings = h2.module_warnings(mark)
            assert warnings, "%s entry: no warning in the error log" % how
            # host2 stored its fresh review: host1 can use it... or its own;
            # either way the identity is the token's
            assert_identity(get(h2, "/echo/", tok), u)
            assert api.reviews_of(tok) == 2
        # a valid entry copied under the key of a rejected token: still rejected
        bad = "unknown-" + secrets.token_hex(8)
        before = cache.keys()
        assert get(h1, "/echo/", bad).status_code == 401
        keys = wait_new_keys(cache, before)
        assert len(keys) == 1, ("negative entry", keys)
        cache.set(keys[0], donor_value[1], flags=donor_value[0])
        mark = h2.log_mark()
        r = get(h2, "/echo/", bad)
        assert r.status_code == 401, "another token's entry made a rejected token valid"
        assert_challenge(r, error="invalid_token")
        assert api.reviews_of(bad) == 2
        assert h2.module_warnings(mark)
        assert api.reviews_of(donor) == 1
        assert harness.echo.count == 1 + 3 * len(TAMPERS)
        for h in (h1, h2):
            assert donor not in h.error_log()


# --------------------------------------------------------------------------
# Stale if error


def test_stale_if_error(srv, api):
    """/stale: TTL 1, negative TTL 1, AuthK8sStaleIfError 3."""
    t0 = time.time()
    good = api.sa_token("team-a", "stale-ok")
    exp = int(t0) + 2                    # 1-2 s from now, before the stale window ends
    short = api.sa_token("team-a", "stale-exp", exp=exp)
    revoked = api.sa_token("team-a", "stale-revoked")
    ug, us = api.user_of(good), api.user_of(short)
    for tok, u in ((good, ug), (short, us), (revoked, api.user_of(revoked))):
        assert_identity(get(srv, "/stale/", tok), u)
    assert api.reviews == 3

    # the revoked token: rejected once its positive entry is over
    sleep_until(t0 + 1.2)
    api.remove_token(revoked)
    r = get(srv, "/stale/", revoked)
    assert r.status_code == 401
    assert api.reviews_of(revoked) == 2

    # all entries past their TTLs (the negative one too), within the window
    sleep_until(max(t0 + 2.4, exp + 0.2))
    api.set_mode("500")
    mark = srv.log_mark()
    r = get(srv, "/stale/", good)
    assert r.status_code == 200, "a stale positive review while the API server fails"
    assert_identity(r, ug)
    assert api.reviews_of(good) == 3, "the API server was asked (and the retry) first"
    warnings = srv.module_warnings(mark)
    assert [w for w in warnings if "stale" in w.lower()], srv.new_log_lines(mark)

    r = get(srv, "/stale/", short)
    assert r.status_code == 503, "never stale past the token's exp"
    assert_no_challenge(r)
    r = get(srv, "/stale/", revoked)
    assert r.status_code == 503, "never stale for a rejected token"
    assert time.time() < t0 + 3.9, "the checks above ran within the window"

    # past TTL + stale window
    sleep_until(t0 + 4.3)
    r = get(srv, "/stale/", good)
    assert r.status_code == 503, "past AuthK8sStaleIfError"
    assert_no_challenge(r)
    api.set_mode("normal")
    assert_identity(get(srv, "/stale/", good), ug)


def test_no_stale_by_default(srv, api):
    tok = api.sa_token("team-a", "no-stale")
    assert get(srv, "/ttl1/", tok).status_code == 200
    time.sleep(1.2)
    api.set_mode("500")
    assert get(srv, "/ttl1/", tok).status_code == 503


# --------------------------------------------------------------------------
# Graceful restart


def test_graceful_restart_under_traffic(harness, start_httpd, api):
    s = start_httpd(conf(harness))
    pool = [api.sa_token("team-a", "g%d" % i) for i in range(8)]
    users = {t: api.user_of(t) for t in pool}
    stop = threading.Event()
    results = []
    lock = threading.Lock()

    def client(k):
        i = 0
        while not stop.is_set():
            i += 1
            if i % 2:
                tok = pool[(i + k) % len(pool)]       # cached after the first use
            else:
                tok = api.sa_token("team-a", "new-%d-%d" % (k, i))
                with lock:
                    users[tok] = api.user_of(tok)
            try:
                r = requests.get(s.url("/echo/"), headers=dict(bearer(tok), Connection="close"),
                                 timeout=30)
                with lock:
                    results.append((tok, r.status_code, r.text if r.status_code != 200 else
                                    header_values(echo_headers(r), "X-Remote-User")))
            except requests.RequestException as e:
                with lock:
                    results.append((tok, None, repr(e)))

    threads = [threading.Thread(target=client, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    try:
        time.sleep(0.7)
        s.graceful()
        time.sleep(1.5)
        s.graceful()
        time.sleep(1.5)
    finally:
        stop.set()
        for t in threads:
            t.join(60)
    assert s.proc.poll() is None, "httpd exited:\n" + s.logs()
    bad = [(st, info) for tok, st, info in results if st != 200]
    assert not bad, "%d of %d requests failed: %r" % (len(bad), len(results), bad[:5])
    assert len(results) >= 30, len(results)
    for tok, st, info in results:
        assert info == [users[tok]["username"]]
    log = s.error_log()
    # event AH00493, worker AH00297 ("SIGUSR1 received.  Doing graceful
    # restart"), prefork AH00171 ("Graceful restart requested, doing restart")
    restarts = len(re.findall(r"Doing graceful restart|Graceful restart requested", log))
    assert restarts == 2, "two graceful restarts (SIGUSR1 received):\n" + log[-3000:]
    assert log.count("resuming normal operations") == 3, log[-3000:]
    assert "exit signal" not in log and "Segmentation" not in log, log[-3000:]
    tok = api.sa_token("team-a", "after")
    assert get(s, "/echo/", tok).status_code == 200
    assert get(s, "/echo/", tok).status_code == 200
    assert api.reviews_of(tok) == 1, "the cache works after the graceful restarts"


# --------------------------------------------------------------------------
# Startup errors (apache2 -t)


def loc():
    return location("/p", "Require valid-user")


@pytest.mark.parametrize("provider", ["memcache:127.0.0.1:11211", "redis:127.0.0.1:6379"])
def test_shared_provider_needs_secret_file(apache_configtest, harness, provider):
    rc, out = apache_configtest(loc(), server_conf=harness.default_server_conf(cache=provider))
    assert rc != 0, out
    assert "AuthK8sCacheSecretFile" in out, out
    secret = secret_file(harness, 32)
    rc, out = apache_configtest(loc(), server_conf=harness.default_server_conf(
        cache=provider, extra='AuthK8sCacheSecretFile "%s"' % secret))
    assert rc == 0, out
    assert "Syntax OK" in out


def test_secret_file_too_short(apache_configtest, harness):
    secret = harness.file("short-secret", "0123456789")   # 10 bytes
    assert os.path.getsize(secret) == 10
    rc, out = apache_configtest(loc(), server_conf=harness.default_server_conf(
        cache="memcache:127.0.0.1:11211", extra='AuthK8sCacheSecretFile "%s"' % secret))
    assert rc != 0, out
    assert "AuthK8sCacheSecretFile" in out, out


def test_unknown_provider(apache_configtest, harness):
    rc, out = apache_configtest(loc(), server_conf=harness.default_server_conf(cache="nosuch"))
    assert rc != 0, out
    assert "AuthK8sCache" in out, out


def test_default_shmcb_needs_its_module(apache_configtest, harness):
    rc, out = apache_configtest(loc(), socache=False)
    assert rc != 0, out
    assert "AuthK8sCache" in out, out
    rc, out = apache_configtest(loc(), server_conf=harness.default_server_conf(cache="none"),
                                socache=False)
    assert rc == 0, out
    assert "Syntax OK" in out


@pytest.mark.parametrize("line,directive", [
    ("AuthK8sCacheTTL abc", "AuthK8sCacheTTL"),
    ("AuthK8sCacheTTL -1", "AuthK8sCacheTTL"),
    ("AuthK8sNegativeCacheTTL x", "AuthK8sNegativeCacheTTL"),
    ("AuthK8sNegativeCacheTTL -5", "AuthK8sNegativeCacheTTL"),
    ("AuthK8sStaleIfError soon", "AuthK8sStaleIfError"),
    ("AuthK8sStaleIfError -1", "AuthK8sStaleIfError"),
])
def test_directory_ttl_errors(apache_configtest, line, directive):
    rc, out = apache_configtest(location("/p", "Require valid-user\n" + line))
    assert rc != 0, out
    assert directive in out, out


# --------------------------------------------------------------------------
# A child that cannot attach to the cache mutex


def test_mutex_attach_failure_turns_the_cache_off_for_every_server(harness, start_httpd, api):
    """When child_init cannot attach to the k8ssa-cache mutex, every server
    record sharing that cache stops using it in the child: d8c4963 turned off
    only the first, and a virtual host with a record of its own kept using
    shmcb without cross-process locking."""
    import signal
    locks = harness.subdir("locks")
    port2 = helpers.free_port()
    e = harness.echo.url
    conf_text = "\n".join([
        "Mutex flock:%s k8ssa-cache" % locks,
        "Listen 127.0.0.1:%d" % port2,
        "<VirtualHost 127.0.0.1:%d>" % port2,
        "    AuthK8sTimeout 7",           # a server record of its own
        location("/echo/", "Require valid-user", backend=e + "/echo/"),
        "</VirtualHost>",
        location("/echo/", "Require valid-user", backend=e + "/echo/"),
    ])
    s = start_httpd(conf_text)
    vhost = "http://127.0.0.1:%d/echo/" % port2
    tok = api.sa_token("team-a", "before")
    for _ in range(2):
        assert requests.get(vhost, headers=bearer(tok), timeout=30).status_code == 200
    assert api.reviews_of(tok) == 1, "the cache works while the mutex does"

    # The lock files go; the next children cannot open them.
    for f in os.listdir(locks):
        os.unlink(os.path.join(locks, f))
    mark = s.log_mark()
    children = [int(p) for p in open("/proc/%d/task/%d/children" % (s.proc.pid, s.proc.pid))
                .read().split()]
    assert children
    for pid in children:
        os.kill(pid, signal.SIGKILL)
    deadline = time.time() + 15
    while not any("K8SSA013" in l for l in s.new_log_lines(mark)):
        assert time.time() < deadline, "\n".join(s.new_log_lines(mark))
        time.sleep(0.1)

    tok = api.sa_token("team-a", "after")
    for url in (vhost, s.url("/echo/")):
        api.reset()
        for _ in range(2):
            r = requests.get(url, headers=bearer(tok), timeout=30)
            assert r.status_code == 200
        assert api.reviews_of(tok) == 2, "%s: the cache must be off without its mutex" % url
