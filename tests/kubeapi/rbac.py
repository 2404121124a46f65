"""RBAC as kube-apiserver evaluates it, for the stand-in's SubjectAccessReviews.

Written from the RBAC reference (rbac.authorization.k8s.io/v1) and from
plugin/pkg/auth/authorizer/rbac (rbac.go, evaluation_helpers.go):

* Roles and RoleBindings grant within their namespace only, and only resource
  requests; a RoleBinding may refer to a ClusterRole, whose rules then apply in
  the binding's namespace. ClusterRoleBindings grant everywhere: resource
  requests in any namespace, cluster-scoped ones, and non-resource URLs.
* A rule matches when its verbs, apiGroups, resources (``*``, ``res``,
  ``res/sub``, ``*/sub``) and resourceNames (empty: all) match a resource
  request, or its verbs and nonResourceURLs (exact, ``*``, or a prefix ending
  in ``*``) match a non-resource request.
* Subjects: User by name, Group by any of the groups, ServiceAccount by
  ``system:serviceaccount:NS:NAME`` (a RoleBinding's subject without a
  namespace means the binding's).
* RBAC never denies; an explicit deny comes from an authorizer in front of it
  (a webhook): ``denies`` here, each a list of rules and subjects with a
  reason, consulted first.

The objects are the dicts of their YAML manifests (kind, metadata, rules,
subjects, roleRef).
"""


def _has(values, want):
    return "*" in values or want in values


def _resource_matches(rule_resources, resource, subresource):
    combined = resource + ("/" + subresource if subresource else "")
    for r in rule_resources:
        if r == "*" or r == combined:
            return True
        if subresource and r.startswith("*/") and r[2:] == subresource:
            return True
    return False


def _url_matches(rule_urls, path):
    for u in rule_urls:
        if u == "*" or u == path:
            return True
        if u.endswith("*") and path.startswith(u[:-1]):
            return True
    return False


def rule_allows(rule, attrs):
    """One PolicyRule against the attributes of a SubjectAccessReview
    (dict: verb, group, resource, subresource, namespace, name, path,
    resource_request)."""
    if not _has(rule.get("verbs") or [], attrs["verb"]):
        return False
    if not attrs["resource_request"]:
        return _url_matches(rule.get("nonResourceURLs") or [], attrs["path"])
    if not rule.get("resources"):
        return False
    if not _has(rule.get("apiGroups") or [], attrs["group"]):
        return False
    if not _resource_matches(rule["resources"], attrs["resource"], attrs["subresource"]):
        return False
    names = rule.get("resourceNames") or []
    return not names or attrs["name"] in names


def subject_matches(subject, user, groups, binding_ns):
    kind = subject.get("kind")
    name = subject.get("name")
    if kind == "User":
        return name == user
    if kind == "Group":
        return name in groups
    if kind == "ServiceAccount":
        ns = subject.get("namespace") or binding_ns
        return ns is not None and user == "system:serviceaccount:%s:%s" % (ns, name)
    return False


def attributes_of(spec):
    """The request attributes of a SubjectAccessReview spec."""
    ra = spec.get("resourceAttributes")
    if ra is not None:
        return {"resource_request": True, "verb": ra.get("verb", ""),
                "group": ra.get("group", ""), "resource": ra.get("resource", ""),
                "subresource": ra.get("subresource", ""),
                "namespace": ra.get("namespace", ""), "name": ra.get("name", ""),
                "path": ""}
    nra = spec.get("nonResourceAttributes") or {}
    return {"resource_request": False, "verb": nra.get("verb", ""), "path": nra.get("path", ""),
            "group": "", "resource": "", "subresource": "", "namespace": "", "name": ""}


class RBAC:
    def __init__(self, objects=(), denies=()):
        self.roles = {}            # (ns, name) -> rules
        self.cluster_roles = {}    # name -> rules
        self.role_bindings = []    # objects
        self.cluster_role_bindings = []
        self.denies = list(denies)
        for o in objects:
            kind = o["kind"]
            meta = o.get("metadata") or {}
            if kind == "Role":
                self.roles[(meta["namespace"], meta["name"])] = o.get("rules") or []
            elif kind == "ClusterRole":
                self.cluster_roles[meta["name"]] = o.get("rules") or []
            elif kind == "RoleBinding":
                self.role_bindings.append(o)
            elif kind == "ClusterRoleBinding":
                self.cluster_role_bindings.append(o)
            else:
                raise ValueError("not an RBAC object: %s" % kind)

    def decide(self, spec):
        """(allowed, denied, reason) for a SubjectAccessReview spec."""
        user = spec.get("user", "")
        groups = spec.get("groups") or []
        attrs = attributes_of(spec)
        for d in self.denies:
            if any(subject_matches(s, user, groups, None) for s in d["subjects"]) and \
                    any(rule_allows(r, attrs) for r in d["rules"]):
                return False, True, d.get("reason", "denied by policy")
        for b in self.cluster_role_bindings:
            ref = b["roleRef"]
            if ref.get("kind") != "ClusterRole":
                continue
            if not any(subject_matches(s, user, groups, None) for s in b.get("subjects") or []):
                continue
            if any(rule_allows(r, attrs) for r in self.cluster_roles.get(ref["name"], [])):
                return True, False, 'RBAC: allowed by ClusterRoleBinding "%s" of ClusterRole ' \
                    '"%s" to %s' % (b["metadata"]["name"], ref["name"], _who(b, user, groups))
        ns = attrs["namespace"]
        if attrs["resource_request"] and ns:
            for b in self.role_bindings:
                bns = b["metadata"]["namespace"]
                if bns != ns:
                    continue
                if not any(subject_matches(s, user, groups, bns)
                           for s in b.get("subjects") or []):
                    continue
                ref = b["roleRef"]
                rules = self.cluster_roles.get(ref["name"], []) if ref.get("kind") == "ClusterRole" \
                    else self.roles.get((bns, ref["name"]), [])
                if any(rule_allows(r, attrs) for r in rules):
                    return True, False, 'RBAC: allowed by RoleBinding "%s/%s" of %s "%s" to %s' % (
                        bns, b["metadata"]["name"], ref.get("kind"), ref["name"],
                        _who(b, user, groups))
        return False, False, ""


def _who(binding, user, groups):
    for s in binding.get("subjects") or []:
        if s.get("kind") == "Group" and s.get("name") in groups:
            return 'Group "%s"' % s["name"]
    if user.startswith("system:serviceaccount:"):
        ns, _, name = user[len("system:serviceaccount:"):].partition(":")
        return 'ServiceAccount "%s/%s"' % (name, ns)
    return 'User "%s"' % user
