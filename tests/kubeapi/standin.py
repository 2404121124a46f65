#!/usr/bin/python3
"""A stand-in for the Kubernetes API server's TokenReview and
SubjectAccessReview endpoints.

Written from the API reference of
``POST /apis/authentication.k8s.io/v1/tokenreviews`` and
``POST /apis/authorization.k8s.io/v1/subjectaccessreviews``, and from what
kube-apiserver does (pkg/registry/authentication/tokenreview,
pkg/registry/authorization/subjectaccessreview, RBAC in rbac.py):

* HTTPS only, with a PKI generated at test time (``make_pki``).
* The caller (the module) authenticates with a bearer token from a set that
  can change at runtime, or with a client certificate signed by the CA.
  No or an unknown credential: 401 ``Status``; a caller in the forbidden set:
  403 ``Status``.
* The reviewed token is looked up in a registry of token -> user info and
  token audiences; audiences are intersected as kube-apiserver does.
* Fault modes (500, 429, 503, garbage, slow, reset, control characters,
  200 instead of 201), permanently or for the next N reviews, for each kind
  of review on its own.
* The service-account issuer (signing.py): service-account tokens are real
  RS256 (or ES256) JWTs; GET /.well-known/openid-configuration and
  /openid/v1/jwks serve the issuer and its keys to an authenticated caller
  (403 when ``keys_forbidden``), with faults of their own (kind "keys"), and
  keys can be rotated.
* SubjectAccessReviews are decided by RBAC objects the test sets
  (``set_rbac``), with explicit denies in front; the module's credential can
  be refused ``create`` on subjectaccessreviews alone (``access_forbidden``).

Use it in-process (``KubeAPI(pki).start()`` ... ``.stop()``) or standalone::

    /usr/bin/python3 tests/kubeapi/standin.py --listen 127.0.0.1:6443 \\
        --pki-dir DIR --module-token-file PATH --demo-token-file PATH
"""

import argparse
import base64
import json
import os
import secrets
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rbac import RBAC  # noqa: E402
from signing import Issuer  # noqa: E402

TOKENREVIEW_PATH = "/apis/authentication.k8s.io/v1/tokenreviews"
DISCOVERY_PATH = "/.well-known/openid-configuration"
JWKS_PATH = "/openid/v1/jwks"
ACCESSREVIEW_PATH = "/apis/authorization.k8s.io/v1/subjectaccessreviews"
DEFAULT_API_AUDIENCES = ["https://kubernetes.default.svc.cluster.local"]
MODULE_CERT_CN = "k8ssa-module"

# --------------------------------------------------------------------------
# PKI


@dataclass
class PKI:
    dir: str
    ca_cert: str
    ca_key: str
    server_cert: str
    server_key: str
    client_cert: str         # CN=k8ssa-module, signed by the CA
    client_key: str
    other_ca_cert: str       # an unrelated CA
    other_ca_key: str
    other_client_cert: str   # CN=k8ssa-module, signed by the unrelated CA
    other_client_key: str


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _make_ca(d, name, cn):
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.crt", "-days", "30",
             "-subj", f"/CN={cn}",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)


def _make_leaf(d, name, cn, ca, ext_lines):
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", cn, cwd=d)
    with open(os.path.join(d, f"{name}.ext"), "w") as f:
        f.write("\n".join(ext_lines) + "\n")
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key",
             "-CAcreateserial", "-out", f"{name}.crt", "-days", "30",
             "-extfile", f"{name}.ext", cwd=d)


