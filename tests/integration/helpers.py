"""Harness for the integration suite: a work directory httpd's children can
read, the Kubernetes API stand-in, an echo backend, a CGI script and an httpd
launcher. conftest.py turns these into fixtures; tests import the helpers."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
TOP_SRCDIR = os.path.abspath(os.environ.get("top_srcdir") or ROOT)
TOP_BUILDDIR = os.path.abspath(os.environ.get("top_builddir") or ROOT)
sys.path.insert(0, os.path.join(TOP_SRCDIR, "tests", "kubeapi"))

from standin import KubeAPI, MODULE_CERT_CN, make_pki  # noqa: E402

MODULE_SO = os.environ.get("K8SSA_MODULE_SO") or \
    os.path.join(TOP_BUILDDIR, ".libs", "mod_auth_k8ssa.so")
APACHE2 = os.environ.get("APACHE2", "/usr/sbin/apache2")
MODDIR = os.environ.get("APACHE2_MODULES", "/usr/lib/apache2/modules")
HTTPD_THREADS = 8
# The MPM every httpd of the suite runs (K8SSA_MPM: event, worker, prefork).
MPM = os.environ.get("K8SSA_MPM", "event")
assert MPM in ("event", "worker", "prefork"), "K8SSA_MPM must be event, worker or prefork"
# A module built with ASan+UBSan: httpd (not instrumented itself) needs the
# sanitizer runtime first in its library list (K8SSA_SANITIZER_PRELOAD, the
# path of libasan.so); leak checking is off, as httpd frees little at exit.
SANITIZER_PRELOAD = os.environ.get("K8SSA_SANITIZER_PRELOAD") or None
SANITIZER_REPORT = re.compile(r"(AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer"
                              r"|ThreadSanitizer|runtime error:)")
# Every sanitizer report seen in an httpd log: (httpd dir, lines).
SANITIZER_REPORTS = []
SOCACHE_PROVIDERS = ("shmcb", "memcache", "redis")
REALM = "k8s test"


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_file(path, text, mode=0o644):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


def parse_challenge(value):
    """'Bearer realm="x", error="y"' -> ('bearer', {'realm': 'x', 'error': 'y'})."""
    m = re.match(r'\s*([A-Za-z0-9!#$%&\'*+.^_`|~-]+)\s*(.*)$', value or "")
    assert m, "unparseable challenge %r" % value
    scheme, rest = m.group(1).lower(), m.group(2)
    params = {}
    pos = 0
    pat = re.compile(r'\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*(?:,|$)')
    while pos < len(rest):
        pm = pat.match(rest, pos)
        assert pm and pm.end() > pos, "unparseable challenge parameters %r" % value
        params[pm.group(1).lower()] = re.sub(r'\\(.)', r'\1', pm.group(2)) \
            if pm.group(2) is not None else pm.group(3)
        pos = pm.end()
    return scheme, params


def assert_bearer_challenge(values, error=None, realm=REALM):
    """values (the WWW-Authenticate fields of an answer) are exactly one
    Bearer challenge with this realm and error (None: no error parameter).
    An error_description is tolerated."""
    assert len(values) == 1, "WWW-Authenticate fields: %r" % values
    scheme, params = parse_challenge(values[0])
    assert scheme == "bearer", values[0]
    params.pop("error_description", None)
    expected = {"realm": realm}
    if error is not None:
        expected["error"] = error
    assert params == expected, values[0]


def assert_challenge(resp, error=None, realm=REALM):
    """assert_bearer_challenge on a requests response."""
    assert_bearer_challenge(
        [v for k, v in resp.raw.headers.items() if k.lower() == "www-authenticate"],
        error, realm)


def assert_no_challenge(resp):
    assert "WWW-Authenticate" not in resp.headers, resp.headers.get("WWW-Authenticate")


def bearer(token):
    return {"Authorization": "Bearer " + token}


# --------------------------------------------------------------------------
# Echo backend


class _EchoHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def _answer(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        with self.server.lock:
            self.server.count += 1
        body = json.dumps({"method": self.command, "path": self.path,
                           "headers": [[k, v] for k, v in self.headers.items()]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        # /...?x-accel-redirect=PATH: the answer asks nginx for PATH
        # (what an application may do; the gateway examples ignore it)
        if "x-accel-redirect=" in self.path:
            self.send_header("X-Accel-Redirect", self.path.split("x-accel-redirect=", 1)[1])
        self.end_headers()
        if self.command != "HEAD":     # a body after HEAD would corrupt keep-alive
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _answer


class EchoBackend:
    def __init__(self):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoHandler)
        self.server.daemon_threads = True
        self.server.lock = threading.Lock()
        self.server.count = 0
        self.port = self.server.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()

    @property
    def count(self):
        return self.server.count

    def reset(self):
        with self.server.lock:
            self.server.count = 0

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def echo_headers(resp):
    """The headers the echo backend received: list of [name, value]."""
    assert resp.status_code == 200, (resp.status_code, resp.text[:500])
    return resp.json()["headers"]


def header_values(headers, name):
    return [v for k, v in headers if k.lower() == name.lower()]


CGI_SCRIPT = """#!/usr/bin/python3
import json, os
body = json.dumps(dict(os.environ))
print("Content-Type: application/json")
print("Content-Length: %d" % len(body.encode()))
print()
print(body, end="")
"""


# --------------------------------------------------------------------------
# httpd


CONF_TEMPLATE = """\
ServerRoot "{dir}"
ServerName localhost
Listen 127.0.0.1:{port}
PidFile "{dir}/httpd.pid"
DefaultRuntimeDir "{dir}/run"
ErrorLog "{dir}/error.log"
LogLevel warn auth_k8ssa:debug

