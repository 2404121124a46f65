/*
 * test_canline.c - unit tests of src/lib/canline.c: every form of a
 * `Require k8s-can` line, and hostile words (they may come from the URL).
 */
#include "unit.h"

#include <string.h>

#include <apr_strings.h>

#include "canline.h"

static k8ssa_access_attributes ok(apr_pool_t *p, const char *const *w, size_t n)
{
    k8ssa_access_attributes a;
    const char *why = NULL;
    if (!k8ssa_can_attributes(p, w, n, &a, &why))
        print_error("refused (%s): %s %s\n", why, w[0], n > 1 ? w[1] : "");
    assert_true(k8ssa_can_attributes(p, w, n, &a, &why));
    return a;
}

static const char *refused(apr_pool_t *p, const char *const *w, size_t n)
{
    k8ssa_access_attributes a;
    const char *why = NULL;
    if (k8ssa_can_attributes(p, w, n, &a, &why))
        print_error("accepted: %s %s %s %s\n", w[0], n > 1 ? w[1] : "", n > 2 ? w[2] : "",
                    n > 3 ? w[3] : "");
    assert_false(k8ssa_can_attributes(p, w, n, &a, &why));
    assert_non_null(why);
    return why;
}

#define OK(p, ...) ok((p), (const char *const[]){ __VA_ARGS__ }, \
                      sizeof((const char *[]){ __VA_ARGS__ }) / sizeof(const char *))
#define REFUSED(p, ...) refused((p), (const char *const[]){ __VA_ARGS__ }, \
                                sizeof((const char *[]){ __VA_ARGS__ }) / sizeof(const char *))

static void test_forms(void **state)
{
    apr_pool_t *p = *state;
    k8ssa_access_attributes a;

    a = OK(p, "get", "pods");
    assert_string_equal(a.verb, "get");
    assert_string_equal(a.resource, "pods");
    assert_null(a.group);
    assert_null(a.subresource);
    assert_null(a.ns);
    assert_null(a.path);

    a = OK(p, "get", "services/proxy", "monitoring");
    assert_string_equal(a.resource, "services");
    assert_string_equal(a.subresource, "proxy");
    assert_string_equal(a.ns, "monitoring");

    /* RESOURCE.GROUP splits at the first dot */
    a = OK(p, "update", "deployments.apps/scale", "team-a", "web");
    assert_string_equal(a.resource, "deployments");
    assert_string_equal(a.group, "apps");
    assert_string_equal(a.subresource, "scale");
    assert_string_equal(a.name, "web");
    a = OK(p, "get", "certificates.cert-manager.io", "team-a");
    assert_string_equal(a.group, "cert-manager.io");

    a = OK(p, "*", "*.*/*", "team-a", "system:auth-delegator");
    assert_string_equal(a.verb, "*");
    assert_string_equal(a.resource, "*");
    assert_string_equal(a.group, "*");
    assert_string_equal(a.subresource, "*");
    assert_string_equal(a.name, "system:auth-delegator");

    a = OK(p, "get", "/metrics");
    assert_string_equal(a.path, "/metrics");
    assert_null(a.resource);
    a = OK(p, "get", "/healthz/*");
    assert_string_equal(a.path, "/healthz/*");
    a = OK(p, "impersonate", "serviceaccounts", "ns1");
    assert_string_equal(a.verb, "impersonate");
}

static void test_counts(void **state)
{
    apr_pool_t *p = *state;
    k8ssa_access_attributes a;
    const char *why = NULL;
    const char *w[] = { "get", "pods", "ns", "name", "extra" };

    assert_false(k8ssa_can_attributes(p, w, 0, &a, &why));
    assert_false(k8ssa_can_attributes(p, w, 1, &a, &why));
    assert_false(k8ssa_can_attributes(p, w, 5, &a, &why));
    assert_non_null(strstr(why, "at most"));
    REFUSED(p, "get", "/metrics", "ns");
}

/* What a URL or a header could put into a word. */
static void test_hostile_words(void **state)
{
    apr_pool_t *p = *state;

    /* verbs */
    REFUSED(p, "", "pods");
    REFUSED(p, "GET", "pods");
    REFUSED(p, "get pods", "pods");
    REFUSED(p, "g\xc3\xa9t", "pods");
    REFUSED(p, "**", "pods");
    /* resources, groups, subresources */
    REFUSED(p, "get", "");
    REFUSED(p, "get", "Pods");
    REFUSED(p, "get", ".apps");
    REFUSED(p, "get", "deployments.");
    REFUSED(p, "get", "deployments./scale");
    REFUSED(p, "get", "services/");
    REFUSED(p, "get", "services/proxy/extra");
    REFUSED(p, "get", "services/../secrets");
    REFUSED(p, "get", "pods\n");
    REFUSED(p, "get", "pods\"x");
    REFUSED(p, "get", "de_ployments");
    /* namespaces: never empty (that would be every namespace), never '*' */
    REFUSED(p, "get", "pods", "");
    REFUSED(p, "get", "pods", "*");
    REFUSED(p, "get", "pods", "Team-A");
    REFUSED(p, "get", "pods", "-team");
    REFUSED(p, "get", "pods", "team-");
    REFUSED(p, "get", "pods", "team.a");
    REFUSED(p, "get", "pods", "../kube-system");
    REFUSED(p, "get", "pods", "a%2Fb");
    REFUSED(p, "get", "pods", "1234567890123456789012345678901234567890123456789012345678901234");
    /* names */
    REFUSED(p, "get", "pods", "ns", "");
    REFUSED(p, "get", "pods", "ns", "a/b");
    REFUSED(p, "get", "pods", "ns", "..");
    REFUSED(p, "get", "pods", "ns", "a b");
    REFUSED(p, "get", "pods", "ns", "a\x01");
    /* paths */
    REFUSED(p, "get", "/a b");
    REFUSED(p, "get", "/a\r\nX-Injected: 1");
    assert_non_null(strstr(REFUSED(p, "get", "pods", ""), "namespace"));
}