def make_pki(d):
    """Writes a CA, a server certificate (SAN DNS:localhost, IP:127.0.0.1),
    a client certificate (CN=k8ssa-module) signed by the CA, an unrelated CA
    and a client certificate signed by it into directory d (created if
    needed). All files are mode 0644 so that httpd's children can read them.
    Returns a PKI with the paths."""
    os.makedirs(d, exist_ok=True)
    _make_ca(d, "ca", "k8ssa-test-ca")
    _make_ca(d, "other-ca", "unrelated-ca")
    _make_leaf(d, "server", "/CN=kube-apiserver", "ca", [
        "basicConstraints=CA:FALSE",
        "keyUsage=critical,digitalSignature,keyEncipherment",
        "extendedKeyUsage=serverAuth",
        "subjectAltName=DNS:localhost,IP:127.0.0.1",
    ])
    client_ext = [
        "basicConstraints=CA:FALSE",
        "keyUsage=critical,digitalSignature,keyEncipherment",
        "extendedKeyUsage=clientAuth",
    ]
    _make_leaf(d, "client", f"/O=system:auth-delegators/CN={MODULE_CERT_CN}", "ca", client_ext)
    _make_leaf(d, "other-client", f"/CN={MODULE_CERT_CN}", "other-ca", client_ext)
    for n in os.listdir(d):
        os.chmod(os.path.join(d, n), 0o644)
    j = lambda n: os.path.join(d, n)  # noqa: E731
    return PKI(dir=d, ca_cert=j("ca.crt"), ca_key=j("ca.key"),
               server_cert=j("server.crt"), server_key=j("server.key"),
               client_cert=j("client.crt"), client_key=j("client.key"),
               other_ca_cert=j("other-ca.crt"), other_ca_key=j("other-ca.key"),
               other_client_cert=j("other-client.crt"), other_client_key=j("other-client.key"))


# --------------------------------------------------------------------------
# Tokens


def _b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode("ascii")


def fake_jwt(sub, audiences, lifetime=3600, iss="https://kubernetes.default.svc.cluster.local",
             extra_claims=None, exp=None):
    """A token that looks like a Kubernetes bound service-account JWT:
    header.payload.signature, base64url, random signature and kid. exp
    (seconds since the epoch) wins over lifetime (seconds from now)."""
    now = int(time.time())
    header = {"alg": "RS256", "kid": _b64url(secrets.token_bytes(16))}
    payload = {"aud": list(audiences), "exp": int(exp) if exp is not None else now + lifetime,
               "iat": now, "nbf": now,
               "iss": iss, "sub": sub, "jti": str(uuid.uuid4())}
    if extra_claims:
        payload.update(extra_claims)
    return ".".join([_b64url(json.dumps(header, separators=(",", ":")).encode()),
                     _b64url(json.dumps(payload, separators=(",", ":")).encode()),
                     _b64url(secrets.token_bytes(256))])


def jwt_claims(token):
    """The payload of a JWT-shaped token (unverified), or None."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return None
    return claims if isinstance(claims, dict) else None


def status_object(code, reason, message):
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}


def _go_q(strings):
    """Go's %q of a []string: ["a" "b"]."""
    return "[" + " ".join(json.dumps(s) for s in strings) + "]"


