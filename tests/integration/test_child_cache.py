"""Each child's own copies of verdicts (AuthK8sChildCacheEntries) keep every
cache rule of the contract.

test_cache.py's rules (TTLs applied where an entry is read, the token's exp,
negative TTLs, stale-if-error, shared memcached/redis between two hosts,
graceful restarts) run with copies on, the default, under event, worker and
prefork. This file adds what only copies could break, and proves the copies
are used (the module's trace line for a verdict from the child's copy):

- a review anywhere on the host (another child, another location with a
  shorter TTL) ends every child's copy before its next request: a revoked
  token is refused no later than when each request read the socache;
- a cache shared between hosts gets no copies: another host's review is seen
  at once;
- a graceful restart keeps the rules; AuthK8sChildCacheEntries 0 turns the
  copies off; the directive's errors.

Several children only under prefork (the threaded MPMs run one child in this
suite): there, requests on new connections spread over the children."""

import os
import re
import secrets
import time

import pytest
import requests

import helpers
from helpers import bearer, echo_headers, header_values, location

COPY_LINE = "from this child's copy"
TRACE = "LogLevel warn auth_k8ssa:trace1"


def conf(harness):
    e = harness.echo.url
    locs = [("/long", ""), ("/short", "AuthK8sCacheTTL 1")]
    return "".join(location(p, "Require valid-user\n" + body, backend=e + p)
                   for p, body in locs)


def server_conf(harness, extra=()):
    return harness.default_server_conf(extra=[TRACE] + list(extra))


def get(srv, path, tok, close=True):
    headers = bearer(tok)
    if close:
        headers["Connection"] = "close"    # a new connection: any child may take it
    return requests.get(srv.url(path), headers=headers, timeout=30)


def copy_pids(srv, mark):
    """The pids of the children that served a verdict from their own copy."""
    return {m.group(1) for m in
            (re.search(r"\[pid (\d+)", line) for line in srv.new_log_lines(mark)
             if COPY_LINE in line) if m}


def spread(srv, path, tok, n=40):
    return [get(srv, path, tok).status_code for _ in range(n)]


@pytest.fixture(scope="module")
def srv(harness):
    with harness.httpd(conf(harness), server_conf=server_conf(harness),
                       name="child-cache") as s:
        yield s


def test_copies_serve_hits(srv, api):
    tok = api.sa_token("team-a", "copied")
    user = api.user_of(tok)["username"]
    mark = srv.log_mark()
    r = get(srv, "/long/", tok)
    assert r.status_code == 200
    assert header_values(echo_headers(r), "X-Remote-User") == [user]
    assert set(spread(srv, "/long/", tok)) == {200}
    assert api.reviews_of(tok) == 1
    pids = copy_pids(srv, mark)
    assert pids, "no verdict came from a child's copy:\n" + "\n".join(srv.new_log_lines(mark))
    # what README's Cache section states of a typical service account's entry
    sizes = [int(m.group(1)) for m in (re.search(r"stored the verdict on .*: (\d+) bytes", l)
                                       for l in srv.new_log_lines(mark)) if m]
    assert len(sizes) == 1 and 300 < sizes[0] < 1024, sizes
    print("shmcb entry of a service account with 3 groups and 2 extras: %d bytes" % sizes[0])
    if helpers.MPM == "prefork":
        assert len(pids) >= 2, "copies in several children: %r" % pids
    # the copy's identity is the review's, byte for byte, on every hit
    for _ in range(5):
        r = get(srv, "/long/", tok, close=False)
        assert header_values(echo_headers(r), "X-Remote-User") == [user]


def test_a_review_anywhere_ends_every_copy(srv, api):
    """Copies of a positive review in every child (/long: TTL 120); the token
    is revoked; /short (TTL 1) reviews it again and stores the rejection:
    every child refuses it at /long at its next request, without a review."""
    tok = api.sa_token("team-a", "revoked-later")
    mark = srv.log_mark()
    assert set(spread(srv, "/long/", tok)) == {200}
    assert api.reviews_of(tok) == 1
    assert copy_pids(srv, mark)
    api.remove_token(tok)
    time.sleep(1.2)
    assert get(srv, "/short/", tok).status_code == 401
    assert api.reviews_of(tok) == 2
    statuses = spread(srv, "/long/", tok)
    assert set(statuses) == {401}, "a child served its copy of a revoked token: %r" % statuses
    assert api.reviews_of(tok) == 2, "the stored rejection answered, no new review"


def test_a_refresh_anywhere_replaces_every_copy(srv, api):
    """The same with a positive review that changes the identity: every child
    serves the new one."""
    tok = api.sa_token("team-a", "regrouped")
    assert set(spread(srv, "/long/", tok)) == {200}
    with api.lock:          # the cluster changes the account's groups
        api.tokens[tok]["user"]["groups"] = ["system:serviceaccounts", "regrouped"]
    time.sleep(1.2)
    assert get(srv, "/short/", tok).status_code == 200
    assert api.reviews_of(tok) == 2
    for _ in range(20):
        r = get(srv, "/long/", tok)
        assert header_values(echo_headers(r), "X-Remote-Group") == \
            ["system:serviceaccounts", "regrouped"]
    assert api.reviews_of(tok) == 2


def assert_second_server_sees_the_first(harness, api, sc, label):
    """Two httpds with server configuration sc (one cache, one secret): the
    second serves the first's review, and its rejection at once; the
    second keeps no copies."""
    with harness.httpd(conf(harness), server_conf=sc, name=label + "-1") as h1, \
            harness.httpd(conf(harness), server_conf=sc, name=label + "-2") as h2:
        tok = api.sa_token("team-a", "roaming-" + label)
        mark = h2.log_mark()
        assert get(h1, "/long/", tok).status_code == 200
        assert set(spread(h2, "/long/", tok, 8)) == {200}
        assert api.reviews_of(tok) == 1, "the second server served the first's review"
        api.remove_token(tok)
        time.sleep(1.2)
        assert get(h1, "/short/", tok).status_code == 401
        assert api.reviews_of(tok) == 2
        assert set(spread(h2, "/long/", tok, 8)) == {401}, \
            "the second server saw the first's rejection at once"
        assert api.reviews_of(tok) == 2
        assert not copy_pids(h2, mark), "no copies of a cache another server writes"


