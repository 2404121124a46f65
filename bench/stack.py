"""The processes the benchmark runs, all on 127.0.0.1 with free ports, all
under one temporary directory: the API stand-in (nginx answering fixed
bodies over TLS), httpd with mod_auth_k8ssa, httpd with mod_auth_openidc,
and the bench token. run.py measures, callgrind.py counts instructions."""

import base64
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "kubeapi"))
from standin import make_pki  # noqa: E402

MODS = "/usr/lib/apache2/modules"
OPENIDC_SO = os.path.join(MODS, "mod_auth_openidc.so")
APACHE = "/usr/sbin/apache2"
NGINX = "/usr/sbin/nginx"

# httpd alone on core 0; wrk and the stand-in share core 1.
HTTPD_CPU = 0
LOAD_CPU = 1

# Both httpds: mpm_event, two children of 32 threads, both alive all run long.
CHILDREN = 2
THREADS_PER_CHILD = 64

ISSUER = "https://kubernetes.default.svc.cluster.local"
USERNAME = "system:serviceaccount:bench:client"
GROUPS = ["system:serviceaccounts", "system:serviceaccounts:bench", "system:authenticated"]
# The Lua scripts replace this many characters at the end of the signature.
SUFFIX_LEN = 10
# The spin location's busy loop per request (bench/spin.c): a yardstick of
# known user-space CPU, about half of the module's own work on a hit.
SPIN_NANOSECONDS = 1000
# Every request of the bench gets this file: 6 bytes.
BODY = "hello\n"
LOCATIONS = ("plain", "hit", "can", "miss", "herd", "spin")
# The locations each httpd authenticates (the others serve the file freely).
PROTECTED = {"k8ssa": ("hit", "can", "miss", "herd"), "openidc": ("hit", "miss")}

TOKENREVIEW_URI = "/apis/authentication.k8s.io/v1/tokenreviews"
ACCESSREVIEW_URI = "/apis/authorization.k8s.io/v1/subjectaccessreviews"
INTROSPECTION_URI = "/introspect"
REVIEW_URIS = (TOKENREVIEW_URI, ACCESSREVIEW_URI, INTROSPECTION_URI)
# nginx writes its buffered access log at most this long after a line.
LOG_FLUSH_SECONDS = 1


