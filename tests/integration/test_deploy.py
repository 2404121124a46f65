"""deploy/: the Kubernetes manifests parse and refer to each other (names,
labels, mounts, ports), and the httpd configuration of their ConfigMap passes
`apache2 -t` with the built module; the Containerfile installs what the
configuration uses."""

import os
import re

import pytest

yaml = pytest.importorskip("yaml")   # Debian python3-yaml, installed by scripts/deps.sh

DEPLOY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "deploy")


def docs():
    with open(os.path.join(DEPLOY, "k8ssa.yaml")) as f:
        return [d for d in yaml.safe_load_all(f) if d]


def one(kind):
    found = [d for d in docs() if d["kind"] == kind]
    assert len(found) == 1, kind
    return found[0]


def test_every_object_is_there():
    kinds = sorted(d["kind"] for d in docs())
    assert kinds == sorted(["Namespace", "ServiceAccount", "ClusterRoleBinding", "ConfigMap",
                            "Deployment", "Service"])
    ns = one("Namespace")["metadata"]["name"]
    for d in docs():
        if d["kind"] not in ("Namespace", "ClusterRoleBinding"):
            assert d["metadata"]["namespace"] == ns, d["kind"]


def test_references():
    sa, crb, cm = one("ServiceAccount"), one("ClusterRoleBinding"), one("ConfigMap")
    dep, svc = one("Deployment"), one("Service")
    # the module's RBAC: tokenreviews and subjectaccessreviews
    assert crb["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                              "name": "system:auth-delegator"}
    assert {"kind": "ServiceAccount", "name": sa["metadata"]["name"],
            "namespace": sa["metadata"]["namespace"]} in crb["subjects"]
    pod = dep["spec"]["template"]
    assert pod["spec"]["serviceAccountName"] == sa["metadata"]["name"]
    # selectors and labels
    labels = pod["metadata"]["labels"]
    assert dep["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert svc["spec"]["selector"].items() <= labels.items()
    # volumes, mounts, the ConfigMap's key
    (c,) = pod["spec"]["containers"]
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    for m in c["volumeMounts"]:
        assert m["name"] in volumes, m
    conf_mount = [m for m in c["volumeMounts"] if "configMap" in volumes[m["name"]]][0]
    assert volumes[conf_mount["name"]]["configMap"]["name"] == cm["metadata"]["name"]
    assert conf_mount["subPath"] in cm["data"]
    assert conf_mount["mountPath"].startswith("/etc/apache2/sites-enabled/")
    # the module's own credential where it looks in a pod, with the CA
    token_mount = [m for m in c["volumeMounts"] if "projected" in volumes[m["name"]]][0]
    assert token_mount["mountPath"] == "/var/run/secrets/kubernetes.io/serviceaccount"
    sources = volumes[token_mount["name"]]["projected"]["sources"]
    assert any(s.get("serviceAccountToken", {}).get("path") == "token" for s in sources)
    assert any(i["path"] == "ca.crt" for s in sources for i in s.get("configMap", {}).get(
        "items", []))
    # ports: the Service's target, the probes and the scrape annotation
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    assert svc["spec"]["ports"][0]["targetPort"] in ports
    for probe in ("readinessProbe", "livenessProbe"):
        assert c[probe]["httpGet"]["port"] in ports
    ann = pod["metadata"]["annotations"]
    assert ann["prometheus.io/scrape"] == "true"
    assert int(ann["prometheus.io/port"]) in ports.values()
    assert c["resources"]["requests"] and c["resources"]["limits"]
    # the configuration serves what the probes and the scrape ask for
    text = cm["data"][conf_mount["subPath"]]
    port = list(ports.values())[0]
    assert "<VirtualHost *:%d>" % port in text
    assert re.search(r"<Location %s>\s*SetHandler k8ssa-metrics" % re.escape(ann["prometheus.io/path"]),
                     text)
    docroot = re.search(r"DocumentRoot (\S+)", text).group(1)
    with open(os.path.join(DEPLOY, "Containerfile")) as f:
        containerfile = f.read()
    assert "%s/healthz" % docroot in containerfile
    assert c["readinessProbe"]["httpGet"]["path"] == "/healthz"
    assert 'Listen %d' % port in containerfile


def test_configmap_passes_configtest(harness):
    cm = one("ConfigMap")
    (text,) = cm["data"].values()
    conf = ("Listen 127.0.0.1:%d\n" % 18080 + text.replace("*:8080", "127.0.0.1:18080"))
    rc, out = harness.configtest(conf, server_conf="", env={"KUBERNETES_SERVICE_HOST": "127.0.0.1",
                                            "KUBERNETES_SERVICE_PORT": str(harness.api.port)})
    assert rc == 0, out
    assert "Syntax OK" in out
