"""SetHandler k8ssa-metrics: Prometheus text 0.0.4 for all children, every
family of the contract typed and labelled, counters that move exactly as the
traffic says (across several children), and survive a graceful restart."""

import concurrent.futures
import re
import time

import pytest
import requests

from helpers import bearer, location, write_file

FAMILIES = {
    "k8ssa_requests_total": ("counter", {"outcome"}),
    "k8ssa_cache_lookups_total": ("counter", {"kind", "result"}),
    "k8ssa_reviews_total": ("counter", {"kind", "code"}),
    "k8ssa_review_duration_seconds": ("histogram", {"kind"}),
    "k8ssa_coalesced_waits_total": ("counter", set()),
    "k8ssa_api_connections_total": ("counter", set()),
    "k8ssa_credential_reloads_total": ("counter", set()),
    "k8ssa_local_rejections_total": ("counter", {"reason"}),
    "k8ssa_reviews_shed_total": ("counter", set()),
    "k8ssa_issuer_key_fetches_total": ("counter", {"result"}),
}
LABEL_VALUES = {
    "outcome": {"authenticated", "rejected", "malformed", "missing", "error"},
    "kind": {"token", "access"},
    "result": {"hit", "miss", "stale", "ok", "error"},
    "reason": {"expired", "not_yet_valid", "audience", "signature", "issuer"},
}

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[a-z_]+="[^"\\]*",?)*)\})? (\S+)$')


def parse(text):
    """The exposition as {family: {"type", "help", "samples": [(name, labels, value)]}};
    fails on anything the text format 0.0.4 does not allow."""
    fams, current = {}, None
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name, help_ = line[7:].split(" ", 1)
            current = fams.setdefault(name, {"samples": []})
            current["help"] = help_
        elif line.startswith("# TYPE "):
            name, type_ = line[7:].split(" ", 1)
            assert name in fams and type_ in ("counter", "gauge", "histogram"), line
            fams[name]["type"] = type_
        else:
            m = SAMPLE.match(line)
            assert m, "not a sample line: %r" % line
            name, labels, value = m.groups()
            labels = dict(re.findall(r'([a-z_]+)="([^"]*)"', labels or ""))
            base = re.sub(r"_(bucket|sum|count)$", "", name) \
                if fams.get(re.sub(r"_(bucket|sum|count)$", "", name), {}).get("type") \
                == "histogram" else name
            assert base in fams, line
            fams[base]["samples"].append((name, labels, float(value)))
    return fams


def value(fams, family, name=None, **labels):
    return sum(v for n, l, v in fams[family]["samples"]
               if (name is None or n == name) and all(l.get(k) == w for k, w in labels.items()))


def scrape(s):
    r = requests.get(s.url("/metrics"), timeout=30)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return parse(r.text)


def conf(harness, extra=""):
    e = harness.echo.url
    return ("<Location /metrics>\n    SetHandler k8ssa-metrics\n    Require all granted\n"
            "</Location>\n" +
            location("/app", "Require valid-user\nAuthK8sStaleIfError 60\nAuthK8sCacheTTL 1",
                     backend=e + "/app") +
            location("/can", "Require k8s-can get pods team-a", backend=e + "/can") + extra)


def test_every_family_typed_and_labelled(harness, start_httpd, api):
    s = start_httpd(conf(harness))
    tok = api.sa_token("team-a", "runner")
    for headers in (bearer(tok), bearer(tok), bearer("nope"), {"Authorization": "Bearer \"x\""},
                    {}):
        requests.get(s.url("/app"), headers=headers, timeout=30)
    requests.get(s.url("/can"), headers=bearer(tok), timeout=30)
    fams = scrape(s)
    assert set(fams) == set(FAMILIES)
    for name, (type_, labels) in FAMILIES.items():
        f = fams[name]
        assert f["type"] == type_, name
        assert "graceful restart" in f["help"], name
        for n, l, v in f["samples"]:
            keys = set(l) - {"le"}
            assert keys == labels, (n, l)
            for k, w in l.items():
                if k in LABEL_VALUES:
                    assert w in LABEL_VALUES[k], (n, l)
                if k == "code":
                    assert w == "error" or re.fullmatch(r"[1-5]\d\d", w), (n, l)
    # the histogram: cumulative buckets, +Inf equals _count
    for kind in ("token", "access"):
        buckets = [(l["le"], v) for n, l, v in fams["k8ssa_review_duration_seconds"]["samples"]
                   if n.endswith("_bucket") and l["kind"] == kind]
        assert [v for _, v in buckets] == sorted(v for _, v in buckets)
        assert buckets[-1][0] == "+Inf"
        assert buckets[-1][1] == value(fams, "k8ssa_review_duration_seconds",
                                       "k8ssa_review_duration_seconds_count", kind=kind)
    assert value(fams, "k8ssa_requests_total", outcome="authenticated") == 3
    assert value(fams, "k8ssa_requests_total", outcome="rejected") == 1
    assert value(fams, "k8ssa_requests_total", outcome="malformed") == 1
    assert value(fams, "k8ssa_requests_total", outcome="missing") == 1
    assert value(fams, "k8ssa_cache_lookups_total", kind="token", result="hit") == 2
    assert value(fams, "k8ssa_cache_lookups_total", kind="token", result="miss") == 2
    assert value(fams, "k8ssa_cache_lookups_total", kind="access", result="miss") == 1
    assert value(fams, "k8ssa_reviews_total", kind="token", code="201") == 2
    assert value(fams, "k8ssa_reviews_total", kind="access", code="201") == 1


