#!/usr/bin/python3
"""Benchmark of mod_auth_k8ssa: wrk against httpd with the module, next to
no-auth baselines served by the same httpd in the same round, and against
httpd with mod_auth_openidc (OAuth 2.0 token introspection) as a reference.
The API server is nginx answering fixed TokenReview, SubjectAccessReview and
introspection bodies over TLS; its access log tells how many reviews and new
TLS connections each scenario caused.

    /usr/bin/python3 bench/run.py [--seconds 10] [--rounds 3] [--connections 64]
    /usr/bin/python3 bench/run.py --smoke        # CI: 1 s, 1 round, checks only
    /usr/bin/python3 bench/run.py --callgrind    # instructions per cached request and per miss

httpd runs on core 0; wrk and nginx share core 1. The rounds are
interleaved (every scenario once per round, the order rotated each round)
and the table shows medians over rounds; each ratio is taken within its
round. Absolute numbers depend on the machine; ratios less so.
"""

import argparse
import hashlib
import os
import platform
import re
import resource
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass, field

import callgrind
import stack

WARMUP_SECONDS = 2
# wrk counts an answer slower than this as a timeout, a failed check. Its
# default of 2 s is within the tail of mod_auth_openidc's miss on a slow host
# (p99 1 s, max about 2 s: a TLS handshake per request with 64 waiting);
# well under a scenario's 10 s, so that a stuck request still fails one.
WRK_TIMEOUT_SECONDS = 5


@dataclass(frozen=True)
class Scenario:
    name: str
    server: str        # "k8ssa" or "openidc"
    location: str      # stack.LOCATIONS
    load: str          # "fixed" (wrk -H, the bench token), "unique" or "herd" (Lua)
    baseline: str      # the scenario its ratio is taken against, or None
    expect: str        # reviews the stand-in must see: "none", "every", "herd"
    legend: str


SCENARIOS = [
    Scenario("baseline", "k8ssa", "plain", "fixed", None, "none",
             "no authentication, the bench token's Authorization header sent anyway"),
    Scenario("baseline-lua", "k8ssa", "plain", "unique", None, "none",
             "no authentication, a new token per request from unique.lua: wrk's Lua cost"),
    Scenario("hit", "k8ssa", "hit", "fixed", "baseline", "none",
             "Require valid-user, the token's review cached (warmed): the hot path"),
    Scenario("hit-can", "k8ssa", "can", "fixed", "baseline", "none",
             "Require k8s-can get pods, review and access decision cached (warmed)"),
    Scenario("miss", "k8ssa", "miss", "unique", "baseline-lua", "every",
             "Require valid-user, a new token per request: one TokenReview each"),
    Scenario("herd", "k8ssa", "herd", "herd", "baseline-lua", "herd",
             "all connections send one new token per second: coalesced misses"),
    Scenario("spin", "k8ssa", "spin", "fixed", "baseline", "none",
             "no authentication, a %d ns busy loop per request (bench/spin.c): what "
             "that much CPU costs the ratio here" % stack.SPIN_NANOSECONDS),
    Scenario("oidc-baseline", "openidc", "plain", "fixed", None, "none",
             "httpd with mod_auth_openidc, no authentication, fixed header"),
    Scenario("oidc-baseline-lua", "openidc", "plain", "unique", None, "none",
             "httpd with mod_auth_openidc, no authentication, unique.lua"),
    Scenario("oidc-hit", "openidc", "hit", "fixed", "oidc-baseline", "none",
             "AuthType oauth20, the introspection result cached (warmed)"),
    Scenario("oidc-miss", "openidc", "miss", "unique", "oidc-baseline-lua", "every",
             "AuthType oauth20, a new token per request: one introspection each"),
]
BY_NAME = {s.name: s for s in SCENARIOS}
LUA_SCRIPTS = {"unique": os.path.join(stack.HERE, "unique.lua"),
               "herd": os.path.join(stack.HERE, "herd.lua")}


