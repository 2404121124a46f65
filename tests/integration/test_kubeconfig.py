"""AuthK8sKubeconfig: every supported shape connects to the stand-in;
contexts select cluster and user; every refused shape fails `apache2 -t`
with its name; explicit directives win; relative paths; data fields become
0600 files."""

import base64
import os
import stat

import pytest
import requests

from helpers import bearer, free_port, location, write_file


def b64(path):
    with open(path, "rb") as f:
        return base64.b64encode(f.read()).decode()


def kubeconfig(harness, name, clusters, users, contexts, current):
    """A kubeconfig in a directory of its own; returns its path."""
    d = harness.subdir("kubeconfig")
    lines = ["apiVersion: v1", "kind: Config", "current-context: %s" % current, "clusters:"]
    for cname, fields in clusters.items():
        lines += ["- name: %s" % cname, "  cluster:"] + ["    %s: %s" % kv for kv in fields.items()]
    lines.append("users:")
    for uname, fields in users.items():
        lines += ["- name: %s" % uname, "  user:"]
        for k, v in fields.items():
            if isinstance(v, dict):
                lines.append("    %s:" % k)
                lines += ["      %s: %s" % kv for kv in v.items()]
            else:
                lines.append("    %s: %s" % (k, v))
    lines.append("contexts:")
    for xname, (c, u) in contexts.items():
        lines += ["- name: %s" % xname, "  context:", "    cluster: %s" % c]
        if u:
            lines.append("    user: %s" % u)
    return write_file(os.path.join(d, name), "\n".join(lines) + "\n"), d


def app(harness):
    return location("/app", "Require valid-user", backend=harness.echo.url + "/app")


def works(harness, start_httpd, api, server_conf):
    s = start_httpd(app(harness), server_conf=server_conf)
    tok = api.sa_token("team-a", "runner")
    r = requests.get(s.url("/app"), headers=bearer(tok), timeout=30)
    return s, r.status_code


def test_files_relative_to_the_kubeconfig(harness, start_httpd, api):
    path, d = kubeconfig(harness, "config", {"c": {"server": harness.api.url,
                                                   "certificate-authority": "ca.crt"}},
                         {"u": {"tokenFile": "secrets/token"}}, {"x": ("c", "u")}, "x")
    with open(harness.pki.ca_cert) as f:
        write_file(os.path.join(d, "ca.crt"), f.read())
    os.makedirs(os.path.join(d, "secrets"))
    write_file(os.path.join(d, "secrets", "token"), harness.module_token + "\n")
    _, code = works(harness, start_httpd, api, 'AuthK8sKubeconfig "%s"' % path)
    assert code == 200


def test_data_fields_and_inline_token(harness, start_httpd, api):
    path, _ = kubeconfig(harness, "config", {"c": {"server": harness.api.url,
                                                   "certificate-authority-data":
                                                   b64(harness.pki.ca_cert)}},
                         {"u": {"token": harness.module_token}}, {"x": ("c", "u")}, "x")
    s, code = works(harness, start_httpd, api, 'AuthK8sKubeconfig "%s"' % path)
    assert code == 200
    run = os.path.join(s.dir, "run")
    made = [f for f in os.listdir(run) if f.startswith("k8ssa-kc-")]
    assert sorted(f.rsplit("-", 1)[1] for f in made) == ["ca.crt", "token"]
    for f in made:
        assert stat.S_IMODE(os.stat(os.path.join(run, f)).st_mode) == 0o600


@pytest.mark.parametrize("shape", ["data", "files"])
def test_client_certificate(harness, start_httpd, api, shape):
    pki = harness.pki
    user = ({"client-certificate-data": b64(pki.client_cert),
             "client-key-data": b64(pki.client_key)} if shape == "data" else
            {"client-certificate": pki.client_cert, "client-key": pki.client_key})
    path, _ = kubeconfig(harness, "config", {"c": {"server": harness.api.url,
                                                   "certificate-authority": pki.ca_cert}},
                         {"u": user}, {"x": ("c", "u")}, "x")
    _, code = works(harness, start_httpd, api, 'AuthK8sKubeconfig "%s"' % path)
    assert code == 200
    assert api.requests[-1]["peer_cn"] == "k8ssa-module"