LoadModule mpm_{mpm}_module {moddir}/mod_mpm_{mpm}.so
LoadModule authn_core_module {moddir}/mod_authn_core.so
LoadModule authz_core_module {moddir}/mod_authz_core.so
LoadModule authz_user_module {moddir}/mod_authz_user.so
LoadModule authz_host_module {moddir}/mod_authz_host.so
LoadModule proxy_module {moddir}/mod_proxy.so
LoadModule proxy_http_module {moddir}/mod_proxy_http.so
LoadModule cgid_module {moddir}/mod_cgid.so
LoadModule alias_module {moddir}/mod_alias.so
LoadModule env_module {moddir}/mod_env.so
LoadModule headers_module {moddir}/mod_headers.so
LoadModule setenvif_module {moddir}/mod_setenvif.so
{socache}LoadModule auth_k8ssa_module {so}
{usergroup}
{mpm_sizing}
MaxConnectionsPerChild 0
LimitRequestFieldSize 65536
Timeout 30
KeepAlive On
KeepAliveTimeout 5

LogFormat "%h \\"%u\\" \\"%r\\" %>s %D" k8ssa
CustomLog "{dir}/access.log" k8ssa

ScriptAlias /cgi/ "{cgidir}/"

# ---- server-level module configuration
{server_conf}

# ---- test configuration
{conf}
"""


# One child with `threads` threads; prefork: up to `threads` processes.
MPM_SIZING = {
    "threaded": """StartServers 1
ServerLimit 1
ThreadsPerChild {threads}
ThreadLimit {threads}
MinSpareThreads 1
MaxSpareThreads {threads}
MaxRequestWorkers {threads}""",
    "prefork": """StartServers {start}
