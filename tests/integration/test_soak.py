"""A bounded soak (marked `soak`; CI runs it once, about two minutes): mixed
traffic through httpd while the API stand-in flaps between healthy, slow and
failing. At the end no child crashed, every answer had the status the
contract gives for its kind, reviews in flight at the stand-in stayed within
AuthK8sReviewConcurrency, and the children's anonymous memory grew less than
the bound below.

The memory bound: RssAnon (heap and stacks; not the shmcb segment, whose pages
fill as the cache does, nor mapped files). A child's per-request memory lives
in pools that are reused, the in-flight table holds at most one entry per
thread, the API client keeps at most one curl handle per thread, and the
issuer's key set is one generation (two while a request still uses the old
one). So after warm-up the growth is bounded by allocator slack: 24 MiB is
generous; a leak of one pool per request (~8 KiB) over the ~20,000 requests
of the run would exceed it several times over.
"""

import os
import random
import secrets
import threading
import time

import pytest
import requests

from helpers import bearer, location

pytestmark = pytest.mark.soak

SECONDS = float(os.environ.get("K8SSA_SOAK_SECONDS", "90"))
CAP = 4
THREADS = 16
RSS_BOUND_KIB = 24 * 1024


def children_of(pid):
    out = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % p) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                out.append(int(p))
        except OSError:
            continue
    return out


def rss_anon_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    return 0


def ws_entry(tok):
    import base64
    return "base64url.bearer.authorization.k8s.io." + \
        base64.urlsafe_b64encode(tok.encode()).rstrip(b"=").decode()


def test_soak(harness, start_httpd, api):
    e = harness.echo.url
    conf = (location("/app", "Require valid-user\nAuthK8sCacheTTL 900", backend=e + "/app") +
            location("/check", "Require valid-user\nAuthK8sCacheTTL 900\n"
                               "SetHandler k8ssa-check"))
    server = harness.default_server_conf(timeout=2, extra=[
        "AuthK8sSignatureCheck On", "AuthK8sReviewConcurrency %d" % CAP])
    s = start_httpd(conf, server_conf=server, threads=THREADS)

    cached = [api.sa_token("soak", "cached-%d" % i) for i in range(20)]
    for t in cached:
        assert requests.get(s.url("/app"), headers=bearer(t), timeout=30).status_code == 200
    fresh_pool = [api.sa_token("soak", "fresh-%d" % i) for i in range(400)]
    forged = []
    for t in cached[:5]:
        head, sig = t.rsplit(".", 1)
        forged.append(head + "." + ("A" if sig[3] != "A" else "B").join([sig[:3], sig[4:]]))

    children = children_of(s.proc.pid)
    assert children, "no child processes"
    time.sleep(1)
    rss0 = {c: rss_anon_kib(c) for c in children}

    stop = time.time() + SECONDS
    bad = []
    counts = {}
    lock = threading.Lock()
    fresh_iter = iter(fresh_pool * 3)

    def flap():
        modes = [("normal", None, 8), ("slow", 3, 4), ("503", None, 4), ("normal", None, 6),
                 ("reset", None, 3), ("500", None, 3), ("slow", 1, 4)]
        i = 0
        while time.time() < stop:
            m, arg, secs = modes[i % len(modes)]
            api.set_mode(m, arg)
            time.sleep(min(secs, max(0, stop - time.time())))
            i += 1
        api.set_mode("normal")

    def kind_and_request():
        k = random.choice(["cached", "cached", "cached", "fresh", "forged", "opaque",
                           "malformed", "missing", "basic", "spoofed", "websocket"])
        if k == "cached":
            return k, "/app", bearer(random.choice(cached)), {200}
        if k == "fresh":
            with lock:
                t = next(fresh_iter, random.choice(fresh_pool))
            return k, "/app", bearer(t), {200, 503}
        if k == "forged":
            return k, "/app", bearer(random.choice(forged)), {401}
        if k == "opaque":
            return k, "/app", bearer(secrets.token_urlsafe(24)), {401, 503}
        if k == "malformed":
            return k, "/app", {"Authorization": 'Bearer "%s"' % secrets.token_hex(4)}, {400}
        if k == "missing":
            return k, "/app", {}, {401}
        if k == "basic":
            return k, "/app", {"Authorization": "Basic YTpi"}, {401}
        if k == "spoofed":
            h = bearer(random.choice(cached))
            h.update({"X-Remote-User": "system:admin", "X-Remote-Group": "system:masters"})
            return k, "/app", h, {200}
        t = random.choice(cached)
        return k, "/check", {"Connection": "Upgrade", "Upgrade": "websocket",
                             "Sec-WebSocket-Version": "13",
                             "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
                             "Sec-WebSocket-Protocol": ws_entry(t) + ", chat"}, {200}

    def worker():
        sess = requests.Session()
        while time.time() < stop:
            k, path, headers, allowed = kind_and_request()
            try:
                r = sess.get(s.url(path), headers=headers, timeout=30)
                code = r.status_code
                if k == "spoofed" and code == 200 and ("system:admin" in r.text
                                                       or "system:masters" in r.text):
                    code = "spoof-passed"
            except requests.RequestException as ex:
                code = "error: %s" % type(ex).__name__
                sess = requests.Session()
            with lock:
                counts[(k, code)] = counts.get((k, code), 0) + 1
                if code not in allowed:
                    bad.append((k, code))

    flapper = threading.Thread(target=flap)
    flapper.start()
    workers = [threading.Thread(target=worker) for _ in range(12)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    flapper.join()

    total = sum(counts.values())
    summary = sorted(counts.items(), key=lambda kv: str(kv[0]))
    print("\nsoak: %d requests in %.0f s: %s" % (total, SECONDS, summary))
    assert not bad, "statuses outside the contract: %s (of %s)" % (bad[:20], summary)
    assert total > 1000
    assert api.max_in_flight <= CAP, "reviews in flight %d > %d" % (api.max_in_flight, CAP)
    # no child crashed: the same children, and no signal in the log
    assert set(children_of(s.proc.pid)) == set(children), "a child was replaced"
    log = s.error_log()
    for word in ("exit signal", "Segmentation", "AH00052", "child pid"):
        assert word not in log, word
    growth = {c: rss_anon_kib(c) - rss0[c] for c in children}
    print("soak: RssAnon growth (KiB) per child: %s" % growth)
    assert all(g < RSS_BOUND_KIB for g in growth.values()), growth