# --------------------------------------------------------------------------
# Options


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, epilog=legend(),
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=int, default=10, help="per scenario (default 10)")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    ap.add_argument("--connections", type=int, default=64, help="wrk -c (default 64)")
    ap.add_argument("--threads", type=int, default=1,
                    help="wrk -t (default 1: one thread already saturates httpd's core)")
    ap.add_argument("--module", default=os.path.join(stack.ROOT, "build", ".libs",
                                                     "mod_auth_k8ssa.so"))
    ap.add_argument("--no-openidc", action="store_true",
                    help="skip the mod_auth_openidc scenarios")
    ap.add_argument("--scenarios", help="comma-separated names (their baselines are added)")
    ap.add_argument("--smoke", action="store_true",
                    help="1 s, 1 round, every scenario: checks statuses and reviews, for CI")
    ap.add_argument("--callgrind", action="store_true",
                    help="instructions per request under callgrind instead of wrk")
    ap.add_argument("--callgrind-requests", type=int, default=2000,
                    help="requests counted per location with --callgrind (default 2000)")
    args = ap.parse_args()
    args.warmup = WARMUP_SECONDS
    if args.smoke:
        args.seconds, args.rounds, args.warmup = 1, 1, 1
    if not 1 <= args.threads <= 64 or args.connections < args.threads:
        ap.error("--threads must be 1 to 64 and at most --connections")
    if not os.path.exists(args.module):
        ap.error("build the module first (./scripts/build.sh): %s is missing" % args.module)
    if len(os.sched_getaffinity(0) & {stack.HTTPD_CPU, stack.LOAD_CPU}) < 2:
        ap.error("needs cores %d and %d" % (stack.HTTPD_CPU, stack.LOAD_CPU))
    args.openidc = not args.no_openidc and os.path.exists(stack.OPENIDC_SO)
    args.chosen = chosen_scenarios(ap, args)
    return args


def chosen_scenarios(ap, args):
    """The scenarios to run, in table order, with the baselines their
    ratios need."""
    names = args.scenarios.split(",") if args.scenarios else [s.name for s in SCENARIOS]
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        ap.error("unknown scenarios: %s (known: %s)" % (
            ", ".join(unknown), ", ".join(BY_NAME)))
    wanted = set(names) | {BY_NAME[n].baseline for n in names if BY_NAME[n].baseline}
    if not args.openidc:
        asked = [n for n in wanted if BY_NAME[n].server == "openidc"]
        if asked and args.scenarios:
            ap.error("%s need mod_auth_openidc (%s, not --no-openidc)" % (
                ", ".join(sorted(asked)), stack.OPENIDC_SO))
        wanted -= set(asked)
    return [s for s in SCENARIOS if s.name in wanted]


def legend():
    return "scenarios:\n" + "".join("  %-18s %s\n" % (s.name, s.legend) for s in SCENARIOS)


# --------------------------------------------------------------------------
# Machine and versions


def first_line(argv):
    out = subprocess.run(argv, capture_output=True, text=True)
    return (out.stdout + out.stderr).strip().splitlines()[0]


def cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.machine()


def describe_setup(args, module_copy, token):
    with open(module_copy, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:16]
    built = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(os.path.getmtime(args.module)))
    apache = first_line([stack.APACHE, "-v"]).split(":", 1)[1].strip()
    lines = [
        "command: " + shlex.join([sys.executable] + sys.argv),
        "machine: %d cores (nproc), %s, Linux %s, load average at start %s" % (
            os.cpu_count(), cpu_model(), platform.release(),
            " ".join("%.2f" % x for x in os.getloadavg())),
        "versions: %s; %s; %s" % (apache, first_line([stack.NGINX, "-v"]).split(": ")[-1],
                                   first_line(["wrk", "-v"]).split(" [")[0]),
        "module: %s (sha256 %s, built %s)" % (args.module, digest, built),
        "token: %d characters; httpd on core %d, wrk and nginx on core %d" % (
            len(token), stack.HTTPD_CPU, stack.LOAD_CPU),
    ]
    if not args.callgrind:
        lines.append("mod_auth_openidc: %s" % (first_line(
            ["dpkg-query", "-W", "-f", "${Version}\n", "libapache2-mod-auth-openidc"])
            if args.openidc else "skipped (%s)" % (
                "--no-openidc" if args.no_openidc else stack.OPENIDC_SO + " is missing")))
    return "\n".join(lines)