MinSpareServers 1
MaxSpareServers {threads}
ServerLimit {threads}
MaxRequestWorkers {threads}""",
}


def mpm_sizing(threads):
    if MPM == "prefork":
        return MPM_SIZING["prefork"].format(threads=threads, start=min(2, threads))
    return MPM_SIZING["threaded"].format(threads=threads)


def sanitizer_reports_in(text):
    """The lines of text that come from a sanitizer report."""
    return [l for l in text.splitlines() if SANITIZER_REPORT.search(l)]


class Httpd:
    def __init__(self, harness, conf, server_conf=None, env=None, name="httpd",
                 threads=HTTPD_THREADS, socache=True):
        self.h = harness
        self.conf = conf
        self.server_conf = harness.default_server_conf() if server_conf is None else server_conf
        self.env = env
        self.threads = threads
        self.socache = socache
        self.port = free_port()
        self.dir = harness.subdir(name)
        os.makedirs(os.path.join(self.dir, "run"), mode=0o755, exist_ok=True)
        self.conf_path = os.path.join(self.dir, "httpd.conf")
        self.proc = None
        self.log_path = os.path.join(self.dir, "error.log")
        self._scanned = {}

    def config_text(self):
        return self.h.config_text(self.dir, self.port, self.conf, self.server_conf,
                                  threads=self.threads, socache=self.socache)

    def url(self, path="/"):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def start(self, timeout=15):
        write_file(self.conf_path, self.config_text())
        out = open(os.path.join(self.dir, "stdout.log"), "wb")
        # A session of its own: prefork's parent signals its whole process
        # group (getpgrp()) at shutdown, which would include pytest.
        self.proc = subprocess.Popen([APACHE2, "-f", self.conf_path, "-DFOREGROUND"],
                                     env=httpd_env(self.env), stdout=out,
                                     stderr=subprocess.STDOUT, cwd=self.dir,
                                     start_new_session=True)
        out.close()
        deadline = time.time() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("httpd exited with %s at startup:\n%s" %
                                   (self.proc.returncode, self.logs()))
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    break
            except OSError:
                pass
            if time.time() > deadline:
                self.stop()
                raise RuntimeError("httpd did not listen in time:\n" + self.logs())
            time.sleep(0.05)
        self.h.live.append(self)
        return self

    def graceful(self):
        """`apache2 -k graceful`: SIGUSR1 to the parent (started with
        -DFOREGROUND, so self.proc is the parent)."""
        self.proc.send_signal(signal.SIGUSR1)

    def stop(self):
        if self in self.h.live:
            self.h.live.remove(self)
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.check_sanitizers()

    def check_sanitizers(self):
        """Records the sanitizer reports its logs gained since the last check
        (SANITIZER_REPORTS); returns them."""
        found = []
        for name in ("stdout.log", "error.log"):
            path = os.path.join(self.dir, name)
            start = self._scanned.get(name, 0)
            try:
                with open(path, "rb") as f:
                    f.seek(start)
                    data = f.read()
            except OSError:
                continue
            self._scanned[name] = start + len(data)
            found += sanitizer_reports_in(data.decode(errors="replace"))
        if found:
            SANITIZER_REPORTS.append((self.dir, found))
        return found

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def log_mark(self):
        """Position in the error log; new_log_lines(mark) gives what came after."""
        try:
            return os.path.getsize(self.log_path)
        except OSError:
            return 0

    def new_log_lines(self, mark):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(mark)
                return f.read().decode(errors="replace").splitlines()
        except OSError:
            return []

    def module_warnings(self, mark=0):
        """The module's warn-level lines in the error log after mark."""
        return [l for l in self.new_log_lines(mark) if "[auth_k8ssa:warn]" in l]

    def error_log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def logs(self):
        text = ""
        p = os.path.join(self.dir, "stdout.log")
        if os.path.exists(p):
            with open(p, errors="replace") as f:
                text += f.read()
        return text + self.error_log()


# --------------------------------------------------------------------------
# Shared cache servers: a real memcached and a real redis-server of our own
# on free ports (never the system's services), with minimal clients over raw
# sockets (the text protocol, RESP) to list, read and overwrite entries.


def _wait_listen(proc, port, what, logpath, timeout=10):
    deadline = time.time() + timeout
    while True:
        if proc.poll() is not None:
            with open(logpath, errors="replace") as f:
                raise RuntimeError("%s exited with %s:\n%s" % (what, proc.returncode, f.read()))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            pass
        if time.time() > deadline:
            raise RuntimeError("%s did not listen on %d in time" % (what, port))
        time.sleep(0.05)


class _CacheServer:
    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def _connect(self):
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        return sock, sock.makefile("rb")


