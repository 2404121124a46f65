"""The benchmark's reading of wrk's report (bench/run.py parse_wrk): a
misread number would put a wrong ratio in the README, and a line it cannot
read ends a long run with nothing."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "bench"))
import run  # noqa: E402

REPORT = """Running 10s test @ http://127.0.0.1:58945/miss/index.html
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   {avg}  168.96ms   1.88s    89.99%
    Req/Sec   304.05     73.44   480.00     66.50%
  Latency Distribution
     50%  {p50}
     75%  240.98ms
     90%  369.49ms
     99%  {p99}
  3027 requests in 10.03s, 682.85KB read
{errors}Requests/sec:    301.82
Transfer/sec:     68.09KB
"""


def report(p50="189.58ms", p99="372.10ms", avg="231.29ms", errors=""):
    return REPORT.format(p50=p50, p99=p99, avg=avg, errors=errors)


@pytest.mark.parametrize("p99, ms", [
    ("372.10ms", 372.10),
    # wrk pads a value in seconds: "99%    1.00s " (a run of 14 minutes was
    # lost on that space)
    ("  1.00s ", 1000.0),
    ("  2.50s", 2500.0),
    ("812.00us", 0.812),
    ("  1.05m ", 63000.0),
])
def test_percentiles_in_every_unit(p99, ms):
    r = run.parse_wrk(report(p99=p99))
    assert r["p99"] == pytest.approx(ms)
    assert r["p50"] == pytest.approx(189.58)


def test_counts():
    r = run.parse_wrk(report())
    assert (r["rps"], r["requests"], r["non2xx"], r["closed"], r["lost"]) == (
        301.82, 3027, 0, 0, 0)


def test_errors_and_non_2xx():
    errors = ("  Socket errors: connect 1, read 2, write 4, timeout 8\n"
              "  Non-2xx or 3xx responses: 17\n")
    r = run.parse_wrk(report(errors=errors))
    # closed: read + write errors; lost: connect errors + timeouts
    assert (r["non2xx"], r["closed"], r["lost"]) == (17, 6, 9)


def test_stdev_column_is_not_a_percentile():
    """The +/- Stdev column ends in '%' too: its 89.99% and 66.50% are no
    p99 and no p50."""
    r = run.parse_wrk(report(p99="372.10ms"))
    assert r["p99"] == pytest.approx(372.10)


def test_a_report_without_latencies_is_refused():
    with pytest.raises(AttributeError):
        run.parse_wrk("Running 10s test\nRequests/sec:  1.00\n1 requests in 1s\n")
