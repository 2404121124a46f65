"""The module's instructions per cached request, counted by callgrind: a
number that a busy machine does not change, unlike requests/s.

httpd runs single-process (-X) under callgrind, which collects only inside
ap_run_process_connection (reading, authenticating, serving and logging a
request; not the MPM's listener waking up). The client marks the batches
itself: a request for a missing file makes httpd call
ap_send_error_response, before which callgrind dumps and zeroes its
counters (--dump-before). So no callgrind_control is needed: its vgdb hangs
on an httpd whose threads all wait in system calls.

For each location: warm-up requests (the first one fills the cache),
marker, N requests over the same keep-alive connection, marker. The dump
between two markers holds the N requests plus the part of the markers
after and before the dump points, which a marker right after a marker
measures once, to subtract. hit - plain and can - plain are the module's
cost per cached request (plain pays the identity-header scrub that every
request gets, so that part is not in the difference). miss sends a token
no request sent before each time: miss - plain is a TokenReview's cost to
httpd (libcurl, TLS, json-c, the shield's JWT checks, shmcb), the nginx
stand-in's answer included."""

import http.client
import os
import re
import subprocess

import stack

WARMUP_REQUESTS = 20
LOCATIONS = ("plain", "hit", "can", "miss")
MARKER = "/plain/callgrind-marker"
TOP_FUNCTIONS = 15


class Client:
    """One keep-alive connection to httpd, and the dumps its markers cause."""

    def __init__(self, port, token, out_file):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        self.token = token
        self.out_file = out_file
        self.dumps = 0
        self.unique = 0

    def get(self, path, status, token=None):
        self.conn.request("GET", path, headers={"Authorization": "Bearer "
                                                 + (token or self.token)})
        resp = self.conn.getresponse()
        resp.read()
        if resp.status != status:
            raise RuntimeError("%s answered %d under callgrind" % (path, resp.status))

    def new_token(self):
        """The bench token with a suffix no request of this count sent."""
        self.unique += 1
        return (self.token[:-stack.SUFFIX_LEN] + "C"
                + stack.b64url_digits(self.unique, stack.SUFFIX_LEN - 1))

    def send(self, path, n, unique=False):
        for _ in range(n):
            self.get(path, 200, self.new_token() if unique else None)

    def mark(self):
        """The instructions collected since the previous marker."""
        self.get(MARKER, 404)
        self.dumps += 1
        # callgrind wrote the dump before httpd sent the 404
        path = "%s.%d" % (self.out_file, self.dumps)
        with open(path) as f:
            text = f.read()
        return path, int(re.search(r"^totals: (\d+)", text, re.M).group(1))


def module_functions(dump, module, requests):
    """[(instructions per request, function)] of the module's functions,
    inclusive of what they call, most expensive first."""
    out = subprocess.run(["callgrind_annotate", "--inclusive=yes", dump],
                         capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines():
        m = re.match(r"\s*([\d,]+) \([\s\d.]+%\)\s+(\S+) \[(.*)\]$", line)
        if m and os.path.exists(m.group(3)) and os.path.samefile(m.group(3), module):
            rows.append((int(m.group(1).replace(",", "")) / requests, m.group(2)))
    return rows[:TOP_FUNCTIONS]


def run(processes, httpd, module, token, requests):
    """Prints instructions per request of each location and the module's
    most expensive functions; raises when a request did not get 200."""
    # callgrind dumps from inside httpd, which runs as User www-data by then
    out_dir = os.path.join(httpd.dir, "callgrind")
    os.mkdir(out_dir)
    os.chmod(out_dir, 0o777)
    out_file = os.path.join(out_dir, "callgrind.out")
    valgrind = ["valgrind", "-q", "--tool=callgrind", "--vgdb=no", "--collect-atstart=no",
                "--toggle-collect=ap_run_process_connection",
                "--dump-before=ap_send_error_response",
                "--callgrind-out-file=" + out_file]
    httpd.start(processes, wrapper=valgrind, one_process=True)
    # callgrind made its final dump's file as root (0600) when it started
    os.chmod(out_file, 0o666)
    client = Client(httpd.port, token, out_file)
    client.mark()                     # the start-up: not collected, not needed
    _, overhead = client.mark()       # marker after marker: the markers' share
    per_request, dumps = {}, {}
    for loc in LOCATIONS:
        path = "/%s/index.html" % loc
        client.send(path, WARMUP_REQUESTS, unique=loc == "miss")
        client.mark()
        client.send(path, requests, unique=loc == "miss")
        dumps[loc], total = client.mark()
        per_request[loc] = (total - overhead) / requests
    version = subprocess.run(["valgrind", "--version"], capture_output=True,
                             text=True).stdout.strip()
    print("\n%s: %d requests per location over one keep-alive connection after %d "
          "warm-up requests; instructions inside ap_run_process_connection, the "
          "markers' %d subtracted\n" % (version, requests, WARMUP_REQUESTS, overhead))
    print("| location | instructions per request | minus plain: the module's cost |")
    print("|---|---:|---:|")
    for loc in LOCATIONS:
        extra = "" if loc == "plain" else "%+.0f" % (per_request[loc] - per_request["plain"])
        print("| %s | %.0f | %s |" % (loc, per_request[loc], extra))
    for loc in ("hit", "can", "miss"):
        print("\ntop module functions in %s, inclusive, instructions per request:" % loc)
        for ir, fn in module_functions(dumps[loc], module, requests):
            print("  %10.0f  %s" % (ir, fn))