# --------------------------------------------------------------------------
# CPU accounting from /proc


def process_ticks(pids):
    """utime + stime of the processes, in clock ticks."""
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total


def with_children(pid):
    """pid and its child processes (httpd's children, nginx's worker)."""
    pids = [pid]
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        pids.append(int(entry))
            except (FileNotFoundError, ProcessLookupError):
                pass
    return pids


def core_ticks():
    """{core: (busy, total)} from /proc/stat; iowait counts as idle."""
    cores = {}
    with open("/proc/stat") as f:
        for line in f:
            m = re.match(r"cpu(\d+) (.*)", line)
            if m:
                v = [int(x) for x in m.group(2).split()]
                idle = v[3] + v[4]
                cores[int(m.group(1))] = (sum(v[:8]) - idle, sum(v[:8]))
    return cores


@dataclass
class CpuSample:
    time: float
    httpd: int
    nginx: int
    wrk: float
    cores: dict

    @classmethod
    def take(cls, httpd_pids, nginx_pids):
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)  # reaped wrk processes
        return cls(time.monotonic(), process_ticks(httpd_pids), process_ticks(nginx_pids),
                   ru.ru_utime + ru.ru_stime, core_ticks())


def cpu_percentages(a, b):
    """Busy percentages between two samples: processes (of one core) and
    the two cores as a whole (anything else on the machine included)."""
    hz = os.sysconf("SC_CLK_TCK")
    seconds = b.time - a.time

    def core(n):
        busy, total = (y - x for x, y in zip(a.cores[n], b.cores[n]))
        return 100.0 * busy / total if total else 0.0

    return {"httpd": 100.0 * (b.httpd - a.httpd) / hz / seconds,
            "wrk": 100.0 * (b.wrk - a.wrk) / seconds,
            "nginx": 100.0 * (b.nginx - a.nginx) / hz / seconds,
            "core0": core(stack.HTTPD_CPU), "core1": core(stack.LOAD_CPU)}


# --------------------------------------------------------------------------
# wrk


def latency_ms(text):
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def percentile(out, p):
    """A line of wrk's latency distribution: anchored, as the +/- Stdev
    column also ends in '%'. wrk pads a value in seconds with a space
    ("99%    1.00s ")."""
    return re.search(r"^\s+%d%%\s+(\S+)\s*$" % p, out, re.M).group(1)


def parse_wrk(out):
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       out)
    connect, read, write, timeout = (int(x) for x in errors.groups()) if errors else (0,) * 4
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "requests": int(re.search(r"(\d+) requests in", out).group(1)),
            "p50": latency_ms(percentile(out, 50)),
            "p99": latency_ms(percentile(out, 99)),
            "non2xx": int(non2xx.group(1)) if non2xx else 0,
            "closed": read + write, "lost": connect + timeout}