# --------------------------------------------------------------------------
# The server


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, handler, api):
        self.api = api
        super().__init__(addr, handler)

    def get_request(self):
        sock, addr = self.socket.accept()
        # The TLS handshake happens in the handler's thread (setup()), so a
        # stalled client cannot block accept().
        tls = self.api.ssl_context.wrap_socket(sock, server_side=True,
                                               do_handshake_on_connect=False)
        self.api._on_connection(tls)
        return tls, addr

    def handle_error(self, request, client_address):
        # Resets, handshake failures and broken pipes are expected in tests.
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without TCP_NODELAY, Nagle plus
    # the client's delayed ACK adds 40 ms to every answer.
    disable_nagle_algorithm = True
    server_version = "kube-apiserver-standin"
    sys_version = ""

    def log_message(self, fmt, *args):
        if self.server.api.verbose:
            sys.stderr.write("standin: %s - %s\n" % (self.address_string(), fmt % args))

    def setup(self):
        self.request.settimeout(30)
        self.peer_cn = None
        self.conn_id = self.server.api._conn_serial(self.request)
        try:
            self.request.do_handshake()
            cert = self.request.getpeercert()
        except (ssl.SSLError, OSError):
            self.handshake_failed = True
            self.server.api._count("handshake_failures")
            super().setup()
            self.close_connection = True
            return
        self.handshake_failed = False
        if cert:
            for rdn in cert.get("subject", ()):
                for k, v in rdn:
                    if k == "commonName":
                        self.peer_cn = v
        self.request.settimeout(None)
        super().setup()

    def handle(self):
        if self.handshake_failed:
            return
        try:
            super().handle()
        except (OSError, ssl.SSLError):
            pass

    # -- helpers

    def _send(self, code, obj=None, raw=None, headers=()):
        body = raw if raw is not None else json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def _status(self, code, reason, message, headers=()):
        self._send(code, status_object(code, reason, message), headers=headers)

    def _read_body(self):
        te = self.headers.get("Transfer-Encoding", "")
        if te.lower() == "chunked":
            chunks = []
            while True:
                line = self.rfile.readline().strip()
                n = int(line.split(b";")[0], 16)
                if n == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(n))
                self.rfile.readline()
            return b"".join(chunks)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _reset(self):
        """Closes the connection abruptly (TCP RST), no answer."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            # detach(): the fd leaves Python's hands whatever the makefile()
            # references, so this close is the last one and sends the RST.
            os.close(self.connection.detach())
        except OSError:
            pass

    def _transport_and_caller(self, kind):
        """The fault of this exchange, after a reset or a slow answer has
        been played, and who the caller is: (fault, who, name), or (None, ..)
        when the exchange is over (reset, client gone, 401 sent)."""
        fault, arg = self.server.api._next_fault(kind)
        if fault == "reset":
            self._reset()
            return None, None, None
        if fault == "slow":
            if not self._wait_for_client(arg):
                return None, None, None
            fault = "normal"
        who, name = self._caller()
        if who == "unauthorized":
            self._status(401, "Unauthorized", "Unauthorized")
            return None, None, None
        return fault, who, name

    def _wait_for_client(self, seconds):
        """Sleeps like a slow API server; False when the client hung up
        meanwhile (kube-apiserver cancels a request whose client is gone, so
        it no longer counts as in flight)."""
        import select
        api = self.server.api
        deadline = time.time() + seconds
        while time.time() < deadline and not api._stop_sleep.is_set():
            try:
                readable, _, _ = select.select([self.connection], [], [], 0.05)
                if readable and not self.connection.recv(1):
                    self.close_connection = True
                    return False
            except (OSError, ssl.SSLError, ValueError):
                self.close_connection = True
                return False
        return True

    def _caller(self):
        """Returns (ok, name): who the caller is, or the answer to send."""
        api = self.server.api
        auth = self.headers.get("Authorization")
        if self.peer_cn is not None and self.peer_cn in api.client_cert_cns:
            return "ok", "cert:" + self.peer_cn
        if auth is not None:
            parts = auth.split(" ", 1)
            if len(parts) == 2 and parts[0].lower() == "bearer":
                tok = parts[1].strip()
                with api.lock:
                    if tok in api.forbidden_tokens:
                        return "forbidden", "system:serviceaccount:k8ssa:forbidden"
                    if tok in api.module_tokens:
                        return "ok", "token"
        return "unauthorized", None

    # -- verbs

    def do_GET(self):
        api = self.server.api
        path = self.path.split("?")[0]
        if path in ("/healthz", "/livez", "/readyz"):
            return self._send(200, raw=b"ok")
        if path not in (DISCOVERY_PATH, JWKS_PATH):
            return self._status(404, "NotFound",
                                "the server could not find the requested resource")
        with api.lock:
            api.key_fetches.append(path)
        fault, who, name = self._transport_and_caller("keys")
        if fault is None:
            return
        if who == "ok" and api.keys_forbidden:
            who, name = "forbidden", "system:serviceaccount:k8ssa:httpd"
        if who == "forbidden":
            return self._status(403, "Forbidden", 'forbidden: User "%s" cannot get path "%s"'
                                % (name, path))
        if fault in ("500", "503", "429"):
            return self._status(int(fault), "InternalError", "stand-in fault injection")
        if fault == "garbage":
            return self._send(200, raw=b"<html>not JSON</html>")
        if path == DISCOVERY_PATH:
            return self._send(200, {
                "issuer": api.issuer.issuer, "jwks_uri": api.url + JWKS_PATH,
                "response_types_supported": ["id_token"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["ES256", "RS256"]})
        body = json.dumps(api.issuer.jwks()).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/jwk-set+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        api = self.server.api
        with api.lock:
            api.in_flight += 1
            api.max_in_flight = max(api.max_in_flight, api.in_flight)
        try:
            self._post()
        finally:
            with api.lock:
                api.in_flight -= 1

    def _post(self):
        api = self.server.api
        body = self._read_body()
        path = self.path.split("?")[0]
        if path == TOKENREVIEW_PATH:
            kind = "token"
        elif path == ACCESSREVIEW_PATH:
            kind = "access"
        else:
            return self._status(404, "NotFound",
                                "the server could not find the requested resource")
        api._record(self, body, kind)

        fault, who, name = self._transport_and_caller(kind)
        if fault is None:
            return
        resource, group = ("tokenreviews", "authentication.k8s.io") if kind == "token" \
            else ("subjectaccessreviews", "authorization.k8s.io")
        if who == "ok" and kind == "access" and api.access_forbidden:
            who, name = "forbidden", "system:serviceaccount:k8ssa:httpd"
        if who == "forbidden":
            # RBAC's own words (staging/src/k8s.io/apiserver/pkg/endpoints/handlers/responsewriters)
            return self._status(
                403, "Forbidden",
                '%s.%s is forbidden: User "%s" cannot create resource "%s" in API group "%s" '
                'at the cluster scope' % (resource, group, name, resource, group))

        if fault == "500":
            return self._status(500, "InternalError",
                                "Internal error occurred: stand-in fault injection")
        if fault == "503":
            return self._status(503, "ServiceUnavailable",
                                "the server is currently unable to handle the request")
        if fault == "429":
            return self._status(429, "TooManyRequests",
                                "the server has received too many requests and has asked us "
                                "to try again later", headers=[("Retry-After", "1")])
        if fault == "garbage":
            return self._send(201, raw=b"<html><body>this is not JSON {\"kind\":</body></html>")

        ctype = self.headers.get("Content-Type", "")
        if ctype.split(";")[0].strip().lower() not in ("application/json", ""):
            return self._status(415, "UnsupportedMediaType",
                                'the body of the request was in an unknown format - accepted '
                                'media types include: application/json, application/yaml, '
                                'application/vnd.kubernetes.protobuf')
        try:
            review = json.loads(body)
            if not isinstance(review, dict):
                raise ValueError("not an object")
        except ValueError as e:
            return self._status(400, "BadRequest", "error decoding body: %s" % e)
        if kind == "access":
            return self._access_review(review, fault)
        if review.get("apiVersion") != "authentication.k8s.io/v1" or \
                review.get("kind") != "TokenReview":
            return self._status(400, "BadRequest",
                                "the API version in the data (%s) does not match the expected "
                                "API version (authentication.k8s.io/v1) or kind (%s) is not "
                                "TokenReview" % (review.get("apiVersion"), review.get("kind")))
        spec = review.get("spec") or {}
        if not isinstance(spec, dict):
            return self._status(400, "BadRequest", "spec must be an object")
        token = spec.get("token")
        if not token or not isinstance(token, str):
            return self._status(400, "BadRequest",
                                "token is required for TokenReview in authentication")

        status = api._review(token, spec.get("audiences"), fault == "control-chars")
        out = {"kind": "TokenReview", "apiVersion": "authentication.k8s.io/v1",
               "metadata": {"creationTimestamp": None}, "spec": spec, "status": status}
        self._send(200 if fault == "200" else 201, out)

    def _access_review(self, review, fault):
        """pkg/registry/authorization/subjectaccessreview and its validation
        (pkg/apis/authorization/validation)."""
        if review.get("apiVersion") != "authorization.k8s.io/v1" or \
                review.get("kind") != "SubjectAccessReview":
            return self._status(400, "BadRequest",
                                "the API version in the data (%s) does not match the expected "
                                "API version (authorization.k8s.io/v1) or kind (%s) is not "
                                "SubjectAccessReview" % (review.get("apiVersion"),
                                                         review.get("kind")))
        spec = review.get("spec")
        if not isinstance(spec, dict):
            return self._status(400, "BadRequest", "spec must be an object")
        ra, nra = spec.get("resourceAttributes"), spec.get("nonResourceAttributes")
        errors = []
        if ra is None and nra is None:
            errors.append("spec.resourceAttributes: Required value: exactly one of "
                          "nonResourceAttributes or resourceAttributes must be specified")
        if ra is not None and nra is not None:
            errors.append("spec.nonResourceAttributes: Invalid value: \"null\": cannot be "
                          "specified in combination with resourceAttributes")
        if not spec.get("user") and not spec.get("groups"):
            errors.append("spec.user: Invalid value: \"\": at least one of user or group "
                          "must be specified")
        if errors:
            return self._status(422, "Invalid", 'SubjectAccessReview.authorization.k8s.io "" '
                                'is invalid: [%s]' % ", ".join(errors))
        allowed, denied, reason = self.server.api._decide(spec)
        status = {"allowed": allowed}
        if denied:
            status["denied"] = True
        if reason:
            status["reason"] = reason
        if fault == "control-chars":
            status["reason"] = "allowed\r\nX-Injected: yes"
        out = {"kind": "SubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
               "metadata": {"creationTimestamp": None}, "spec": spec, "status": status}
        self._send(200 if fault == "200" else 201, out)


class KubeAPI:
    """The stand-in. Attributes tests may read or change (under .lock where
    it matters):

    connections  accepted TCP connections
    reviews      POSTs to the TokenReview path (faulted ones included)
    bodies       parsed JSON bodies of those POSTs (None when not JSON)
    requests     list of dicts {headers: [(k, v)], peer_cn, body, conn} per POST
                 (conn: serial number of the TCP connection it came on)
    access_reviews / access_bodies  the same for SubjectAccessReviews
    access_forbidden  refuse the module's credential create on
                 subjectaccessreviews (tokenreviews still allowed)
    key_fetches  paths of the GETs of discovery and key set; keys_forbidden
                 refuses them (403)
    max_in_flight  the most reviews answered at once since reset()
    issuer       signing.Issuer: rotate(), unpublished_key(), token()
    module_tokens / forbidden_tokens  caller bearer tokens accepted / refused (403)
    client_cert_cns  CNs of CA-signed client certificates that authenticate
    api_audiences    the API server's own audiences
    expiry_leeway    seconds a registered token with an `exp` is still accepted
                     after it (0; kube-apiserver's JWT validation allows 60)

    reviews_of(token) counts the reviews of one token.
    """

    def __init__(self, pki, host="127.0.0.1", port=0, api_audiences=None, verbose=False):
        self.pki = pki
        self.host = host
        self.req_port = port
        self.verbose = verbose
        self.lock = threading.Lock()
        self.ssl_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ssl_context.load_cert_chain(pki.server_cert, pki.server_key)
        self.ssl_context.load_verify_locations(pki.ca_cert)
        self.ssl_context.verify_mode = ssl.CERT_OPTIONAL
        self.default_api_audiences = list(api_audiences or DEFAULT_API_AUDIENCES)
        self._server = None
        self._thread = None
        self._socks = []
        self._stop_sleep = threading.Event()
        self._serial = 0          # connection numbers, never reset
        self._serials = {}
        self.issuer = Issuer(pki.dir)
        self.reset(keep_tokens=False)

    # -- lifecycle

    def start(self):
        self._server = _Server((self.host, self.req_port), _Handler, self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._stop_sleep.set()
        if self._server:
            self._server.shutdown()
            self._server.server_close()
        self.close_connections()
        if self._thread:
            self._thread.join(5)
        self._server = None

    def close_connections(self):
        with self.lock:
            socks, self._socks = self._socks, []
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def url(self):
        return "https://127.0.0.1:%d" % self.port

    def reset(self, keep_tokens=True):
        """Back to normal behaviour with zeroed counters. With keep_tokens the
        token registry and module credentials survive."""
        with self.lock:
            self._stop_sleep.set()
            self._stop_sleep = threading.Event()
            self.connections = 0
            self.reviews = 0
            self.access_reviews = 0
            self.handshake_failures = 0
            self.bodies = []
            self.access_bodies = []
            self.requests = []
            self.modes = {"token": ("normal", None), "access": ("normal", None),
                          "keys": ("normal", None)}
            self.key_fetches = []       # paths of GETs of discovery and key set
            self.in_flight = 0          # reviews being answered now
            self.max_in_flight = 0
            self.keys_forbidden = False
            self.expiry_leeway = 0
            # [(mode, arg)] consumed one per review of that kind
            self._oneshot = {"token": [], "access": [], "keys": []}
            self.rbac = RBAC()
            self.access_forbidden = False
            self.api_audiences = list(self.default_api_audiences)
            if not keep_tokens:
                self.tokens = {}
                self.module_tokens = set()
                self.forbidden_tokens = set()
                self.client_cert_cns = {MODULE_CERT_CN}

    # -- fault modes

    MODES = ("normal", "500", "429", "503", "garbage", "slow", "reset",
             "control-chars", "200")

    KINDS = ("token", "access", "keys")

    def set_mode(self, mode, arg=None, kind="token"):
        """Permanent mode of one kind of review (token, access). 'slow'
        takes arg = seconds to sleep before answering."""
        mode = str(mode)
        assert mode in self.MODES and kind in self.KINDS, (mode, kind)
        with self.lock:
            self.modes[kind] = (mode, arg)

    @property
    def mode(self):
        return self.modes["token"]

    def fail_next(self, n, mode, arg=None, kind="token"):
        """The next n reviews of that kind get mode (e.g. '500', '429',
        'reset'), then the permanent mode applies again."""
        mode = str(mode)
        assert mode in self.MODES and kind in self.KINDS, (mode, kind)
        with self.lock:
            self._oneshot[kind].extend([(mode, arg)] * n)

    def _next_fault(self, kind):
        with self.lock:
            if self._oneshot[kind]:
                return self._oneshot[kind].pop(0)
            return self.modes[kind]

    # -- authorization

    def set_rbac(self, objects, denies=()):
        """RBAC objects (dicts shaped like their manifests: Role, ClusterRole,
        RoleBinding, ClusterRoleBinding) and explicit denies ({subjects,
        rules, reason}) that decide SubjectAccessReviews from now on."""
        rbac = RBAC(objects, denies)
        with self.lock:
            self.rbac = rbac

    def _decide(self, spec):
        with self.lock:
            rbac = self.rbac
        return rbac.decide(spec)

    # -- counters

    def _conn_serial(self, sock):
        with self.lock:
            return self._serials.get(id(sock), 0)

    def _on_connection(self, sock):
        with self.lock:
            self.connections += 1
            self._serial += 1
            self._serials[id(sock)] = self._serial
            self._socks.append(sock)
            if len(self._socks) > 512:
                self._socks = [s for s in self._socks if s.fileno() >= 0]
                live = {id(s) for s in self._socks}
                self._serials = {k: v for k, v in self._serials.items() if k in live}

    def reviews_of(self, token):
        """How many reviews (faulted ones included) had this spec.token."""
        with self.lock:
            return sum(1 for b in self.bodies
                       if isinstance(b, dict) and isinstance(b.get("spec"), dict)
                       and b["spec"].get("token") == token)

    def _count(self, name):
        with self.lock:
            setattr(self, name, getattr(self, name) + 1)

    def _record(self, handler, body, kind):
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        with self.lock:
            if kind == "access":
                self.access_reviews += 1
                self.access_bodies.append(parsed)
            else:
                self.reviews += 1
                self.bodies.append(parsed)
            self.requests.append({"headers": list(handler.headers.items()),
                                  "peer_cn": handler.peer_cn, "body": parsed,
                                  "conn": handler.conn_id, "kind": kind})

    # -- caller credentials

    def module_token(self):
        """A new accepted module credential (kept along with the others)."""
        tok = fake_jwt("system:serviceaccount:k8ssa:httpd", self.api_audiences)
        with self.lock:
            self.module_tokens.add(tok)
        return tok

    def set_module_tokens(self, tokens):
        with self.lock:
            self.module_tokens = set(tokens)

    def set_forbidden_tokens(self, tokens):
        with self.lock:
            self.forbidden_tokens = set(tokens)

    # -- reviewed tokens

    def add_token(self, token, username, uid=None, groups=None, extra=None, audiences=None,
                  exp=None):
        """Registers token as authenticating username. audiences None: the
        API server's own audiences (as for a legacy/unbound token). exp
        (seconds since the epoch): from then on the token is rejected as
        expired (plus expiry_leeway); None: the token's own JWT exp claim
        when it has one, else it never expires."""
        user = {"username": username, "uid": uid if uid is not None else str(uuid.uuid4())}
        if groups is not None:
            user["groups"] = list(groups)
        if extra is not None:
            user["extra"] = {k: list(v) for k, v in extra.items()}
        if exp is None:
            claims = jwt_claims(token)
            if claims and isinstance(claims.get("exp"), (int, float)):
                exp = claims["exp"]
        with self.lock:
            self.tokens[token] = {"user": user,
                                  "audiences": None if audiences is None else list(audiences),
                                  "exp": exp}
        return token

    def user_token(self, username, groups=None, extra=None, audiences=None):
        """A random opaque token for a non-service-account user (e.g. alice)."""
        tok = _b64url(secrets.token_bytes(32))
        return self.add_token(tok, username, groups=groups, extra=extra, audiences=audiences)

    def sa_token(self, ns, name, audiences=None, extra=None, lifetime=3600, exp=None,
                 alg="RS256", nbf=None, register=True, key=None, header=None):
        """Mints a bound service-account token for system:serviceaccount:ns:name
        (random each call) and registers it. audiences None: the API
        server's audiences. extra None: the pod-name / pod-uid extras.
        lifetime: seconds until its exp claim (whole seconds: exp is
        int(now) + lifetime); exp: the claim itself, which wins. Once exp has
        passed, reviews reject the token as kube-apiserver does. The token is
        signed by the issuer's current key for alg (RS256 or ES256), or by
        key (a signing.Key), with header overriding the protected header;
        register False: the API server does not know it (a forgery)."""
        username = "system:serviceaccount:%s:%s" % (ns, name)
        auds = list(audiences) if audiences is not None else list(self.api_audiences)
        if extra is None:
            extra = {"authentication.kubernetes.io/pod-name": ["%s-%s" % (name, secrets.token_hex(3))],
                     "authentication.kubernetes.io/pod-uid": [str(uuid.uuid4())]}
        now = int(time.time())
        claims = {"aud": auds, "exp": int(exp) if exp is not None else now + lifetime,
                  "iat": now, "nbf": int(nbf) if nbf is not None else now,
                  "iss": self.issuer.issuer, "sub": username, "jti": str(uuid.uuid4()),
                  "kubernetes.io": {"namespace": ns, "serviceaccount": {"name": name}}}
        tok = self.issuer.token(claims, alg=alg, key=key, header=header)
        if not register:
            return tok
        self.add_token(tok, username,
                       groups=["system:serviceaccounts", "system:serviceaccounts:%s" % ns,
                               "system:authenticated"],
                       extra=extra, audiences=auds)
        return tok

    def remove_token(self, token):
        with self.lock:
            self.tokens.pop(token, None)

    def user_of(self, token):
        with self.lock:
            return json.loads(json.dumps(self.tokens[token]["user"]))

    def _review(self, token, spec_audiences, control_chars):
        with self.lock:
            entry = self.tokens.get(token)
            api_auds = list(self.api_audiences)
            leeway = self.expiry_leeway
            entry = json.loads(json.dumps(entry)) if entry else None
        requested = list(spec_audiences) if spec_audiences else api_auds
        if entry is None:
            return {"user": {},
                    "error": "[invalid bearer token, square/go-jose: error in cryptographic "
                             "primitive]"}
        if entry.get("exp") is not None and time.time() >= entry["exp"] + leeway:
            # pkg/serviceaccount/claims.go, through the union authenticator
            return {"user": {},
                    "error": "[invalid bearer token, service account token has expired]"}
        tok_auds = entry["audiences"] if entry["audiences"] is not None else api_auds
        shared = [a for a in tok_auds if a in requested]
        if not shared:
            return {"user": {},
                    "error": "[invalid bearer token, token audiences %s is invalid for the "
                             "target audiences %s]" % (_go_q(tok_auds), _go_q(requested))}
        user = entry["user"]
        if control_chars:
            user["username"] = user["username"] + "\r\nX-Injected: yes"
        return {"authenticated": True, "user": user, "audiences": shared}


# --------------------------------------------------------------------------
# Command line


def _write(path, text, mode=0o644):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Kubernetes TokenReview API stand-in")
    ap.add_argument("--listen", default="127.0.0.1:6443", help="HOST:PORT")
    ap.add_argument("--pki-dir", required=True, help="where to write the CA and certificates")
    ap.add_argument("--module-token-file", help="write an accepted module token here")
    ap.add_argument("--demo-token-file", help="write a valid token of demo:client here")
    ap.add_argument("--api-audience", action="append",
                    help="the API server's audiences (default %s)" % DEFAULT_API_AUDIENCES[0])
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args(argv)
    host, _, port = a.listen.rpartition(":")
    pki = make_pki(a.pki_dir)
    api = KubeAPI(pki, host=host or "127.0.0.1", port=int(port),
                  api_audiences=a.api_audience, verbose=a.verbose)
    if a.module_token_file:
        _write(a.module_token_file, api.module_token() + "\n")
    if a.demo_token_file:
        _write(a.demo_token_file, api.sa_token("demo", "client") + "\n")
    api.start()
    print("kube-apiserver stand-in on https://%s:%d (CA %s)" % (host, api.port, pki.ca_cert),
          flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        api.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
