/*
 * test_accessreview.c - unit tests of src/lib/accessreview.c: the
 * SubjectAccessReview body exactly as Go's encoding/json writes the object,
 * and the strict interpretation of hostile answers.
 */
#include "unit.h"

#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <json-c/json.h>

#include "accessreview.h"

static const char *groups3[] = { "system:serviceaccounts", "system:serviceaccounts:team-a",
                                 "system:authenticated" };
static const char *pod_name[] = { "runner-7c9f" };
static const char *two[] = { "a", "b" };
static k8ssa_extra extra2[] = {
    /* in answer order; Go writes map keys sorted */
    { "authentication.kubernetes.io/pod-name", pod_name, 1 },
    { "a-first", two, 2 },
};
static const k8ssa_identity sa = {
    "system:serviceaccount:team-a:runner", "5e2f-0a9c", groups3, 3, extra2, 2, NULL, 0,
};
static const k8ssa_identity bare = { "alice", "", NULL, 0, NULL, 0, NULL, 0 };

static void test_request_resource(void **state)
{
    k8ssa_access_attributes a = { "get", "apps", "deployments", "scale", "team-a", "web", NULL };
    const char *body = k8ssa_accessreview_request(*state, &sa, &a);

    assert_string_equal(body,
        "{\"kind\":\"SubjectAccessReview\",\"apiVersion\":\"authorization.k8s.io/v1\","
        "\"metadata\":{\"creationTimestamp\":null},\"spec\":{\"resourceAttributes\":"
        "{\"namespace\":\"team-a\",\"verb\":\"get\",\"group\":\"apps\",\"resource\":"
        "\"deployments\",\"subresource\":\"scale\",\"name\":\"web\"},"
        "\"user\":\"system:serviceaccount:team-a:runner\",\"groups\":[\"system:serviceaccounts\","
        "\"system:serviceaccounts:team-a\",\"system:authenticated\"],\"extra\":{\"a-first\":"
        "[\"a\",\"b\"],\"authentication.kubernetes.io/pod-name\":[\"runner-7c9f\"]},"
        "\"uid\":\"5e2f-0a9c\"},\"status\":{\"allowed\":false}}");
}

static void test_request_omits_empty_fields(void **state)
{
    /* core group, cluster-wide, no name: omitted as Go's omitempty does */
    k8ssa_access_attributes a = { "list", "", "nodes", NULL, "", NULL, NULL };
    assert_string_equal(k8ssa_accessreview_request(*state, &bare, &a),
        "{\"kind\":\"SubjectAccessReview\",\"apiVersion\":\"authorization.k8s.io/v1\","
        "\"metadata\":{\"creationTimestamp\":null},\"spec\":{\"resourceAttributes\":"
        "{\"verb\":\"list\",\"resource\":\"nodes\"},\"user\":\"alice\"},"
        "\"status\":{\"allowed\":false}}");
}

static void test_request_non_resource(void **state)
{
    k8ssa_access_attributes a = { "get", NULL, NULL, NULL, NULL, NULL, "/metrics" };
    assert_string_equal(k8ssa_accessreview_request(*state, &bare, &a),
        "{\"kind\":\"SubjectAccessReview\",\"apiVersion\":\"authorization.k8s.io/v1\","
        "\"metadata\":{\"creationTimestamp\":null},\"spec\":{\"nonResourceAttributes\":"
        "{\"path\":\"/metrics\",\"verb\":\"get\"},\"user\":\"alice\"},"
        "\"status\":{\"allowed\":false}}");
}

/* Go escapes ", \, controls, <, >, & and U+2028/U+2029. */
static void test_request_escaping(void **state)
{
    k8ssa_access_attributes a = { "get", NULL, NULL, NULL, NULL, NULL,
                                  "/a\"b\\c<d>e&f\xe2\x80\xa8g\xe2\x80\xa9h\n\x01" };
    const char *body = k8ssa_accessreview_request(*state, &bare, &a);
    assert_non_null(strstr(body, "\"path\":\"/a\\\"b\\\\c\\u003cd\\u003ee\\u0026f\\u2028g"
                                 "\\u2029h\\n\\u0001\""));
}

/* The largest identity the parsers let through, every byte escaped 6 times:
 * the body fits its buffer (pool memory is guarded in sanitizer builds) and
 * parses back. */
