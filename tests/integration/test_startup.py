"""Configuration errors are caught at startup (apache2 -t) and name the
directive."""


import pytest

from helpers import location


def loc():
    return location("/p", "Require valid-user")


def test_valid_config_passes(apache_configtest, harness):
    rc, out = apache_configtest(loc())
    assert rc == 0, out
    assert "Syntax OK" in out


def test_no_authtype_no_api_server_needed(apache_configtest, harness):
    rc, out = apache_configtest("<Location /x>\nRequire all granted\n</Location>\n",
                                 server_conf="")
    assert rc == 0, out


def server(harness, **kw):
    return harness.default_server_conf(**kw)


@pytest.mark.parametrize("server_conf_fn,directive", [
    (lambda h: server(h, api_url="http://127.0.0.1:6443"), "AuthK8sAPIServer"),
    (lambda h: server(h, api_url="ftp://127.0.0.1:6443"), "AuthK8sAPIServer"),
    (lambda h: server(h, api_url="not a url"), "AuthK8sAPIServer"),
    (lambda h: server(h, timeout="0"), "AuthK8sTimeout"),
    (lambda h: server(h, timeout="abc"), "AuthK8sTimeout"),
    (lambda h: server(h, timeout="-3"), "AuthK8sTimeout"),
    (lambda h: server(h, ca="/nonexistent/ca.crt"), "AuthK8sCAFile"),
    (lambda h: server(h, token_file="/nonexistent/token"), "AuthK8sTokenFile"),
], ids=["http-url", "ftp-url", "not-url", "timeout-0", "timeout-abc", "timeout-negative",
        "cafile-missing", "tokenfile-missing"])
def test_server_directive_errors(apache_configtest, harness, server_conf_fn, directive):
    rc, out = apache_configtest(loc(), server_conf=server_conf_fn(harness))
    assert rc != 0, out
    assert directive in out, out


def test_client_certificate_without_key(apache_configtest, harness):
    sc = "AuthK8sAPIServer %s\nAuthK8sCAFile %s\nAuthK8sClientCertificate %s" % (
        harness.api.url, harness.pki.ca_cert, harness.pki.client_cert)
    rc, out = apache_configtest(loc(), server_conf=sc)
    assert rc != 0, out
    assert "AuthK8sClientKey" in out or "AuthK8sClientCertificate" in out, out


def test_client_key_without_certificate(apache_configtest, harness):
    sc = "AuthK8sAPIServer %s\nAuthK8sCAFile %s\nAuthK8sClientKey %s" % (
        harness.api.url, harness.pki.ca_cert, harness.pki.client_key)
    rc, out = apache_configtest(loc(), server_conf=sc)
    assert rc != 0, out
    assert "AuthK8sClientKey" in out or "AuthK8sClientCertificate" in out, out


def test_client_certificate_missing_file(apache_configtest, harness):
    sc = harness.default_server_conf() + \
        "\nAuthK8sClientCertificate /nonexistent/c.crt\nAuthK8sClientKey %s" % harness.pki.client_key
    rc, out = apache_configtest(loc(), server_conf=sc)
    assert rc != 0, out
    assert "AuthK8sClientCertificate" in out, out


def test_ca_file_without_certificate(apache_configtest, harness):
    bogus = harness.file("not-a-ca.pem", "this is not PEM\n")
    rc, out = apache_configtest(loc(), server_conf=server(harness, ca=bogus))
    assert rc != 0, out
    assert "AuthK8sCAFile" in out and "no PEM certificate" in out, out


def test_client_key_of_another_certificate(apache_configtest, harness):
    sc = harness.default_server_conf() + \
        "\nAuthK8sClientCertificate %s\nAuthK8sClientKey %s" % (
            harness.pki.client_cert, harness.pki.other_client_key)
    rc, out = apache_configtest(loc(), server_conf=sc)
    assert rc != 0, out
    assert "does not match AuthK8sClientCertificate" in out, out