class Wrk:
    """Runs wrk on the load core; every run of the Lua scripts gets its own
    run id, so no token of a warm-up or an earlier round is sent again."""

    def __init__(self, args, token, processes):
        self.args = args
        self.processes = processes
        self.header = "Authorization: Bearer " + token
        self.env = dict(os.environ, BENCH_TOKEN_PREFIX=token[:-stack.SUFFIX_LEN],
                        BENCH_SUFFIX_LEN=str(stack.SUFFIX_LEN))
        self.runs = 0

    def run_id(self):
        self.runs += 1
        return stack.b64url_digits(self.runs, 2)

    def run(self, url, load, seconds):
        argv = ["wrk", "-t%d" % self.args.threads, "-c%d" % self.args.connections,
                "-d%ds" % seconds, "--latency", "--timeout", "%ds" % WRK_TIMEOUT_SECONDS]
        argv += ["-H", self.header] if load == "fixed" else ["-s", LUA_SCRIPTS[load]]
        proc = self.processes.start(argv + [url], stack.LOAD_CPU, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True,
                                    env=dict(self.env, BENCH_RUN_ID=self.run_id()))
        out, err = proc.communicate(timeout=seconds + 60)
        try:
            return parse_wrk(out)
        except (AttributeError, ValueError):  # a regular expression found nothing
            raise RuntimeError("wrk failed (exit %d):\n%s%s" % (proc.returncode, out, err))


# --------------------------------------------------------------------------
# Measuring a scenario


@dataclass
class Bench:
    """What a measurement needs: the servers, the stand-in, wrk."""
    args: argparse.Namespace
    standin: stack.Standin
    servers: dict
    wrk: Wrk
    failures: list = field(default_factory=list)

    def fail(self, what):
        print("!!! FAILED: " + what, file=sys.stderr, flush=True)
        self.failures.append(what)


def measure(bench, sc):
    """One wrk run of the scenario after its warm-up (which also fills the
    cache of the hit scenarios), with what the stand-in saw during it."""
    server = bench.servers[sc.server]
    url = server.url(sc.location)
    bench.wrk.run(url, sc.load, bench.args.warmup)
    offset = bench.standin.log.offset()
    pids = with_children(server.proc.pid), with_children(bench.standin.proc.pid)
    before, start = CpuSample.take(*pids), time.time()
    result = bench.wrk.run(url, sc.load, bench.args.seconds)
    end, after = time.time(), CpuSample.take(*pids)
    result["cpu"] = cpu_percentages(before, after)
    result["seen"] = bench.standin.log.since(offset)
    # herd.lua's token follows the wall clock's second
    result["tokens"] = int(end) - int(start) + 1
    return result


def problems(sc, r, connections):
    """What is wrong with a measurement: a benchmark of errors is worthless."""
    seen, found = r["seen"], []
    if r["non2xx"]:
        found.append("%d non-2xx responses" % r["non2xx"])
    if r["lost"]:
        found.append("%d connect errors or timeouts" % r["lost"])
    if seen["bad_status"] or seen["other_uris"]:
        found.append("the stand-in answered %d non-2xx, %d requests for other URIs" % (
            seen["bad_status"], seen["other_uris"]))
    reviews = seen["reviews"]
    if sc.expect == "none" and reviews:
        found.append("%d reviews where the cache should answer" % reviews)
    # requests still in flight when wrk stopped were reviewed but not counted
    if sc.expect == "every" and not r["requests"] <= reviews <= r["requests"] + connections:
        found.append("%d reviews for %d requests" % (reviews, r["requests"]))
    if sc.expect == "herd" and not 0 < reviews <= stack.CHILDREN * r["tokens"]:
        found.append("%d reviews for %d tokens: more than one per child per token" % (
            reviews, r["tokens"]))
    return found


def run_rounds(bench):
    """results[name] = one measurement per round. Round r starts r scenarios
    further down the list, so that no scenario always runs first or after
    the same neighbour."""
    chosen = bench.args.chosen
    results = {sc.name: [] for sc in chosen}
    for rnd in range(bench.args.rounds):
        shift = rnd % len(chosen)
        for sc in chosen[shift:] + chosen[:shift]:
            r = measure(bench, sc)
            results[sc.name].append(r)
            print("round %d %-18s %8.0f req/s  reviews %d  TLS %d" % (
                rnd + 1, sc.name, r["rps"], r["seen"]["reviews"], r["seen"]["tls"]),
                file=sys.stderr, flush=True)
            for p in problems(sc, r, bench.args.connections):
                bench.fail("round %d %s: %s" % (rnd + 1, sc.name, p))
    return results


