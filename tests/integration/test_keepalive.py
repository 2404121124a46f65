"""Connections to the API server are kept alive and reused. The review
cache is off here (AuthK8sCache none): every request must be a review."""

import requests

from helpers import HTTPD_THREADS, bearer, location


def test_reviews_reuse_connections(harness, start_httpd, api):
    s = start_httpd(location("/echo", "Require valid-user", backend=harness.echo.url + "/echo"),
                    server_conf=harness.default_server_conf(cache="none"))
    toks = [api.sa_token("demo", "client-%d" % i) for i in range(5)]
    with requests.Session() as sess:
        for i in range(200):
            r = sess.get(s.url("/echo/"), headers=bearer(toks[i % 5]), timeout=30)
            assert r.status_code == 200
    assert api.reviews == 200
    assert 1 <= api.connections <= HTTPD_THREADS, api.connections


def test_parallel_clients_reuse_connections(harness, start_httpd, api):
    import concurrent.futures
    s = start_httpd(location("/echo", "Require valid-user", backend=harness.echo.url + "/echo"),
                    server_conf=harness.default_server_conf(cache="none"))
    # a token per client: concurrent requests with one token share a review
    # even without a cache (coalescing), and every request must be one here
    toks = [api.sa_token("demo", "client-%d" % i) for i in range(6)]

    def client(tok, n):
        with requests.Session() as sess:
            return [sess.get(s.url("/echo/"), headers=bearer(tok), timeout=30).status_code
                    for _ in range(n)]

    with concurrent.futures.ThreadPoolExecutor(6) as ex:
        results = [c for f in [ex.submit(client, t, 25) for t in toks] for c in f.result()]
    assert results == [200] * 150
    assert api.reviews == 150
    assert api.connections <= HTTPD_THREADS, api.connections
