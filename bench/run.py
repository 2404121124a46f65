#!/usr/bin/python3
"""Benchmark: wrk against a real httpd with mod_auth_k8ssa, next to a no-auth
baseline served by the same httpd in the same run. Reports requests/s and the
ratio to the baseline; absolute numbers depend on the machine, ratios less.

    /usr/bin/python3 bench/run.py [--seconds 10] [--connections 8] [--threads 2]

Scenarios (all serve the same small static file):
  baseline   no authentication
  cached     a valid token whose review is in the shmcb cache: the hot path
             (header scrub, parse, HMAC key, shared-memory lookup, entry MAC
             check, identity export), no network
  missing    AuthType KubernetesServiceAccount, no Authorization header: the
             module's own work (header scrub, parse, 401 challenge), no network
  review     a valid token with AuthK8sCache none: every request is a
             TokenReview to the API stand-in (a Python server: it bounds the
             rate, not the module)
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "kubeapi"))
from standin import KubeAPI, make_pki  # noqa: E402

MODS = "/usr/lib/apache2/modules"


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wrk(url, seconds, connections, threads, header=None):
    cmd = ["wrk", "-t%d" % threads, "-c%d" % connections, "-d%ds" % seconds, "--latency"]
    if header:
        cmd += ["-H", header]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = re.search(r"50%\s+([\d.]+\w+)", out).group(1)
    p99 = re.search(r"99%\s+([\d.]+\w+)", out).group(1)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    total = int(re.search(r"(\d+) requests in", out).group(1))
    return {"rps": rps, "p50": p50, "p99": p99, "total": total,
            "non2xx": int(non2xx.group(1)) if non2xx else 0}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--module", default=os.path.join(ROOT, "build", ".libs",
                                                     "mod_auth_k8ssa.so"))
    a = ap.parse_args()
    if not os.path.exists(a.module):
        sys.exit("build the module first (./scripts/build.sh): %s is missing" % a.module)

    work = tempfile.mkdtemp(prefix="k8ssa-bench.")
    os.chmod(work, 0o755)
    api = KubeAPI(make_pki(os.path.join(work, "pki"))).start()
    httpd = None
    try:
        subprocess.run(["chmod", "-R", "a+rX", work], check=True)
        token_file = os.path.join(work, "module.token")
        with open(token_file, "w") as f:
            f.write(api.module_token())
        os.chmod(token_file, 0o644)
        client_token = api.sa_token("bench", "client")
        docs = os.path.join(work, "htdocs")
        for d in ("baseline", "cached", "missing", "review"):
            os.makedirs(os.path.join(docs, d))
            with open(os.path.join(docs, d, "index.html"), "w") as f:
                f.write("hello\n")
        subprocess.run(["chmod", "-R", "a+rX", work], check=True)
        port, port2 = free_port(), free_port()
        user = "User www-data\nGroup www-data\n" if os.geteuid() == 0 else ""
        auth = """AuthType KubernetesServiceAccount
    AuthName bench
    Require valid-user"""
        conf = f"""ServerRoot "{work}"
ServerName localhost
Listen 127.0.0.1:{port}
Listen 127.0.0.1:{port2}
PidFile "{work}/httpd.pid"
DefaultRuntimeDir "{work}"
ErrorLog "{work}/error.log"
LogLevel warn
{user}
LoadModule mpm_event_module {MODS}/mod_mpm_event.so
LoadModule authn_core_module {MODS}/mod_authn_core.so
LoadModule authz_core_module {MODS}/mod_authz_core.so
LoadModule authz_user_module {MODS}/mod_authz_user.so
LoadModule mime_module {MODS}/mod_mime.so
LoadModule dir_module {MODS}/mod_dir.so
LoadModule socache_shmcb_module {MODS}/mod_socache_shmcb.so
LoadModule auth_k8ssa_module {a.module}
StartServers 1
ServerLimit 1
ThreadsPerChild 32
ThreadLimit 32
MaxRequestWorkers 32
KeepAlive On
MaxKeepAliveRequests 0
TypesConfig /etc/mime.types
DocumentRoot "{docs}"
<Directory "{docs}">
    Require all granted
</Directory>
AuthK8sAPIServer {api.url}
AuthK8sCAFile "{api.pki.ca_cert}"
AuthK8sTokenFile "{token_file}"
<Location /missing/>
    {auth}
</Location>
<Location /cached/>
    {auth}
</Location>
<VirtualHost 127.0.0.1:{port2}>
    AuthK8sCache none
    <Location /review/>
        {auth}
    </Location>
</VirtualHost>
"""
        with open(os.path.join(work, "httpd.conf"), "w") as f:
            f.write(conf)
        httpd = subprocess.Popen(["/usr/sbin/apache2", "-f", os.path.join(work, "httpd.conf"),
                                  "-DFOREGROUND"])
        base = "http://127.0.0.1:%d" % port
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/baseline/", timeout=1)
                break
            except OSError:
                if httpd.poll() is not None:
                    break
                time.sleep(0.1)
        else:
            sys.exit("httpd did not answer: see %s/error.log" % work)
        if httpd.poll() is not None:
            with open(os.path.join(work, "error.log")) as f:
                sys.exit("httpd failed to start:\n" + f.read())
        auth_header = "Authorization: Bearer " + client_token
        base2 = "http://127.0.0.1:%d" % port2
        runs = [("baseline", base + "/baseline/", None),
                ("cached", base + "/cached/", auth_header),
                ("missing", base + "/missing/", None),
                ("review", base2 + "/review/", auth_header)]
        results = {}
        for name, url, header in runs:
            wrk(url, 1, a.connections, a.threads, header)  # warm-up
            results[name] = wrk(url, a.seconds, a.connections, a.threads, header)
        cmd = "bench/run.py --seconds %d --connections %d --threads %d" % (
            a.seconds, a.connections, a.threads)
        print("command: /usr/bin/python3 %s (%d cores)" % (cmd, os.cpu_count()))
        print("| scenario | requests/s | ratio to baseline | p50 | p99 | non-2xx |")
        print("|---|---:|---:|---:|---:|---:|")
        b = results["baseline"]["rps"]
        for name, _, _ in runs:
            r = results[name]
            print("| %s | %.0f | %.3f | %s | %s | %d |" % (name, r["rps"], r["rps"] / b,
                                                          r["p50"], r["p99"], r["non2xx"]))
        print("API stand-in: %d reviews over %d TLS connections" % (api.reviews, api.connections))
    finally:
        if httpd:
            httpd.terminate()
            httpd.wait(10)
        api.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