class Memcached(_CacheServer):
    """memcached -l 127.0.0.1 -p PORT -U 0 [-u nobody]."""

    def __init__(self, workdir):
        self.port = free_port()
        self.log = os.path.join(workdir, "memcached-%d.log" % self.port)
        args = ["/usr/bin/memcached", "-l", "127.0.0.1", "-p", str(self.port), "-U", "0"]
        if os.geteuid() == 0:
            args += ["-u", "nobody"]
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
        _wait_listen(self.proc, self.port, "memcached", self.log)
        self.spec = "memcache:127.0.0.1:%d" % self.port

    def keys(self):
        """All keys, by `lru_crawler metadump all`."""
        from urllib.parse import unquote
        for _ in range(50):
            sock, f = self._connect()
            try:
                sock.sendall(b"lru_crawler metadump all\r\n")
                keys, busy = [], False
                while True:
                    line = f.readline()
                    if not line:
                        raise RuntimeError("memcached closed the connection")
                    line = line.rstrip(b"\r\n").decode()
                    if line == "END":
                        break
                    if line.startswith("BUSY"):
                        busy = True
                        break
                    if line.startswith(("ERROR", "CLIENT_ERROR", "SERVER_ERROR")):
                        raise RuntimeError("memcached: " + line)
                    for field in line.split():
                        if field.startswith("key="):
                            keys.append(unquote(field[4:]))
            finally:
                f.close()
                sock.close()
            if not busy:
                return sorted(keys)
            time.sleep(0.05)
        raise RuntimeError("memcached lru_crawler stayed busy")

    def get(self, key):
        """(flags, value bytes), or None."""
        sock, f = self._connect()
        try:
            sock.sendall(b"get " + key.encode() + b"\r\n")
            line = f.readline().rstrip(b"\r\n").split()
            if line == [b"END"]:
                return None
            assert line[0] == b"VALUE", line
            flags, n = int(line[2]), int(line[3])
            data = f.read(n + 2)[:n]
            assert f.readline() == b"END\r\n"
            return flags, data
        finally:
            f.close()
            sock.close()

    def set(self, key, value, flags=0, exptime=0):
        sock, f = self._connect()
        try:
            sock.sendall(b"set %s %d %d %d\r\n" % (key.encode(), flags, exptime, len(value))
                         + value + b"\r\n")
            reply = f.readline()
            assert reply == b"STORED\r\n", reply
        finally:
            f.close()
            sock.close()


class Redis(_CacheServer):
    """redis-server on 127.0.0.1:PORT, no persistence, in the foreground."""

    def __init__(self, workdir):
        self.port = free_port()
        self.dir = os.path.join(workdir, "redis-%d" % self.port)
        os.makedirs(self.dir)
        self.log = os.path.join(self.dir, "redis.log")
        args = ["/usr/bin/redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", self.dir, "--daemonize", "no"]
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
        _wait_listen(self.proc, self.port, "redis-server", self.log)
        self.spec = "redis:127.0.0.1:%d" % self.port

    @staticmethod
    def _reply(f):
        line = f.readline()
        if not line:
            raise RuntimeError("redis closed the connection")
        kind, rest = line[:1], line[1:].rstrip(b"\r\n")
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RuntimeError("redis: " + rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else f.read(n + 2)[:n]
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [Redis._reply(f) for _ in range(n)]
        raise RuntimeError("redis: unexpected reply %r" % line)

    def cmd(self, *args):
        parts = [a if isinstance(a, bytes) else str(a).encode() for a in args]
        req = b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts)
        sock, f = self._connect()
        try:
            sock.sendall(req)
            return self._reply(f)
        finally:
            f.close()
            sock.close()

    def keys(self):
        return sorted(k.decode() for k in self.cmd("KEYS", "*"))

    def get(self, key):
        v = self.cmd("GET", key)
        return None if v is None else (0, v)

    def set(self, key, value, flags=0, exptime=0):
        args = ["SET", key, value] + (["EX", exptime] if exptime else [])
        assert self.cmd(*args) == "OK"


def httpd_env(extra=None):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("KUBERNETES_") and not k.startswith("APACHE")}
    env["LANG"] = "C"
    if SANITIZER_PRELOAD:
        env["LD_PRELOAD"] = SANITIZER_PRELOAD
        env["ASAN_OPTIONS"] = "detect_leaks=0:abort_on_error=0:print_summary=1"
        env["UBSAN_OPTIONS"] = "print_stacktrace=1"
    if extra:
        env.update(extra)
    return env


