"""The Kubernetes API stand-in itself, without httpd: it must behave as the
API reference says, or the module's tests prove nothing."""

import time

import pytest
import requests

from standin import TOKENREVIEW_PATH


def review(h, token, audiences=None, auth=True, cert=None, session=None):
    spec = {"token": token}
    if audiences is not None:
        spec["audiences"] = audiences
    headers = {"Content-Type": "application/json"}
    if auth:
        headers["Authorization"] = "Bearer " + h.module_token
    s = session or requests
    return s.post(h.api.url + TOKENREVIEW_PATH, headers=headers, cert=cert,
                  json={"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview",
                        "spec": spec}, verify=h.pki.ca_cert, timeout=10)


def test_caller_must_authenticate(standin_only):
    h = standin_only
    r = review(h, h.api.sa_token("ns", "a"), auth=False)
    assert r.status_code == 401
    assert r.json() == {"kind": "Status", "apiVersion": "v1", "metadata": {},
                        "status": "Failure", "message": "Unauthorized",
                        "reason": "Unauthorized", "code": 401}


def test_client_certificate_authenticates(standin_only):
    h = standin_only
    r = review(h, h.api.sa_token("ns", "a"), auth=False,
               cert=(h.pki.client_cert, h.pki.client_key))
    assert r.status_code == 201
    assert h.api.requests[-1]["peer_cn"] == "k8ssa-module"


def test_forbidden_caller(standin_only):
    h = standin_only
    h.api.set_forbidden_tokens({h.module_token})
    r = review(h, h.api.sa_token("ns", "a"))
    assert r.status_code == 403
    assert r.json()["reason"] == "Forbidden"
    assert "cannot create resource \"tokenreviews\"" in r.json()["message"]


def test_sa_token_review(standin_only):
    h = standin_only
    tok = h.api.sa_token("kubeflow", "runner")
    assert tok.count(".") == 2
    r = review(h, tok)
    assert r.status_code == 201
    body = r.json()
    assert body["apiVersion"] == "authentication.k8s.io/v1"
    assert body["kind"] == "TokenReview"
    assert body["metadata"] == {"creationTimestamp": None}
    assert body["spec"]["token"] == tok
    st = body["status"]
    assert st["authenticated"] is True
    assert st["user"]["username"] == "system:serviceaccount:kubeflow:runner"
    assert st["user"]["groups"] == ["system:serviceaccounts", "system:serviceaccounts:kubeflow",
                                    "system:authenticated"]
    assert set(st["user"]["extra"]) == {"authentication.kubernetes.io/pod-name",
                                        "authentication.kubernetes.io/pod-uid"}
    assert st["audiences"] == ["https://kubernetes.default.svc.cluster.local"]
    assert h.api.reviews == 1 and h.api.bodies[0]["spec"] == {"token": tok}


def test_unknown_token_and_audiences(standin_only):
    h = standin_only
    r = review(h, "nope")
    assert r.status_code == 201
    assert r.json()["status"] == {
        "user": {}, "error": "[invalid bearer token, square/go-jose: error in cryptographic primitive]"}
    tok = h.api.sa_token("ns", "a", audiences=["aud-a", "aud-b"])
    assert review(h, tok, ["aud-b", "zzz"]).json()["status"]["audiences"] == ["aud-b"]
    st = review(h, tok, ["zzz"]).json()["status"]
    assert "authenticated" not in st
    assert st["error"] == ('[invalid bearer token, token audiences ["aud-a" "aud-b"] is invalid '
                           'for the target audiences ["zzz"]]')
    # no spec.audiences: the API server's own
    assert "error" in review(h, tok).json()["status"]


def test_empty_token_is_bad_request(standin_only):
    r = review(standin_only, "")
    assert r.status_code == 400
    assert r.json()["message"] == "token is required for TokenReview in authentication"
    assert r.json()["reason"] == "BadRequest"


@pytest.mark.parametrize("mode,code,reason", [("500", 500, "InternalError"),
                                              ("503", 503, "ServiceUnavailable"),
                                              ("429", 429, "TooManyRequests")])
def test_fault_status(standin_only, mode, code, reason):
    h = standin_only
    h.api.set_mode(mode)
    r = review(h, h.api.sa_token("ns", "a"))
    assert r.status_code == code and r.json()["reason"] == reason
    if code == 429:
        assert r.headers["Retry-After"] == "1"


def test_fault_garbage_200_controlchars(standin_only):
    h = standin_only
    tok = h.api.sa_token("ns", "a")
    h.api.set_mode("garbage")
    r = review(h, tok)
    assert r.status_code == 201
    with pytest.raises(ValueError):
        r.json()
    h.api.set_mode("200")
    r = review(h, tok)
    assert r.status_code == 200 and r.json()["status"]["authenticated"] is True
    h.api.set_mode("control-chars")
    assert "\r\n" in review(h, tok).json()["status"]["user"]["username"]


def test_fault_reset_slow_oneshot(standin_only):
    h = standin_only
    tok = h.api.sa_token("ns", "a")
    h.api.fail_next(2, "reset")
    for _ in range(2):
        with pytest.raises(requests.ConnectionError):
            review(h, tok)
    assert review(h, tok).status_code == 201
    h.api.fail_next(1, "slow", 0.6)
    t = time.time()
    assert review(h, tok).status_code == 201
    assert time.time() - t >= 0.6
    assert h.api.reviews == 4


def test_connections_counted_keepalive(standin_only):
    h = standin_only
    tok = h.api.sa_token("ns", "a")
    with requests.Session() as s:
        for _ in range(5):
            assert review(h, tok, session=s).status_code == 201
        assert review(h, "x", auth=False, session=s).status_code == 401
        assert review(h, tok, session=s).status_code == 201
    assert h.api.connections == 1
    assert h.api.reviews == 7


def test_expired_token_rejected(standin_only):
    """A token whose exp has passed is rejected as kube-apiserver does."""
    from standin import jwt_claims
    h = standin_only
    now = int(time.time())
    tok = h.api.sa_token("ns", "short", exp=now + 1)
    assert jwt_claims(tok)["exp"] == now + 1
    assert jwt_claims(h.api.sa_token("ns", "l", lifetime=7))["exp"] in (now + 7, now + 8)
    assert review(h, tok).json()["status"]["authenticated"] is True
    time.sleep(max(0, now + 1 - time.time()) + 0.1)
    st = review(h, tok).json()["status"]
    assert st == {"user": {}, "error": "[invalid bearer token, service account token has expired]"}
    h.api.expiry_leeway = 60
    assert review(h, tok).json()["status"]["authenticated"] is True
    assert h.api.reviews_of(tok) == 3
    assert h.api.reviews_of("other") == 0
