"""The default cache (shmcb, 16 MiB) holds at least 10,000 typical reviews:
after 10,000 different service-account tokens, the first ones are still
served from the cache."""

import concurrent.futures
import uuid

import requests

from helpers import bearer, location

# What a projected service-account token's review carries today.
def typical_extra(i):
    return {
        "authentication.kubernetes.io/credential-id": ["JTI=%s" % uuid.uuid4()],
        "authentication.kubernetes.io/node-name": ["worker-%03d.cluster.internal" % (i % 500)],
        "authentication.kubernetes.io/node-uid": [str(uuid.uuid4())],
        "authentication.kubernetes.io/pod-name": ["pipeline-runner-%d-7f9c6d5b8-x2l4q" % i],
        "authentication.kubernetes.io/pod-uid": [str(uuid.uuid4())],
    }


def test_default_shmcb_holds_10000_reviews(start_httpd, api, harness):
    s = start_httpd(location("/c", "Require valid-user"), threads=16)
    n = 10000
    tokens = [api.sa_token("team-%d" % (i % 50), "runner-%d" % i, extra=typical_extra(i),
                           audiences=["https://kubernetes.default.svc.cluster.local"])
              for i in range(n)]
    local = __import__("threading").local()

    def get(tok):
        if not hasattr(local, "session"):
            local.session = requests.Session()
        return local.session.get(s.url("/c/"), headers=bearer(tok), timeout=30).status_code

    with concurrent.futures.ThreadPoolExecutor(12) as ex:
        assert set(ex.map(get, tokens, chunksize=200)) == {404}  # authenticated; no such file
    assert api.reviews == n
    harness.reset()
    with concurrent.futures.ThreadPoolExecutor(12) as ex:
        assert set(ex.map(get, tokens[:1000], chunksize=100)) == {404}
    assert api.reviews == 0, "the oldest of 10,000 reviews were dropped from the cache"