class Processes:
    """Every process the harness starts; stop_all() ends them, newest first.
    Each runs in a session of its own, so that a Ctrl-C on the terminal
    reaches only the harness, which then stops them in order."""

    def __init__(self):
        self._procs = []

    def start(self, argv, cpu, **popen_args):
        proc = subprocess.Popen(["taskset", "-c", str(cpu)] + argv,
                                start_new_session=True, **popen_args)
        self._procs.append(proc)
        return proc

    def stop_all(self):
        for proc in reversed(self._procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    # the session's group: httpd's children, nginx's worker
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
        self._procs.clear()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_file(path, text, mode=0o644):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


# --------------------------------------------------------------------------
# The bench token


B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_digits(n, width):
    """n as exactly width base64url digits, as token.lua writes them."""
    assert 0 <= n < 64 ** width
    return "".join(B64URL[n // 64 ** i % 64] for i in reversed(range(width)))


def bench_token(now):
    """A JWT-shaped service-account token of about 860 characters: the claims
    `kubectl create token` gives (no pod binding), valid for a day
    (AuthK8sTokenPrecheck lets it through to the review), and a random
    342-character "signature" (the size of an RS256 one)."""
    header = {"alg": "RS256", "kid": b64url(secrets.token_bytes(32))}
    claims = {
        "aud": [ISSUER], "exp": now + 86400, "iat": now, "iss": ISSUER,
        "kubernetes.io": {"namespace": "bench",
                          "serviceaccount": {"name": "client", "uid": str(uuid.uuid4())}},
        "nbf": now, "sub": USERNAME,
    }
    parts = [json.dumps(part, separators=(",", ":")).encode() for part in (header, claims)]
    return ".".join([b64url(p) for p in parts] + [b64url(secrets.token_bytes(256))])


# --------------------------------------------------------------------------
# The API stand-in: nginx with fixed answers


def tokenreview_answer(echoed_token):
    """What kube-apiserver answers for a valid token when the request named
    no audiences: the API server's own audiences, and the request's spec
    echoed, token and all. A fixed answer cannot echo each request's token:
    one of the same length costs the module the same to parse and wipe."""
    return {
        "apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview",
        "metadata": {"creationTimestamp": None}, "spec": {"token": echoed_token},
        "status": {
            "authenticated": True,
            "user": {"username": USERNAME, "uid": "6b3f2a5e-0c4d-4b8e-9a61-3d2f1c0b9e77",
                     "groups": GROUPS},
            "audiences": [ISSUER],
        },
    }


def accessreview_answer():
    return {
        "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
        "metadata": {"creationTimestamp": None}, "spec": {},
        "status": {"allowed": True, "reason": "bench stand-in allows everything"},
    }


def introspection_answer(now):
    """RFC 7662 for mod_auth_openidc; it caches the result until exp."""
    return {"active": True, "sub": USERNAME, "client_id": "bench",
            "exp": now + 86400, "iat": now}


def nginx_literal(obj):
    """obj as JSON inside a single-quoted nginx string: JSON here has no
    quote, backslash or '$' (nginx variables) to escape."""
    text = json.dumps(obj, separators=(",", ":"))
    assert not set("'\\$") & set(text), text
    return "'%s'" % text


def nginx_conf(work, port, pki, now):
    """nginx as the API server: one worker, TLS, connections kept alive
    (kube-apiserver keeps them too), an access log the harness counts.
    `return` discards the request body before answering, so keep-alive
    holds after a POST."""
    answers = [(TOKENREVIEW_URI, 201, tokenreview_answer(bench_token(now))),
               (ACCESSREVIEW_URI, 201, accessreview_answer()),
               (INTROSPECTION_URI, 200, introspection_answer(now))]
    locations = "".join(
        f"""        location = {uri} {{
            default_type application/json;
            return {code} {nginx_literal(body)};
        }}
""" for uri, code, body in answers)
    temp = "\n".join(f"    {kind}_temp_path {work}/nginx-{kind};"
                     for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return f"""worker_processes 1;
daemon off;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
events {{
    worker_connections 4096;
}}
http {{
{temp}
    log_format bench '$connection $connection_requests $uri $status';
    access_log {work}/nginx-access.log bench buffer=256k flush={LOG_FLUSH_SECONDS}s;
    keepalive_requests 1000000;
    keepalive_timeout 300s;
    client_body_buffer_size 64k;
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {pki.server_cert};
        ssl_certificate_key {pki.server_key};
{locations}        location / {{
            return 404;
        }}
    }}
}}
"""


class StandinLog:
    """The stand-in's access log: what it saw between two points in time."""

    def __init__(self, path):
        self.path = path

    def offset(self):
        """The log's end once everything before now is written."""
        time.sleep(LOG_FLUSH_SECONDS + 0.5)
        return os.path.getsize(self.path)

    def since(self, offset):
        """What the lines written from offset until now count: reviews (by
        URI, and all three together), new TLS connections (a connection's
        first request), answers that were not 2xx, requests for other URIs."""
        end = self.offset()
        with open(self.path, "rb") as f:
            f.seek(offset)
            lines = f.read(end - offset).decode().splitlines()
        counts = {"by_uri": dict.fromkeys(REVIEW_URIS, 0), "tls": 0, "bad_status": 0,
                  "other_uris": 0}
        for line in lines:
            _conn, conn_requests, uri, status = line.split()
            counts["tls"] += conn_requests == "1"
            if uri in REVIEW_URIS:
                counts["by_uri"][uri] += 1
            else:
                counts["other_uris"] += 1
            counts["bad_status"] += not status.startswith("2")
        counts["reviews"] = sum(counts["by_uri"].values())
        return counts


class Standin:
    def __init__(self, processes, work, now):
        self.pki = make_pki(os.path.join(work, "pki"))
        self.port = free_port()
        self.url = "https://127.0.0.1:%d" % self.port
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            os.makedirs(os.path.join(work, "nginx-" + kind))
        conf = write_file(os.path.join(work, "nginx.conf"),
                          nginx_conf(work, self.port, self.pki, now))
        write_file(os.path.join(work, "nginx-access.log"), "")
        self.log = StandinLog(os.path.join(work, "nginx-access.log"))
        self.proc = processes.start([NGINX, "-c", conf, "-p", work], LOAD_CPU)
        wait_for_port(self.port, self.proc, "nginx")


def wait_for_port(port, proc, name, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise StartFailed("%s exited with %d" % (name, proc.returncode))
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise StartFailed("%s: no listener on port %d after %d s" % (name, port, seconds))


class StartFailed(Exception):
    pass


# --------------------------------------------------------------------------
# httpd


def httpd_conf(d, port, docs, modules, server_lines, locations):
    """One layout for both httpds: same MPM, limits and static file; only the
    authentication modules and their locations differ. StartServers equal to
    ServerLimit and MaxSpareThreads above all threads: both children live
    the whole run. The bench asks for index.html by name: mod_dir (loaded as
    in any httpd) makes no internal redirect. AllowOverride None, as an
    administrator sets it: otherwise every request tries six .htaccess files,
    which makes every request dearer and every ratio look better."""
    user = "User www-data\nGroup www-data\n" if os.geteuid() == 0 else ""
    loads = "".join("LoadModule %s %s\n" % m for m in modules)
    blocks = "".join("<Location /%s/>\n%s</Location>\n" % (name, "".join(
        "    %s\n" % line for line in lines)) for name, lines in locations)
    return f"""ServerRoot "{d}"
ServerName localhost
Listen 127.0.0.1:{port}
PidFile "{d}/httpd.pid"
DefaultRuntimeDir "{d}"
ErrorLog "{d}/error.log"
LogLevel warn
{user}LoadModule mpm_event_module {MODS}/mod_mpm_event.so
LoadModule authn_core_module {MODS}/mod_authn_core.so
LoadModule authz_core_module {MODS}/mod_authz_core.so
LoadModule authz_user_module {MODS}/mod_authz_user.so
LoadModule mime_module {MODS}/mod_mime.so
LoadModule dir_module {MODS}/mod_dir.so
{loads}StartServers {CHILDREN}
ServerLimit {CHILDREN}
ThreadsPerChild {THREADS_PER_CHILD}
ThreadLimit {THREADS_PER_CHILD}
MaxRequestWorkers {CHILDREN * THREADS_PER_CHILD}
MinSpareThreads {THREADS_PER_CHILD}
MaxSpareThreads {(CHILDREN + 1) * THREADS_PER_CHILD}
KeepAlive On
MaxKeepAliveRequests 0
TypesConfig /etc/mime.types
<Directory />
    AllowOverride None
</Directory>
DocumentRoot "{docs}"
<Directory "{docs}">
    Require all granted
</Directory>
{server_lines}{blocks}"""


def k8ssa_conf(d, port, docs, module, spin_module, standin, token_file):
    # The review cap defaults to 16 per child, below the 32 threads: a miss
    # benchmark must measure reviews, not the 503s that shed them.
    server = f"""AuthK8sAPIServer {standin.url}
AuthK8sCAFile "{standin.pki.ca_cert}"
AuthK8sTokenFile "{token_file}"
AuthK8sReviewConcurrency {THREADS_PER_CHILD}
"""
    auth = ["AuthType KubernetesServiceAccount", "AuthName bench"]
    # An hour instead of 120 s / 300 s: no entry of the hot-path scenarios
    # expires during a run (rounds are minutes apart).
    ttl = ["AuthK8sCacheTTL 3600", "AuthK8sAccessCacheTTL 3600"]
    locations = [("hit", auth + ttl + ["Require valid-user"]),
                 # alone: next to `Require valid-user` (RequireAny) it would
                 # never be asked
                 ("can", auth + ttl + ["Require k8s-can get pods"]),
                 ("miss", auth + ["Require valid-user"]),
                 ("herd", auth + ["Require valid-user"])]
    assert PROTECTED["k8ssa"] == tuple(name for name, _ in locations)
    locations.append(("spin", ["BenchSpinNanoseconds %d" % SPIN_NANOSECONDS]))
    modules = [("socache_shmcb_module", MODS + "/mod_socache_shmcb.so"),
               ("auth_k8ssa_module", module), ("bench_spin_module", spin_module)]
    return httpd_conf(d, port, docs, modules, server, locations)


def openidc_conf(d, port, docs, standin):
    # Encrypted: openidc's shm cache holds keys of at most 512 bytes, so with
    # the plain token as key an 860-byte token is never cached; encryption
    # hashes the key. The cache keeps openidc's default size (500 entries).
    server = f"""OIDCOAuthIntrospectionEndpoint {standin.url}{INTROSPECTION_URI}
OIDCOAuthClientID bench
OIDCOAuthClientSecret bench-secret
OIDCOAuthSSLValidateServer On
OIDCCABundlePath "{standin.pki.ca_cert}"
OIDCOAuthRemoteUserClaim sub
OIDCCacheType shm
OIDCCacheEncrypt On
OIDCCryptoPassphrase {secrets.token_hex(16)}
"""
    auth = ["AuthType oauth20", "Require valid-user"]
    locations = [(name, auth) for name in PROTECTED["openidc"]]
    modules = [("auth_openidc_module", OPENIDC_SO)]
    return httpd_conf(d, port, docs, modules, server, locations)


class Httpd:
    """One httpd: its directory (conf, pid, error log, runtime files)."""

    def __init__(self, work, name, conf_of_dir):
        self.name = name
        self.dir = os.path.join(work, name)
        os.makedirs(self.dir)
        self.port = free_port()
        self.conf = write_file(os.path.join(self.dir, "httpd.conf"),
                               conf_of_dir(self.dir, self.port))
        self.base = "http://127.0.0.1:%d" % self.port
        self.proc = None

    def start(self, processes, wrapper=(), one_process=False):
        argv = list(wrapper) + [APACHE, "-f", self.conf, "-DFOREGROUND"]
        self.proc = processes.start(argv + (["-X"] if one_process else []), HTTPD_CPU)
        wait_for_port(self.port, self.proc, "httpd " + self.name, 120 if wrapper else 20)
        return self

    def url(self, location):
        return "%s/%s/index.html" % (self.base, location)


def http_status(url, header=None):
    """The status of one GET (a new connection each time)."""
    req = urllib.request.Request(url, headers=dict([header]) if header else {})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            resp.read()
            return resp.status
    except urllib.error.HTTPError as e:
        return e.code


def make_docs(work):
    docs = os.path.join(work, "htdocs")
    for name in LOCATIONS:
        os.makedirs(os.path.join(docs, name))
        write_file(os.path.join(docs, name, "index.html"), BODY)
    return docs


def make_workdir():
    work = tempfile.mkdtemp(prefix="k8ssa-bench.")
    os.chmod(work, 0o755)  # httpd's children run as www-data
    return work


def build_spin_module(work):
    """bench/spin.c built with apxs in the work directory; its .so path."""
    src_dir = os.path.join(work, "spin")
    os.makedirs(src_dir)
    src = os.path.join(src_dir, "mod_bench_spin.c")
    shutil.copyfile(os.path.join(HERE, "spin.c"), src)
    try:
        out = subprocess.run(["apxs", "-c", "-Wc,-Wall", "-Wc,-Wextra", "-Wc,-Werror", src],
                             cwd=src_dir, capture_output=True, text=True)
    except FileNotFoundError:
        raise StartFailed("apxs is missing: install apache2-dev (./scripts/deps.sh)")
    so = os.path.join(src_dir, ".libs", "mod_bench_spin.so")
    if out.returncode != 0 or not os.path.exists(so):
        raise StartFailed("apxs could not build bench/spin.c:\n" + out.stdout + out.stderr)
    os.chmod(so, 0o644)
    return so


def copy_module(module, work):
    """A private copy: the build may replace the .so during the run."""
    copy = os.path.join(work, "mod_auth_k8ssa.so")
    shutil.copyfile(module, copy)
    os.chmod(copy, 0o644)
    return copy