static void test_request_worst_case_size(void **state)
{
    apr_pool_t *p = *state;
    char *s = apr_palloc(p, K8SSA_MAX_STRING + 1);
    const char **g = apr_palloc(p, K8SSA_MAX_GROUPS * sizeof(*g));
    k8ssa_extra *x = apr_palloc(p, K8SSA_MAX_EXTRA_KEYS * sizeof(*x));
    const char **v = apr_palloc(p, K8SSA_MAX_EXTRA_VALS * sizeof(*v));
    k8ssa_identity id = { NULL, NULL, g, K8SSA_MAX_GROUPS, x, K8SSA_MAX_EXTRA_KEYS, NULL, 0 };
    k8ssa_access_attributes a = { s, s, s, s, s, s, NULL };
    json_object *o;
    size_t i;

    memset(s, '<', K8SSA_MAX_STRING);
    s[K8SSA_MAX_STRING] = '\0';
    id.username = id.uid = s;
    for (i = 0; i < K8SSA_MAX_GROUPS; i++)
        g[i] = s;
    for (i = 0; i < K8SSA_MAX_EXTRA_VALS; i++)
        v[i] = s;
    for (i = 0; i < K8SSA_MAX_EXTRA_KEYS; i++) {
        x[i].key = apr_psprintf(p, "%s%zu", s, i);
        x[i].values = v;
        x[i].nvalues = K8SSA_MAX_EXTRA_VALS;
    }
    o = json_tokener_parse(k8ssa_accessreview_request(p, &id, &a));
    assert_non_null(o);
    json_object_put(o);
}

/* --- answers --- */

static k8ssa_access_result parse(apr_pool_t *p, const char *body)
{
    k8ssa_access_result r;
    k8ssa_accessreview_parse(p, body, strlen(body), &r);
    return r;
}

static const char *answer(apr_pool_t *p, const char *status)
{
    return apr_psprintf(p, "{\"kind\":\"SubjectAccessReview\",\"apiVersion\":"
                           "\"authorization.k8s.io/v1\",\"metadata\":{\"creationTimestamp\":null},"
                           "\"spec\":{\"user\":\"u\"},\"status\":{%s}}", status);
}

static void test_answers(void **state)
{
    apr_pool_t *p = *state;
    k8ssa_access_result r;

    r = parse(p, answer(p, "\"allowed\":true,\"reason\":\"RBAC: allowed by RoleBinding "
                           "\\\"view/team-a\\\" of ClusterRole \\\"view\\\" to Group \\\"g\\\"\""));
    assert_int_equal(r.outcome, K8SSA_ACCESS_ALLOWED);
    assert_non_null(strstr(r.detail, "allowed by RoleBinding"));
    r = parse(p, answer(p, "\"allowed\":false"));
    assert_int_equal(r.outcome, K8SSA_ACCESS_DENIED);
    assert_null(r.detail);
    /* an explicit deny beats everything */
    r = parse(p, answer(p, "\"allowed\":true,\"denied\":true,\"reason\":\"webhook says no\""));
    assert_int_equal(r.outcome, K8SSA_ACCESS_DENIED);
    r = parse(p, answer(p, "\"allowed\":false,\"denied\":false"));
    assert_int_equal(r.outcome, K8SSA_ACCESS_DENIED);
    r = parse(p, answer(p, "\"allowed\":false,\"evaluationError\":\"role.rbac \\\"x\\\" not "
                           "found\""));
    assert_int_equal(r.outcome, K8SSA_ACCESS_DENIED);
    assert_string_equal(r.detail, "evaluation error: role.rbac \"x\" not found");
    r = parse(p, answer(p, "\"allowed\":true,\"reason\":\"r\",\"evaluationError\":\"e\""));
    assert_int_equal(r.outcome, K8SSA_ACCESS_ALLOWED);
    assert_string_equal(r.detail, "r; evaluation error: e");
    /* the genuine answer of a Kubernetes 1.30 API server, newline included */
    r = parse(p, "{\"kind\":\"SubjectAccessReview\",\"apiVersion\":\"authorization.k8s.io/v1\","
                 "\"metadata\":{\"creationTimestamp\":null},\"spec\":{\"resourceAttributes\":"
                 "{\"namespace\":\"monitoring\",\"verb\":\"get\",\"resource\":\"services\","
                 "\"subresource\":\"proxy\"},\"user\":\"system:serviceaccount:monitoring:"
                 "prometheus\",\"groups\":[\"system:serviceaccounts\"],\"uid\":\"0b3f\"},"
                 "\"status\":{\"allowed\":true,\"reason\":\"RBAC: allowed by ClusterRoleBinding "
                 "\\\"prometheus\\\" of ClusterRole \\\"prometheus\\\" to ServiceAccount "
                 "\\\"prometheus/monitoring\\\"\"}}\n");
    assert_int_equal(r.outcome, K8SSA_ACCESS_ALLOWED);
}