def test_reviews_by_status_retries_and_errors(harness, start_httpd, api):
    s = start_httpd(conf(harness))
    api.fail_next(1, "500")
    assert requests.get(s.url("/app"), headers=bearer(api.sa_token("a", "b")),
                        timeout=30).status_code == 200
    api.close_connections()
    api.set_mode("reset")
    requests.get(s.url("/app"), headers=bearer(api.sa_token("a", "c")), timeout=30)
    api.set_mode("normal")
    fams = scrape(s)
    assert value(fams, "k8ssa_reviews_total", kind="token", code="500") == 1
    assert value(fams, "k8ssa_reviews_total", kind="token", code="201") == 1
    assert value(fams, "k8ssa_reviews_total", kind="token", code="error") == 2
    assert value(fams, "k8ssa_requests_total", outcome="error") == 1
    assert value(fams, "k8ssa_review_duration_seconds", "k8ssa_review_duration_seconds_count",
                 kind="token") == 2


def test_connections_equal_what_the_api_server_accepted(harness, start_httpd, api):
    s = start_httpd(conf(harness))
    for i in range(5):
        api.close_connections()
        time.sleep(0.05)
        requests.get(s.url("/app"), headers=bearer(api.sa_token("a", "n%d" % i)), timeout=30)
    assert value(scrape(s), "k8ssa_api_connections_total") == api.connections


def test_stale_serves_and_credential_reloads(harness, start_httpd, api):
    token_file = harness.file("metrics.token", harness.module_token + "\n")
    s = start_httpd(conf(harness), server_conf=harness.default_server_conf(
        token_file=token_file))
    tok = api.sa_token("team-a", "runner")
    assert requests.get(s.url("/app"), headers=bearer(tok), timeout=30).status_code == 200
    time.sleep(1.2)                     # past AuthK8sCacheTTL 1
    api.set_mode("503")
    assert requests.get(s.url("/app"), headers=bearer(tok), timeout=30).status_code == 200
    api.set_mode("normal")
    # a rotated module token: the API server refuses the old one, the file is re-read
    new = api.module_token()
    api.set_module_tokens({new})
    write_file(token_file, new + "\n")
    assert requests.get(s.url("/app"), headers=bearer(api.sa_token("a", "d")),
                        timeout=30).status_code == 200
    fams = scrape(s)
    assert value(fams, "k8ssa_cache_lookups_total", kind="token", result="stale") == 1
    assert value(fams, "k8ssa_credential_reloads_total") == 1


def test_coalesced_waits(harness, start_httpd, api):
    if harness_mpm() == "prefork":
        pytest.skip("coalescing is per child")
    s = start_httpd(conf(harness), threads=16)
    tok = api.sa_token("team-a", "runner")
    api.set_mode("slow", 1)
    with concurrent.futures.ThreadPoolExecutor(6) as ex:
        list(ex.map(lambda _: requests.get(s.url("/app"), headers=bearer(tok), timeout=30),
                    range(6)))
    api.set_mode("normal")
    fams = scrape(s)
    assert api.reviews == 1
    assert value(fams, "k8ssa_coalesced_waits_total") == 5


def harness_mpm():
    import helpers
    return helpers.MPM


def test_all_children_counted_and_kept_across_graceful(harness, start_httpd, api):
    """prefork with several children: each request a connection of its own,
    spread over them; the hit counter grows by exactly N."""
    import helpers
    if helpers.MPM != "prefork":
        pytest.skip("several children: run under prefork (K8SSA_MPM=prefork)")
    s = start_httpd(conf(harness).replace("AuthK8sCacheTTL 1", "AuthK8sCacheTTL 300"),
                    threads=4)
    tok = api.sa_token("team-a", "runner")
    requests.get(s.url("/app"), headers=bearer(tok), timeout=30)
    before = value(scrape(s), "k8ssa_cache_lookups_total", kind="token", result="hit")
    n = 40
    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        list(ex.map(lambda _: requests.get(s.url("/app"), headers=bearer(tok), timeout=30),
                    range(n)))
    after = value(scrape(s), "k8ssa_cache_lookups_total", kind="token", result="hit")
    assert after - before == n
    s.graceful()
    time.sleep(1.5)
    assert value(scrape(s), "k8ssa_cache_lookups_total", kind="token", result="hit") >= after


def test_kept_across_graceful_restart(harness, start_httpd, api):
    s = start_httpd(conf(harness))
    tok = api.sa_token("team-a", "runner")
    for _ in range(3):
        requests.get(s.url("/app"), headers=bearer(tok), timeout=30)
    before = scrape(s)
    s.graceful()
    time.sleep(1.5)
    after = scrape(s)
    for outcome in ("authenticated",):
        assert value(after, "k8ssa_requests_total", outcome=outcome) == \
            value(before, "k8ssa_requests_total", outcome=outcome) == 3
    assert value(after, "k8ssa_reviews_total", kind="token", code="201") == 1


def test_post_is_refused(harness, start_httpd):
    s = start_httpd(conf(harness))
    assert requests.post(s.url("/metrics"), timeout=30).status_code == 405