@pytest.mark.parametrize("backend", ["memcached", "redis"])
def test_no_copies_of_a_cache_shared_between_hosts(harness, api, request, backend):
    cache = request.getfixturevalue(backend)
    secret = harness.file("child-cache-secret-%s" % secrets.token_hex(4),
                          secrets.token_hex(24), 0o644)
    sc = harness.default_server_conf(cache=cache.spec, extra=[
        TRACE, 'AuthK8sCacheSecretFile "%s"' % secret])
    assert_second_server_sees_the_first(harness, api, sc, backend)


def test_graceful_restart(harness, api):
    with harness.httpd(conf(harness), server_conf=server_conf(harness),
                       name="child-cache-graceful") as s:
        tok = api.sa_token("team-a", "across-restarts")
        assert set(spread(s, "/long/", tok, 10)) == {200}
        s.graceful()
        time.sleep(1.0)
        mark = s.log_mark()
        assert set(spread(s, "/long/", tok, 20)) == {200}
        reviews = api.reviews_of(tok)
        assert reviews in (1, 2), "at most one review more for the new generation"
        assert copy_pids(s, mark), "the new children keep copies too"
        api.remove_token(tok)
        time.sleep(1.2)
        assert get(s, "/short/", tok).status_code == 401
        assert set(spread(s, "/long/", tok, 20)) == {401}
        assert api.reviews_of(tok) == reviews + 1
        log = s.error_log()
        assert "exit signal" not in log and "Segmentation" not in log, log[-3000:]


def test_copies_off(harness, api):
    with harness.httpd(conf(harness),
                       server_conf=server_conf(harness, ["AuthK8sChildCacheEntries 0"]),
                       name="child-cache-off") as s:
        tok = api.sa_token("team-a", "no-copies")
        mark = s.log_mark()
        assert set(spread(s, "/long/", tok, 10)) == {200}
        assert api.reviews_of(tok) == 1, "the socache still answers"
        assert not copy_pids(s, mark)


@pytest.mark.parametrize("value", ["-1", "many", "1048577", ""])
def test_bad_values_fail_at_startup(apache_configtest, harness, value):
    rc, out = apache_configtest(conf(harness), server_conf=harness.default_server_conf(
        extra='AuthK8sChildCacheEntries "%s"' % value))
    assert rc != 0, out
    assert "AuthK8sChildCacheEntries" in out, out


def test_server_wide_only(apache_configtest, harness):
    vhost = ("<VirtualHost 127.0.0.1:%d>\n    AuthK8sChildCacheEntries 10\n"
             "</VirtualHost>\n" % helpers.free_port())
    rc, out = apache_configtest(conf(harness) + vhost)
    assert rc != 0, out
    assert "AuthK8sChildCacheEntries" in out and "VirtualHost" in out, out


def test_htaccess_ttl_is_cut_for_copies_too(harness, start_httpd, api):
    """A longer TTL in an .htaccess file is cut to the server configuration's
    longest (README, Cache), for a child's copy as for the socache entry
    (which expires then): a rejection is remembered for the server's default
    10 s, not the 600 s the .htaccess asks for."""
    docroot = harness.subdir("htdocs-child-cache")
    os.makedirs(os.path.join(docroot, "ht"), exist_ok=True)
    helpers.write_file(os.path.join(docroot, "ht", "index.html"), "hello\n")
    helpers.write_file(os.path.join(docroot, "ht", ".htaccess"),
                       'AuthType KubernetesServiceAccount\nAuthName "%s"\nRequire valid-user\n'
                       "AuthK8sNegativeCacheTTL 600\n" % helpers.REALM)
    s = start_httpd('DocumentRoot "%s"\n<Directory "%s">\n    AllowOverride AuthConfig\n'
                    "    Require all granted\n</Directory>\n" % (docroot, docroot),
                    server_conf=server_conf(harness))
    tok = secrets.token_urlsafe(32)
    mark = s.log_mark()
    with requests.Session() as one:     # one connection: one child (prefork too)
        def ht():
            return one.get(s.url("/ht/index.html"), headers=bearer(tok), timeout=30)
        assert ht().status_code == 401
        assert ht().status_code == 401
        assert api.reviews_of(tok) == 1
        assert copy_pids(s, mark), "the rejection came from a copy"
        api.add_token(tok, "late-bloomer", groups=["g"])
        time.sleep(11)
        assert ht().status_code == 200, "a copy outlived the server's longest negative TTL"
    assert api.reviews_of(tok) == 2


def test_no_copies_of_a_dbm_file_two_servers_share(harness, api):
    """Only shmcb is this server's alone: two httpds on one host sharing a dbm
    file (and a secret) see each other's reviews at once."""
    secret = harness.file("child-cache-dbm-secret", secrets.token_hex(24), 0o644)
    dbm = os.path.join(harness.subdir("child-cache-dbm"), "k8ssa.dbm")
    sc = harness.default_server_conf(extra=[
        TRACE, "LoadModule socache_dbm_module %s/mod_socache_dbm.so" % helpers.MODDIR,
        "AuthK8sCache dbm:%s" % dbm, 'AuthK8sCacheSecretFile "%s"' % secret])
    assert_second_server_sees_the_first(harness, api, sc, "dbm")