class Harness:
    """Session-wide state: work dir, PKI, stand-in, echo backend, CGI."""

    def __init__(self):
        self.workdir = tempfile.mkdtemp(prefix="k8ssa-it-", dir="/tmp")
        os.chmod(self.workdir, 0o755)
        self.live = []
        self._n = 0
        self.pki = make_pki(os.path.join(self.workdir, "pki"))
        os.chmod(self.pki.dir, 0o755)
        self.api = KubeAPI(self.pki).start()
        self.module_token = self.api.module_token()
        self.token_file = write_file(os.path.join(self.workdir, "module.token"),
                                     self.module_token + "\n")
        self.echo = EchoBackend()
        self.cgidir = os.path.join(self.workdir, "cgi-bin")
        os.makedirs(self.cgidir, mode=0o755)
        os.chmod(self.cgidir, 0o755)
        write_file(os.path.join(self.cgidir, "env.cgi"), CGI_SCRIPT, 0o755)

    def subdir(self, name):
        self._n += 1
        d = os.path.join(self.workdir, "%s-%d" % (name, self._n))
        os.makedirs(d, mode=0o755)
        os.chmod(d, 0o755)
        return d

    def file(self, name, text, mode=0o644):
        return write_file(os.path.join(self.workdir, name), text, mode)

    def reset(self):
        """State between tests: normal stand-in, counters zero, the default
        module credential the only one accepted."""
        self.api.reset()
        self.api.set_module_tokens({self.module_token})
        self.api.set_forbidden_tokens(())
        self.api.client_cert_cns = {MODULE_CERT_CN}
        self.echo.reset()

    def default_server_conf(self, api_url=None, ca=None, token_file=None, timeout=None,
                            cache=None, extra=None):
        """Server-level directives: API server, CA, module token; cache:
        an AuthK8sCache value ("none", "memcache:127.0.0.1:PORT", ...);
        extra: more lines (a string or a list of lines)."""
        lines = ["AuthK8sAPIServer %s" % (api_url or self.api.url),
                 'AuthK8sCAFile "%s"' % (ca or self.pki.ca_cert),
                 'AuthK8sTokenFile "%s"' % (token_file or self.token_file)]
        if timeout is not None:
            lines.append("AuthK8sTimeout %s" % timeout)
        if cache is not None:
            lines.append("AuthK8sCache %s" % cache)
        if extra:
            lines += [extra] if isinstance(extra, str) else list(extra)
        return "\n".join(lines)

    def config_text(self, d, port, conf, server_conf, threads=HTTPD_THREADS, socache=True):
        """socache: load the socache providers (shmcb, memcache, redis)
        before the module, as the module's default cache needs shmcb."""
        usergroup = "User www-data\nGroup www-data" if os.geteuid() == 0 else ""
        socache_lines = "".join("LoadModule socache_%s_module %s/mod_socache_%s.so\n" % (n, MODDIR, n)
                                for n in SOCACHE_PROVIDERS) if socache else ""
        return CONF_TEMPLATE.format(dir=d, port=port, moddir=MODDIR, so=MODULE_SO, mpm=MPM,
                                    mpm_sizing=mpm_sizing(threads),
                                    usergroup=usergroup, socache=socache_lines,
                                    cgidir=self.cgidir, server_conf=server_conf, conf=conf)

    def httpd(self, conf, server_conf=None, env=None, name="httpd", threads=HTTPD_THREADS,
              socache=True):
        """An Httpd (not started; use start() or a with block)."""
        return Httpd(self, conf, server_conf=server_conf, env=env, name=name,
                     threads=threads, socache=socache)

    def configtest(self, conf, server_conf=None, env=None, socache=True):
        """Runs apache2 -t on the configuration: (returncode, output)."""
        d = self.subdir("configtest")
        os.makedirs(os.path.join(d, "run"), mode=0o755, exist_ok=True)
        if server_conf is None:
            server_conf = self.default_server_conf()
        path = write_file(os.path.join(d, "httpd.conf"),
                          self.config_text(d, free_port(), conf, server_conf, socache=socache))
        p = subprocess.run([APACHE2, "-t", "-f", path], env=httpd_env(env), cwd=d,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        out = p.stdout.decode(errors="replace")
        log = os.path.join(d, "error.log")
        if os.path.exists(log):
            with open(log, errors="replace") as f:
                out += f.read()
        reports = sanitizer_reports_in(out)
        if reports:
            SANITIZER_REPORTS.append((d, reports))
        return p.returncode, out

    def close(self):
        for h in list(self.live):
            h.stop()
        self.api.stop()
        self.echo.stop()
        if not os.environ.get("K8SSA_KEEP_WORKDIR"):
            shutil.rmtree(self.workdir, ignore_errors=True)


def location(path, body, realm=REALM, backend=None, extra=""):
    """A <Location> with the AuthType, AuthName and body (Require lines,
    directives). backend: an http URL to ProxyPass to."""
    lines = ["<Location %s>" % path,
             "    AuthType KubernetesServiceAccount",
             '    AuthName "%s"' % realm]
    lines += ["    " + l for l in body.strip().splitlines()]
    if backend:
        lines.append("    ProxyPass %s" % backend)
    if extra:
        lines += ["    " + l for l in extra.strip().splitlines()]
    lines.append("</Location>")
    return "\n".join(lines) + "\n"


def raw_request(srv, path, headers, method="GET"):
    """A request with exactly these header fields (name case, duplicates and
    underscores kept, which requests' dict cannot do): (status, [(k, v)], body)."""
    import http.client
    c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
    try:
        c.putrequest(method, path, skip_accept_encoding=True)
        for k, v in headers:
            c.putheader(k, v)
        c.endheaders()
        r = c.getresponse()
        return r.status, r.getheaders(), r.read()
    finally:
        c.close()


# --------------------------------------------------------------------------
# Gateways in front of httpd: nginx (auth_request) and Caddy (forward_auth),
# our own processes on free loopback ports with everything in a work dir,
# never the system's services or default configurations.

NGINX = os.environ.get("NGINX", "/usr/sbin/nginx")
CADDY = os.environ.get("CADDY", "/usr/bin/caddy")

NGINX_CONF = """\
{user}worker_processes 1;
pid "{dir}/nginx.pid";
error_log "{dir}/error.log" info;
events {{ worker_connections 128; }}
http {{
    access_log "{dir}/access.log";
    client_body_temp_path "{dir}/tmp/body";
    proxy_temp_path "{dir}/tmp/proxy";
    fastcgi_temp_path "{dir}/tmp/fastcgi";
    uwsgi_temp_path "{dir}/tmp/uwsgi";
    scgi_temp_path "{dir}/tmp/scgi";
    include "{snippet}";
}}
"""


class _Gateway:
    name = "gateway"

    def _spawn(self, args, env=None):
        self.out_path = os.path.join(self.dir, "stdout.log")
        with open(self.out_path, "wb") as out:
            self.proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, cwd=self.dir, env=env)
        try:
            _wait_listen(self.proc, self.port, self.name, self.out_path, timeout=15)
        except Exception:
            self.stop()
            raise RuntimeError("%s did not start:\n%s" % (self.name, self.logs()))
        return self

    def url(self, path="/"):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)

    def logs(self):
        text = ""
        for n in ("stdout.log", "error.log"):
            p = os.path.join(self.dir, n)
            if os.path.exists(p):
                with open(p, errors="replace") as f:
                    text += f.read()
        return text


