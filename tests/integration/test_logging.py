"""Decision logging: the request notes in an access log written with the
LogFormat shipped in conf/auth_k8ssa.conf, one info line per review (none
per cache hit), and no token in any log with the module at trace8."""

import os
import re
import time

import requests

from helpers import bearer, location

CONF = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "conf",
                    "auth_k8ssa.conf")


def shipped_logformat():
    with open(CONF) as f:
        m = re.search(r'^\s*LogFormat (".*") k8ssa$', f.read(), re.M)
    assert m, "no LogFormat ... k8ssa in conf/auth_k8ssa.conf"
    return m.group(1)


def access_lines(s, expected):
    """The access log's lines once `expected` are there (httpd writes a line
    after the answer went out), within 5 s."""
    path = os.path.join(s.dir, "decisions.log")
    lines = []
    for _ in range(100):
        if os.path.exists(path):
            with open(path) as f:
                lines = [l.split() for l in f.read().splitlines()]
            if len(lines) >= expected:
                break
        time.sleep(0.05)
    return lines


def test_notes_in_the_access_log(harness, start_httpd, api):
    conf = ('LogFormat %s k8ssa_shipped\n' % shipped_logformat() +
            'CustomLog "decisions.log" k8ssa_shipped\n' +
            location("/app", "Require valid-user", backend=harness.echo.url + "/app"))
    s = start_httpd(conf)
    tok = api.sa_token("team-a", "runner")
    cases = [
        (bearer(tok), 200),                         # miss: reviewed
        (bearer(tok), 200),                         # hit
        (bearer("not-a-known-token"), 401),         # rejected by the API server
        ({"Authorization": 'Bearer "x"'}, 400),     # malformed
        ({}, 401),                                  # missing
        (bearer(api.sa_token("team-a", "old", lifetime=-600)), 401),   # refused locally
    ]
    for headers, status in cases:
        assert requests.get(s.url("/app"), headers=headers, timeout=30).status_code == status
    api.set_mode("503")
    assert requests.get(s.url("/app"), headers=bearer(api.sa_token("a", "b")),
                        timeout=30).status_code == 503
    lines = access_lines(s, 7)
    # the last four fields: outcome cache token review-ms
    tail = [l[-4:] for l in lines]
    assert len(tail) == 7, lines
    assert tail[0][:2] == ["authenticated", "miss"] and re.fullmatch(r"\d+", tail[0][3])
    assert tail[1] == ["authenticated", "hit", tail[0][2], "-"]
    assert re.fullmatch(r"[0-9a-f]{12}", tail[0][2])
    assert tail[2][:2] == ["rejected", "miss"] and tail[2][3] != "-"
    assert tail[3] == ["malformed", "-", "-", "-"]
    assert tail[4] == ["missing", "-", "-", "-"]
    assert tail[5][:2] == ["rejected", "miss"] and tail[5][3] == "-", "no review was sent"
    assert tail[6][0] == "error"
    assert lines[0][2] == "system:serviceaccount:team-a:runner"   # %u


def test_one_info_line_per_review(harness, start_httpd, api):
    s = start_httpd(location("/app", "Require valid-user", backend=harness.echo.url + "/app"))
    tok = api.sa_token("team-a", "runner")
    mark = s.log_mark()
    for _ in range(3):
        assert requests.get(s.url("/app"), headers=bearer(tok), timeout=30).status_code == 200
    lines = [l for l in s.new_log_lines(mark) if "auth_k8ssa:info" in l and "K8SSA023" in l]
    assert len(lines) == 1, lines
    assert "system:serviceaccount:team-a:runner" in lines[0]
    assert re.search(r"token [0-9a-f]{12} ", lines[0]) and re.search(r"\(\d+ ms\)", lines[0])


def test_no_token_in_any_log_at_trace8(harness, start_httpd, api):
    """The module at trace8, and the modules around it that see the request
    (mod_proxy, the caches). httpd's own `http` module writes every request
    header at trace4 and above, Authorization included: out of the module's
    reach, and said in the README."""
    conf = ("LogLevel info auth_k8ssa:trace8 proxy:trace8 proxy_http:trace8 "
            "socache_shmcb:trace8 authz_core:trace8 core:trace8\n"
            'LogFormat %s k8ssa_shipped\n' % shipped_logformat() +
            'CustomLog "decisions.log" k8ssa_shipped\n' +
            location("/app", "Require valid-user\nAuthK8sForwardToken Off",
                     backend=harness.echo.url + "/app"))
    s = start_httpd(conf)
    tokens = [api.sa_token("team-a", "runner"), api.user_token("alice"), "unknown-" + "x" * 40,
              api.sa_token("team-a", "old", lifetime=-600)]
    for t in tokens:
        requests.get(s.url("/app"), headers=bearer(t), timeout=30)
    requests.get(s.url("/app"), headers=bearer(tokens[0]), timeout=30)
    time.sleep(0.3)
    logs = s.error_log()
    with open(os.path.join(s.dir, "decisions.log")) as f:
        logs += f.read()
    for t in tokens:
        for piece in (t, t.split(".")[-1]):
            assert piece not in logs, "a token (or its signature) is in a log"


def test_error_documents_keep_the_first_decision(harness, start_httpd, api):
    """An ErrorDocument inside the protected area authenticates again: the
    access log (%<) keeps the client's request's decision, and
    k8ssa_requests_total counts the request once."""
    e = harness.echo.url
    page = harness.file("error-page.html", "<p>sorry</p>\n")
    conf = ('LogFormat %s k8ssa_shipped\n' % shipped_logformat() +
            'Alias /site/error "%s"\n<Directory "%s">\n    Require all granted\n'
            '</Directory>\n' % (page, os.path.dirname(page)) +
            'CustomLog "decisions.log" k8ssa_shipped\n' +
            "<Location /metrics>\n    SetHandler k8ssa-metrics\n    Require all granted\n"
            "</Location>\n" +
            location("/site", "Require valid-user\nErrorDocument 401 /site/error\n"
                              "ErrorDocument 403 /site/error\nAuthzSendForbiddenOnFailure On") +
            location("/site/x", "Require valid-user", backend=e + "/x") +
            location("/site/admin", "Require k8s-namespace nobody\n"
                                    "AuthzSendForbiddenOnFailure On", backend=e + "/admin"))
    s = start_httpd(conf)
    tok = api.sa_token("team-a", "runner")
    assert requests.get(s.url("/site/x"), headers=bearer("nope"), timeout=30).status_code == 401
    assert requests.get(s.url("/site/admin"), headers=bearer(tok), timeout=30).status_code == 403
    lines = access_lines(s, 2)
    assert lines[0][-4:-2] == ["rejected", "miss"] and lines[0][-1] != "-", lines[0]
    assert lines[1][-4:-2] == ["authenticated", "miss"] and lines[1][-1] != "-", lines[1]
    text = requests.get(s.url("/metrics"), timeout=30).text
    assert 'k8ssa_requests_total{outcome="rejected"} 1\n' in text
    assert 'k8ssa_requests_total{outcome="authenticated"} 1\n' in text
