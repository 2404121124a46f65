"""The module's own credentials: token file, client certificate, rotation,
in-cluster defaults."""

import os

import requests

from helpers import bearer, echo_headers, header_values, location, write_file


def conf(harness):
    return location("/echo", "Require valid-user", backend=harness.echo.url + "/echo")


def get(srv, tok):
    return requests.get(srv.url("/echo/"), headers=bearer(tok), timeout=30)


def review_auth(api, i=-1):
    return [v for k, v in api.requests[i]["headers"] if k.lower() == "authorization"]


def test_token_file_is_the_credential(harness, start_httpd, api):
    s = start_httpd(conf(harness))
    assert get(s, api.sa_token("demo", "client")).status_code == 200
    assert review_auth(api) == ["Bearer " + harness.module_token]
    assert api.requests[-1]["peer_cn"] is None


def test_token_file_other_token(harness, start_httpd, api):
    tok2 = api.module_token()
    path = write_file(os.path.join(harness.workdir, "second.token"), tok2)   # no newline
    api.set_module_tokens({tok2})
    s = start_httpd(conf(harness), server_conf=harness.default_server_conf(token_file=path))
    assert get(s, api.sa_token("demo", "client")).status_code == 200
    assert review_auth(api) == ["Bearer " + tok2]


def client_certificate_conf(api, pki):
    """Server directives with the client certificate as the only credential."""
    return "\n".join([
        "AuthK8sAPIServer " + api.url,
        'AuthK8sCAFile "%s"' % pki.ca_cert,
        'AuthK8sClientCertificate "%s"' % pki.client_cert,
        'AuthK8sClientKey "%s"' % pki.client_key,
    ])


def test_client_certificate_only(harness, start_httpd, api):
    pki = harness.pki
    server_conf = client_certificate_conf(api, pki)
    s = start_httpd(conf(harness), server_conf=server_conf)
    api.set_module_tokens(set())
    r = get(s, api.sa_token("demo", "client"))
    assert r.status_code == 200
    assert review_auth(api) == []
    assert api.requests[-1]["peer_cn"] == "k8ssa-module"


def test_client_certificate_not_trusted(harness, start_httpd, api):
    """A certificate the API server does not accept: refused credentials."""
    pki = harness.pki
    api.client_cert_cns = set()
    server_conf = client_certificate_conf(api, pki)
    s = start_httpd(conf(harness), server_conf=server_conf)
    api.set_module_tokens(set())
    r = get(s, api.sa_token("demo", "client"))
    assert r.status_code == 500


def test_token_rotation_is_invisible(harness, start_httpd, api):
    t1, t2 = api.module_token(), api.module_token()
    path = write_file(os.path.join(harness.workdir, "rotating.token"), t1 + "\n")
    api.set_module_tokens({t1})
    # One worker: the reload after a 401 is per child (prefork has one per request).
    s = start_httpd(conf(harness), server_conf=harness.default_server_conf(token_file=path),
                    threads=1)
    # a new client token per request: a cached review would not reach the API server
    assert get(s, api.sa_token("demo", "client")).status_code == 200
    assert review_auth(api) == ["Bearer " + t1]

    # kubelet rotates the projected token; the old one stops working at once
    write_file(path + ".new", t2 + "\n")
    os.replace(path + ".new", path)
    api.set_module_tokens({t2})
    harness.reset()
    api.set_module_tokens({t2})
    r = get(s, api.sa_token("demo", "client"))
    assert r.status_code == 200
    assert api.reviews == 2, "one 401 with the old token, one retry with the new"
    assert review_auth(api, 0) == ["Bearer " + t1]
    assert review_auth(api, 1) == ["Bearer " + t2]

    harness.reset()
    api.set_module_tokens({t2})
    assert get(s, api.sa_token("demo", "client")).status_code == 200
    assert api.reviews == 1
    assert review_auth(api) == ["Bearer " + t2]


def test_token_rotation_under_concurrency(harness, start_httpd, api):
    """Requests in flight when the old token stops working all retry with the
    new one: the first reloads the file, the others find it reloaded."""
    import concurrent.futures
    t1, t2 = api.module_token(), api.module_token()
    path = write_file(os.path.join(harness.workdir, "busy.token"), t1 + "\n")
    api.set_module_tokens({t1})
    s = start_httpd(conf(harness), server_conf=harness.default_server_conf(token_file=path))
    toks = [api.sa_token("demo", "c%d" % i) for i in range(8)]
    with concurrent.futures.ThreadPoolExecutor(8) as ex:   # warm every worker's connection
        assert set(ex.map(lambda t: get(s, t).status_code, toks)) == {200}
    write_file(path + ".new", t2 + "\n")
    os.replace(path + ".new", path)
    api.set_module_tokens({t2})
    toks = [api.sa_token("demo", "d%d" % i) for i in range(8)]   # new: not cached
    api.set_mode("slow", 0.3)   # keep the 8 reviews in flight together
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        codes = list(ex.map(lambda t: get(s, t).status_code, toks))
    assert codes == [200] * 8
    assert all(api.reviews_of(t) >= 1 for t in toks)


def test_in_place_token_rewrite(harness, start_httpd, api):
    t1, t2 = api.module_token(), api.module_token()
    path = write_file(os.path.join(harness.workdir, "inplace.token"), t1)
    api.set_module_tokens({t1})
    s = start_httpd(conf(harness), server_conf=harness.default_server_conf(token_file=path))
    assert get(s, api.sa_token("demo", "client")).status_code == 200
    write_file(path, t2)
    api.set_module_tokens({t2})
    tok = api.sa_token("demo", "client")   # new: a review, not a cache hit
    assert get(s, tok).status_code == 200
    assert review_auth(api) == ["Bearer " + t2]


def test_in_cluster_default_api_server(harness, start_httpd, api):
    server_conf = "\n".join(['AuthK8sCAFile "%s"' % harness.pki.ca_cert,
                             'AuthK8sTokenFile "%s"' % harness.token_file])
    s = start_httpd(conf(harness), server_conf=server_conf,
                    env={"KUBERNETES_SERVICE_HOST": "127.0.0.1",
                         "KUBERNETES_SERVICE_PORT": str(api.port)})
    tok = api.sa_token("demo", "client")
    r = get(s, tok)
    assert r.status_code == 200
    assert header_values(echo_headers(r), "X-Remote-User") == ["system:serviceaccount:demo:client"]
    assert api.reviews == 1


def test_explicit_api_server_wins_over_env(harness, start_httpd, api):
    s = start_httpd(conf(harness),
                    env={"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": "1"})
    assert get(s, api.sa_token("demo", "client")).status_code == 200