def two_contexts(harness):
    down = "https://127.0.0.1:%d" % free_port()
    return kubeconfig(harness, "config",
                      {"good": {"server": harness.api.url,
                                "certificate-authority": harness.pki.ca_cert},
                       "down": {"server": down, "certificate-authority": harness.pki.ca_cert}},
                      {"u": {"token": harness.module_token},
                       "plugin": {"exec": {"command": "/bin/false"}}},
                      {"prod": ("down", "plugin"), "dev": ("good", "u"), "half": ("down", "u")},
                      "half")[0]


def test_contexts_select_cluster_and_user(harness, start_httpd, api):
    path = two_contexts(harness)
    # the named context; the exec plugin of another context does not matter
    _, code = works(harness, start_httpd, api, 'AuthK8sKubeconfig "%s" dev' % path)
    assert code == 200
    # current-context: a cluster that is down
    _, code = works(harness, start_httpd, api, 'AuthK8sKubeconfig "%s"' % path)
    assert code == 503


def test_explicit_directives_win(harness, start_httpd, api):
    path = two_contexts(harness)
    conf = ('AuthK8sKubeconfig "%s"\nAuthK8sAPIServer %s\n' % (path, harness.api.url))
    _, code = works(harness, start_httpd, api, conf)
    assert code == 200, "AuthK8sAPIServer over the context's server"
    bad = harness.file("other.token", "not-accepted\n")
    conf = ('AuthK8sKubeconfig "%s" dev\nAuthK8sTokenFile "%s"\n' % (path, bad))
    _, code = works(harness, start_httpd, api, conf)
    assert code == 500, "the explicit token, refused by the API server, was used"


@pytest.mark.parametrize("user,cluster_extra,what", [
    ({"exec": {"command": "aws"}}, {}, "exec plugin"),
    ({"auth-provider": {"name": "gcp"}}, {}, "auth-provider"),
    ({"username": "admin", "password": "x"}, {}, "basic auth"),
    ({"token": "t"}, {"insecure-skip-tls-verify": "true"}, "insecure-skip-tls-verify"),
    ({"token": "t"}, {"certificate-authority-data": "abcde"}, "certificate-authority-data"),
    ({"token": "t"}, {"insecure-skip-tls-verify": "yes"}, "insecure-skip-tls-verify"),
    ({"token": "t"}, {"insecure-skip-tls-verify": "TRUE"}, "insecure-skip-tls-verify"),
    ({"token": "t"}, {"insecure-skip-tls-verify": "on"}, "insecure-skip-tls-verify"),
    ({"token": "t"}, {"server": "https://user:pw@127.0.0.1:1"}, "server must be"),
    ({"token": "t"}, {"server": "https://"}, "server must be"),
    ({"client-certificate": "/x.crt"}, {}, "go together"),
    ({"token": "t", "as": "system:admin"}, {}, "impersonates"),
])
def test_refused_shapes_fail_startup(harness, user, cluster_extra, what):
    fields = dict({"server": harness.api.url}, **cluster_extra)
    path, _ = kubeconfig(harness, "config", {"c": fields}, {"u": user}, {"x": ("c", "u")}, "x")
    rc, out = harness.configtest(app(harness), server_conf='AuthK8sKubeconfig "%s"' % path)
    assert rc != 0
    assert "AuthK8sKubeconfig" in out and what in out, out


@pytest.mark.parametrize("text,what", [
    ("- just\n- a list\n", "no mapping"),
    ("current-context: x\n", "no context 'x'"),
    ("a: [unclosed\n", "not YAML"),
])
def test_broken_files_fail_startup(harness, text, what):
    path = harness.file("broken-kubeconfig", text)
    rc, out = harness.configtest(app(harness), server_conf='AuthK8sKubeconfig "%s"' % path)
    assert rc != 0 and what in out, out


def test_insecure_skip_false_is_fine(harness):
    path, _ = kubeconfig(harness, "config", {"c": {"server": harness.api.url + "/",
                                                   "certificate-authority": harness.pki.ca_cert,
                                                   "insecure-skip-tls-verify": "false"}},
                         {"u": {"token": "t"}}, {"x": ("c", "u")}, "x")
    rc, out = harness.configtest(app(harness), server_conf='AuthK8sKubeconfig "%s"' % path)
    assert rc == 0, out


def test_unknown_context_fails_startup(harness):
    rc, out = harness.configtest(app(harness), server_conf='AuthK8sKubeconfig "%s" nope'
                                 % two_contexts(harness))
    assert rc != 0 and "no context 'nope'" in out, out