class Nginx(_Gateway):
    """nginx -c CONF -p DIR -g 'daemon off;' with snippet_text (a file to
    include in http { }) on port self.port (the snippet must listen there)."""
    name = "nginx"

    def __init__(self, harness, snippet_text, port):
        self.dir = harness.subdir("nginx")
        self.port = port
        self.proc = None
        os.makedirs(os.path.join(self.dir, "tmp"), mode=0o755)
        snippet = write_file(os.path.join(self.dir, "site.conf"), snippet_text)
        # As root the workers would switch to nobody; run them as root in
        # this throw-away test instance so they can use the work dir.
        user = "user root;\n" if os.geteuid() == 0 else ""
        self.conf = write_file(os.path.join(self.dir, "nginx.conf"),
                               NGINX_CONF.format(user=user, dir=self.dir, snippet=snippet))

    def start(self):
        return self._spawn([NGINX, "-c", self.conf, "-p", self.dir + "/",
                            "-g", "daemon off;"])


class Caddy(_Gateway):
    """caddy run with a Caddyfile of its own (admin off, auto_https off),
    HOME and XDG directories inside the work dir."""
    name = "caddy"

    def __init__(self, harness, caddyfile_text, port):
        self.dir = harness.subdir("caddy")
        self.port = port
        self.proc = None
        text = ("{\n\tadmin off\n\tauto_https off\n"
                "\tstorage file_system \"%s/data\"\n}\n\n" % self.dir) + caddyfile_text
        self.conf = write_file(os.path.join(self.dir, "Caddyfile"), text)

    def start(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("CADDY")}
        env.update(HOME=self.dir, XDG_DATA_HOME=os.path.join(self.dir, "data"),
                   XDG_CONFIG_HOME=os.path.join(self.dir, "config"))
        return self._spawn([CADDY, "run", "--config", self.conf, "--adapter", "caddyfile"],
                           env=env)