static void test_hostile_answers(void **state)
{
    apr_pool_t *p = *state;
    static const char *const bad_status[] = {
        "",                                       /* allowed missing */
        "\"allowed\":\"true\"",
        "\"allowed\":1",
        "\"allowed\":null",
        "\"allowed\":[true]",
        "\"allowed\":true,\"denied\":\"false\"",
        "\"allowed\":true,\"denied\":0",
        "\"allowed\":true,\"reason\":7",
        "\"allowed\":true,\"reason\":\"a\\nb\"",
        "\"allowed\":true,\"reason\":\"\\u001b[31m\"",
        "\"allowed\":true,\"evaluationError\":{}",
        "\"allowed\":true,\"reason\":\"\\u0000\"",
        "\"allowed\\u0000\":true,\"allowed\":false",
    };
    static const char *const bad_bodies[] = {
        "", "null", "[]", "true", "{}", "{\"kind\":\"SubjectAccessReview\"}",
        "{\"kind\":\"TokenReview\",\"status\":{\"allowed\":true}}",
        "{\"kind\":\"SubjectAccessReview\",\"status\":[]}",
        "{\"kind\":\"SubjectAccessReview\",\"status\":{\"allowed\":true}} x",
        "{\"kind\":\"SubjectAccessReview\",\"status\":{\"allowed\":true}",
        "{'kind':'SubjectAccessReview','status':{'allowed':true}}",
        "{\"kind\":\"SubjectAccessReview\",\"status\":{\"allowed\":true,}}",
        "{\"kind\":\"SubjectAccessReview\",\"status\":{\"allowed\":tru}}",
        "{\"kind\":\"Subject\xff\",\"status\":{\"allowed\":true}}",
    };
    size_t i;
    char *deep;

    for (i = 0; i < sizeof(bad_status) / sizeof(bad_status[0]); i++) {
        k8ssa_access_result r = parse(p, answer(p, bad_status[i]));
        if (r.outcome != K8SSA_ACCESS_UNPARSEABLE)
            print_error("status {%s}: outcome %d\n", bad_status[i], (int)r.outcome);
        assert_int_equal(r.outcome, K8SSA_ACCESS_UNPARSEABLE);
        assert_non_null(r.detail);
    }
    for (i = 0; i < sizeof(bad_bodies) / sizeof(bad_bodies[0]); i++) {
        k8ssa_access_result r = parse(p, bad_bodies[i]);
        if (r.outcome != K8SSA_ACCESS_UNPARSEABLE)
            print_error("body %s: outcome %d\n", bad_bodies[i], (int)r.outcome);
        assert_int_equal(r.outcome, K8SSA_ACCESS_UNPARSEABLE);
    }
    /* deeper than json.h allows, inside an otherwise good answer */
    deep = apr_pstrcat(p, "{\"kind\":\"SubjectAccessReview\",\"status\":{\"allowed\":true},"
                          "\"x\":", NULL);
    for (i = 0; i < 40; i++)
        deep = apr_pstrcat(p, deep, "[", NULL);
    for (i = 0; i < 40; i++)
        deep = apr_pstrcat(p, deep, "]", NULL);
    assert_int_equal(parse(p, apr_pstrcat(p, deep, "}", NULL)).outcome,
                     K8SSA_ACCESS_UNPARSEABLE);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, pool_setup, pool_teardown)
    const struct CMUnitTest tests[] = {
        T(test_request_resource),
        T(test_request_omits_empty_fields),
        T(test_request_non_resource),
        T(test_request_escaping),
        T(test_request_worst_case_size),
        T(test_answers),
        T(test_hostile_answers),
    };
#undef T
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