def preflight(bench, token):
    """Before any load: each authenticating location refuses a request
    without a token (authentication really is on there), and the first
    request with the bench token to /hit/ and /can/ (openidc: /hit/) is
    reviewed while the second one is answered from the cache."""
    for name, server in bench.servers.items():
        for loc in stack.PROTECTED[name]:
            if stack.http_status(server.url(loc)) != 401:
                bench.fail("%s /%s/ without a token did not answer 401" % (name, loc))
    header = ("Authorization", "Bearer " + token)
    firsts = [("k8ssa", "hit"), ("k8ssa", "can")]
    if "openidc" in bench.servers:
        firsts.append(("openidc", "hit"))
    offset = bench.standin.log.offset()
    for name, loc in firsts * 2:
        status = stack.http_status(bench.servers[name].url(loc), header)
        if status != 200:
            bench.fail("%s /%s/ with the bench token answered %d" % (name, loc, status))
    seen = bench.standin.log.since(offset)
    expected = {stack.TOKENREVIEW_URI: 1, stack.ACCESSREVIEW_URI: 1,
                stack.INTROSPECTION_URI: int("openidc" in bench.servers)}
    if seen["by_uri"] != expected:
        bench.fail("two requests each to %s gave reviews %s, expected %s" % (
            firsts, seen["by_uri"], expected))


# --------------------------------------------------------------------------
# Report


def per_round(values, fmt="%d"):
    return " / ".join(fmt % v for v in values)