def test_authtype_without_api_server(apache_configtest, harness):
    sc = 'AuthK8sCAFile "%s"\nAuthK8sTokenFile "%s"' % (harness.pki.ca_cert, harness.token_file)
    rc, out = apache_configtest(loc(), server_conf=sc)
    assert rc != 0, out
    assert "AuthK8sAPIServer" in out, out


def test_authtype_in_vhost_without_api_server(apache_configtest, harness):
    conf = "<VirtualHost 127.0.0.1:*>\nServerName other\n%s</VirtualHost>\n" % loc()
    rc, out = apache_configtest(conf, server_conf="")
    assert rc != 0, out
    assert "AuthK8sAPIServer" in out, out


def test_in_cluster_env_is_enough(apache_configtest, harness):
    sc = 'AuthK8sCAFile "%s"\nAuthK8sTokenFile "%s"' % (harness.pki.ca_cert, harness.token_file)
    rc, out = apache_configtest(loc(), server_conf=sc,
                                 env={"KUBERNETES_SERVICE_HOST": "127.0.0.1",
                                      "KUBERNETES_SERVICE_PORT": "6443"})
    assert rc == 0, out


@pytest.mark.parametrize("line,directive", [
    ('AuthK8sUserHeader "Bad Header"', "AuthK8sUserHeader"),
    ("AuthK8sUserHeader X:Y", "AuthK8sUserHeader"),
    ('AuthK8sGroupsHeader "X(Y)"', "AuthK8sGroupsHeader"),
    ('AuthK8sExtraHeaderPrefix "X Extra-"', "AuthK8sExtraHeaderPrefix"),
    ("AuthK8sForwardToken maybe", "AuthK8sForwardToken"),
    ("AuthK8sUserHeader Content-Length", "AuthK8sUserHeader"),
    ("AuthK8sGroupsHeader transfer_encoding", "AuthK8sGroupsHeader"),
    ("AuthK8sUserHeader Authorization", "AuthK8sUserHeader"),
    ("AuthK8sExtraHeaderPrefix Content-", "AuthK8sExtraHeaderPrefix"),
    ("AuthK8sExtraHeaderPrefix C", "AuthK8sExtraHeaderPrefix"),
])
def test_directory_directive_errors(apache_configtest, line, directive):
    rc, out = apache_configtest(location("/p", "Require valid-user\n" + line))
    assert rc != 0, out
    assert directive in out, out


def test_shipped_a2enmod_files(apache_configtest, harness):
    """conf/auth_k8ssa.load names the module and Debian's module path;
    conf/auth_k8ssa.conf loads cleanly next to a location using the AuthType."""
    from helpers import TOP_SRCDIR
    import os
    with open(os.path.join(TOP_SRCDIR, "conf", "auth_k8ssa.load")) as f:
        load = [l.split() for l in f if l.startswith("LoadModule")]
    assert load == [["LoadModule", "auth_k8ssa_module",
                     "/usr/lib/apache2/modules/mod_auth_k8ssa.so"]]
    rc, out = apache_configtest(
        'Include "%s"\n' % os.path.join(TOP_SRCDIR, "conf", "auth_k8ssa.conf") + loc())
    assert rc == 0, out
    assert "Syntax OK" in out


def readme_location_blocks():
    """The <Location> blocks of README.md's configuration examples."""
    from helpers import TOP_SRCDIR
    import os
    import re
    with open(os.path.join(TOP_SRCDIR, "README.md")) as f:
        text = f.read()
    return [re.sub(r"(?m)^    ", "", m.group(0))
            for m in re.finditer(r"(?ms)^ {4}<Location [^\n]*\n.*?^ {4}</Location>", text)]


def test_readme_examples_are_valid_configuration(apache_configtest):
    blocks = readme_location_blocks()
    assert len(blocks) >= 3, blocks
    for block in blocks:
        rc, out = apache_configtest(block)
        assert rc == 0, block + out
