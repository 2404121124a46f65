"""Fixtures of the integration suite (see helpers.py)."""

import os

import pytest

import helpers


def pytest_configure(config):
    config.addinivalue_line("markers", "soak: the bounded soak under a token flood (about "
                            "two minutes; skipped with -m 'not soak')")


@pytest.fixture(scope="session")
def harness():
    if not os.path.exists(helpers.MODULE_SO):
        pytest.fail("module not built: %s (run make first)" % helpers.MODULE_SO, pytrace=False)
    h = helpers.Harness()
    yield h
    h.close()


@pytest.fixture(scope="session")
def standin_only():
    """A harness for tests of the stand-in itself (no module needed)."""
    h = helpers.Harness()
    yield h
    h.close()


@pytest.fixture
def api(harness):
    return harness.api


@pytest.fixture(autouse=True)
def _reset_state(request):
    """Each test starts with a normal stand-in and zero counters."""
    for name in ("harness", "standin_only"):
        if name in request.fixturenames:
            request.getfixturevalue(name).reset()
    yield


@pytest.fixture
def start_httpd(harness):
    """Factory: start_httpd(conf, server_conf=None, env=None, threads=...) ->
    running Httpd, stopped when the test ends."""
    started = []

    def start(conf, server_conf=None, env=None, **kw):
        h = harness.httpd(conf, server_conf=server_conf, env=env, **kw)
        h.start()
        started.append(h)
        return h

    yield start
    for h in started:
        h.stop()


@pytest.fixture
def memcached(harness):
    """A memcached of this test's own on a free port (helpers.Memcached),
    stopped at teardown."""
    m = helpers.Memcached(harness.workdir)
    yield m
    m.stop()


@pytest.fixture
def redis(harness):
    """A redis-server of this test's own on a free port (helpers.Redis),
    stopped at teardown."""
    r = helpers.Redis(harness.workdir)
    yield r
    r.stop()


@pytest.fixture
def apache_configtest(harness):
    """apache_configtest(conf, server_conf=None, env=None) -> (returncode,
    output) of `apache2 -t` on the full configuration."""
    return harness.configtest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.when == "call" and rep.failed:
        h = item.funcargs.get("harness") if hasattr(item, "funcargs") else None
        if h is not None:
            for srv in h.live:
                tail = "\n".join(srv.error_log().splitlines()[-80:])
                rep.sections.append(("httpd %s error.log (tail)" % srv.dir, tail))


@pytest.fixture(autouse=True)
def _no_sanitizer_reports(request):
    """A sanitizer report in the log of an httpd that ran during a test fails
    that test (and pytest_sessionfinish catches the ones seen at shutdown)."""
    before = len(helpers.SANITIZER_REPORTS)
    yield
    h = None
    for name in ("harness", "standin_only"):
        if name in request.fixturenames:
            h = request.getfixturevalue(name)
    if h is not None:
        for srv in list(h.live):
            srv.check_sanitizers()
    new = helpers.SANITIZER_REPORTS[before:]
    if new:
        pytest.fail("sanitizer reports in httpd logs:\n" + "\n".join(
            "%s:\n  %s" % (d, "\n  ".join(lines[:40])) for d, lines in new), pytrace=False)


def pytest_sessionfinish(session, exitstatus):
    if helpers.SANITIZER_REPORTS:
        print("\nsanitizer reports in httpd logs:")
        for d, lines in helpers.SANITIZER_REPORTS:
            print("%s:\n  %s" % (d, "\n  ".join(lines[:40])))
        session.exitstatus = 1