def report(args, results):
    med = statistics.median
    out = ["| scenario | req/s | req/s per round | ratio | vs | p50 ms | p99 ms | non-2xx "
           "| closed conns | reviews per round | TLS conns per round "
           "| CPU % httpd / wrk / nginx | busy % core 0 / 1 |",
           "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for sc in args.chosen:
        rs = results[sc.name]
        ratio, vs = "", ""
        if sc.baseline:
            ratio = "%.3f" % med(r["rps"] / b["rps"] for r, b in zip(rs, results[sc.baseline]))
            vs = sc.baseline
        cpu = {k: med(r["cpu"][k] for r in rs) for k in rs[0]["cpu"]}
        out.append("| %s | %.0f | %s | %s | %s | %.2f | %.2f | %d | %d | %s | %s "
                   "| %.0f / %.0f / %.0f | %.0f / %.0f |" % (
                       sc.name, med(r["rps"] for r in rs), per_round([r["rps"] for r in rs],
                                                                     "%.0f"),
                       ratio, vs, med(r["p50"] for r in rs), med(r["p99"] for r in rs),
                       sum(r["non2xx"] for r in rs), sum(r["closed"] for r in rs),
                       per_round([r["seen"]["reviews"] for r in rs]),
                       per_round([r["seen"]["tls"] for r in rs]),
                       cpu["httpd"], cpu["wrk"], cpu["nginx"], cpu["core0"], cpu["core1"]))
    if "miss" in results and "oidc-miss" in results:
        ratios = [a["rps"] / b["rps"] for a, b in zip(results["miss"], results["oidc-miss"])]
        out.append("\nour miss / openidc miss (req/s): %s per round, median %.2f" % (
            per_round(ratios, "%.2f"), med(ratios)))
    if "herd" in results:
        out.append("\nherd, at most one TokenReview per child per new token:")
        for i, r in enumerate(results["herd"]):
            bound = stack.CHILDREN * r["tokens"]
            out.append("  round %d: %d reviews for %d tokens x %d children = %d: %s" % (
                i + 1, r["seen"]["reviews"], r["tokens"], stack.CHILDREN, bound,
                "held" if 0 < r["seen"]["reviews"] <= bound else "VIOLATED"))
    return "\n".join(out)


def report_notes(args):
    return (
        "\nnotes: ratio = req/s over the `vs` scenario's of the same round, median over "
        "rounds; latencies and CPU are medians, non-2xx and closed connections sums. "
        "Closed conns: wrk's socket read/write errors, keep-alive connections httpd "
        "closed (wrk reconnects); with %d threads per child for %d connections there "
        "should be next to none. " % (stack.THREADS_PER_CHILD, args.connections) +
        "httpd CPU below core 0's busy share means something else ran there. Reviews and TLS connections: what the "
        "stand-in logged during the measured %d s (a TLS connection = a connection's "
        "first request). The hit scenarios run with AuthK8sCacheTTL/AuthK8sAccessCacheTTL "
        "3600, and AuthK8sReviewConcurrency is %d (the threads per child) so that misses "
        "are reviewed, not shed.\n\n%s" % (args.seconds, stack.THREADS_PER_CHILD, legend()))


def print_logs(work):
    """The error logs of httpd and nginx: what to read when a run failed."""
    for path in [os.path.join(work, "nginx-error.log")] + [
            os.path.join(work, name, "error.log") for name in ("k8ssa", "openidc")]:
        if os.path.exists(path):
            with open(path) as f:
                lines = f.readlines()
            print("\n----- %s (last 60 of %d lines) -----\n%s" % (
                path, len(lines), "".join(lines[-60:])), file=sys.stderr)


# --------------------------------------------------------------------------


def start_servers(args, processes, work, now):
    """The stand-in and the httpds, each ready; {name: Httpd}."""
    module = stack.copy_module(args.module, work)
    spin_module = stack.build_spin_module(work)
    docs = stack.make_docs(work)
    standin = stack.Standin(processes, work, now)
    # The module's own credential as in a cluster: a projected service-account
    # token, as long as the clients' (libcurl copies a header into the
    # request a byte at a time, so its length is part of a review's cost).
    token_file = stack.write_file(os.path.join(work, "module.token"),
                                  stack.bench_token(now) + "\n")
    servers = {"k8ssa": stack.Httpd(work, "k8ssa", lambda d, port: stack.k8ssa_conf(
        d, port, docs, module, spin_module, standin, token_file))}
    if args.openidc and not args.callgrind:
        servers["openidc"] = stack.Httpd(work, "openidc", lambda d, port: stack.openidc_conf(
            d, port, docs, standin))
    return module, standin, servers


def run(args, processes, work):
    """The whole benchmark (or the callgrind count); True when every check
    passed."""
    now = int(time.time())
    token = stack.bench_token(now)
    module, standin, servers = start_servers(args, processes, work, now)
    print(describe_setup(args, module, token), flush=True)
    if args.callgrind:
        callgrind.run(processes, servers["k8ssa"], module, token, args.callgrind_requests)
        return True
    for server in servers.values():
        server.start(processes)
    bench = Bench(args, standin, servers, Wrk(args, token, processes))
    preflight(bench, token)
    if bench.failures:
        return False
    results = run_rounds(bench)
    print("\n" + report(args, results))
    print(report_notes(args))
    if bench.failures:
        print("\n!!! %d CHECKS FAILED: a benchmark of errors is worthless\n  %s" % (
            len(bench.failures), "\n  ".join(bench.failures)))
    return not bench.failures


def main():
    args = parse_args()
    # Ctrl-C, SIGTERM and SIGHUP: through the clean-up below (SIGINT set too,
    # as a background job of a script starts with it ignored).
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.default_int_handler)
    processes = stack.Processes()
    work = stack.make_workdir()
    status = 1
    try:
        status = 0 if run(args, processes, work) else 1
    except KeyboardInterrupt:
        status = 130
        print("interrupted", file=sys.stderr)
    except stack.StartFailed as e:
        print("!!! did not start: %s" % e, file=sys.stderr)
    except Exception:
        traceback.print_exc()
    finally:
        processes.stop_all()
        if status == 1:
            print_logs(work)
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(status)


if __name__ == "__main__":
    main()