static void test_limits(void **state)
{
    apr_pool_t *p = *state;
    char *label = apr_palloc(p, 65), *name = apr_palloc(p, 255);

    memset(label, 'a', 64);
    label[63] = '\0';
    OK(p, "get", "pods", label);
    label[63] = 'a';
    label[64] = '\0';
    REFUSED(p, "get", "pods", label);
    memset(name, 'n', 254);
    name[253] = '\0';
    OK(p, "get", "pods", "ns", name);
    name[253] = 'n';
    name[254] = '\0';
    REFUSED(p, "get", "pods", "ns", name);
}

static void test_namespace_and_serviceaccount_names(void **state)
{
    char long_ns[80], long_ref[300];
    (void)state;

    assert_true(k8ssa_is_namespace("team-a"));
    assert_true(k8ssa_is_namespace("a"));
    assert_true(k8ssa_is_namespace("0x"));
    assert_false(k8ssa_is_namespace(""));
    assert_false(k8ssa_is_namespace("*"));
    assert_false(k8ssa_is_namespace("Team-A"));
    assert_false(k8ssa_is_namespace("team_a"));
    assert_false(k8ssa_is_namespace("-a"));
    assert_false(k8ssa_is_namespace("a-"));
    assert_false(k8ssa_is_namespace("a.b"));
    assert_false(k8ssa_is_namespace("a b"));
    assert_false(k8ssa_is_namespace("a\r\nb"));
    memset(long_ns, 'a', 64);
    long_ns[64] = '\0';
    assert_false(k8ssa_is_namespace(long_ns));
    long_ns[63] = '\0';
    assert_true(k8ssa_is_namespace(long_ns));

    assert_true(k8ssa_is_serviceaccount_ref("team-a:runner"));
    assert_true(k8ssa_is_serviceaccount_ref("kube-system:a.b-c"));
    assert_false(k8ssa_is_serviceaccount_ref("team-a"));
    assert_false(k8ssa_is_serviceaccount_ref(":runner"));
    assert_false(k8ssa_is_serviceaccount_ref("team-a:"));
    assert_false(k8ssa_is_serviceaccount_ref("team-a:*"));
    assert_false(k8ssa_is_serviceaccount_ref("*:runner"));
    assert_false(k8ssa_is_serviceaccount_ref("Team-A:runner"));
    assert_false(k8ssa_is_serviceaccount_ref("team-a:Runner"));
    assert_false(k8ssa_is_serviceaccount_ref("team-a:run:ner"));
    assert_false(k8ssa_is_serviceaccount_ref("team-a:.runner"));
    assert_false(k8ssa_is_serviceaccount_ref("team-a:runner "));
    assert_false(k8ssa_is_serviceaccount_ref("team-a:a..b"));
    assert_false(k8ssa_is_serviceaccount_ref("team-a:a.-b"));
    assert_false(k8ssa_is_serviceaccount_ref("team-a:a-.b"));
    assert_false(k8ssa_is_serviceaccount_ref("team-a:a."));
    assert_false(k8ssa_is_serviceaccount_ref("team-a:-a"));
    assert_true(k8ssa_is_serviceaccount_ref("team-a:a.b.c"));
    assert_true(k8ssa_is_serviceaccount_ref("team-a:a-b.c-d"));
    memset(long_ref, 'a', 70);
    long_ref[70] = ':';
    long_ref[71] = 'b';
    long_ref[72] = '\0';
    assert_false(k8ssa_is_serviceaccount_ref(long_ref));     /* namespace over 63 */
    memset(long_ref, 'b', sizeof(long_ref));
    memcpy(long_ref, "ns:", 3);
    long_ref[3 + 254] = '\0';
    assert_false(k8ssa_is_serviceaccount_ref(long_ref));     /* name over 253 */
    long_ref[3 + 253] = '\0';
    assert_true(k8ssa_is_serviceaccount_ref(long_ref));
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, pool_setup, pool_teardown)
    const struct CMUnitTest tests[] = {
        T(test_forms),
        T(test_counts),
        T(test_hostile_words),
        T(test_limits),
        T(test_namespace_and_serviceaccount_names),
    };
#undef T
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
