/*
 * test_identity.c - unit tests of src/lib/identity.c against src/lib/identity.h.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "unit.h"

#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>

#include "identity.h"

/* ------------------------------------------------------ serviceaccount */

static void test_sa_valid(void **state)
{
    apr_pool_t *p = *state;
    const char *ns = NULL, *name = NULL;
    const char *u = "system:serviceaccount:kubeflow:pipeline-runner";
    assert_int_equal(k8ssa_identity_serviceaccount(p, u, &ns, &name), 1);
    assert_string_equal(ns, "kubeflow");
    assert_string_equal(name, "pipeline-runner");

    assert_int_equal(k8ssa_identity_serviceaccount(p, "system:serviceaccount:a:b", &ns, &name), 1);
    assert_string_equal(ns, "a");
    assert_string_equal(name, "b");
}

static void test_sa_wrong_prefix(void **state)
{
    apr_pool_t *p = *state;
    const char *ns = NULL, *name = NULL;
    const char *bad[] = {
        "system:serviceaccounts:kubeflow:runner",
        "system:serviceaccount",
        "system:serviceaccount:",
        "system:serviceaccount:kubeflow",
        "System:ServiceAccount:kubeflow:runner",
        "SYSTEM:SERVICEACCOUNT:kubeflow:runner",
        "xsystem:serviceaccount:kubeflow:runner",
        " system:serviceaccount:kubeflow:runner",
        "system:serviceaccountx:kubeflow:runner",
        "serviceaccount:kubeflow:runner",
        "",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (k8ssa_identity_serviceaccount(p, bad[i], &ns, &name) != 0)
            print_error("accepted \"%s\"\n", bad[i]);
        assert_int_equal(k8ssa_identity_serviceaccount(p, bad[i], &ns, &name), 0);
    }
}

static void test_sa_empty_parts(void **state)
{
    apr_pool_t *p = *state;
    const char *ns = NULL, *name = NULL;
    assert_int_equal(k8ssa_identity_serviceaccount(p, "system:serviceaccount::runner", &ns, &name), 0);
    assert_int_equal(k8ssa_identity_serviceaccount(p, "system:serviceaccount:kubeflow:", &ns, &name), 0);
    assert_int_equal(k8ssa_identity_serviceaccount(p, "system:serviceaccount::", &ns, &name), 0);
}

static void test_sa_name_colon(void **state)
{
    apr_pool_t *p = *state;
    const char *ns = NULL, *name = NULL;
    assert_int_equal(k8ssa_identity_serviceaccount(p, "system:serviceaccount:ns:a:b", &ns, &name), 0);
    assert_int_equal(k8ssa_identity_serviceaccount(p, "system:serviceaccount:ns:runner:", &ns, &name), 0);
    assert_int_equal(k8ssa_identity_serviceaccount(p, "system:serviceaccount:ns::", &ns, &name), 0);
}

static void test_sa_non_sa_users(void **state)
{
    apr_pool_t *p = *state;
    const char *ns = NULL, *name = NULL;
    assert_int_equal(k8ssa_identity_serviceaccount(p, "alice", &ns, &name), 0);
    assert_int_equal(k8ssa_identity_serviceaccount(p, "alice@example.com", &ns, &name), 0);
    assert_int_equal(k8ssa_identity_serviceaccount(p, "system:admin", &ns, &name), 0);
    assert_int_equal(k8ssa_identity_serviceaccount(p, "system:node:kind-control-plane", &ns, &name), 0);
    assert_int_equal(k8ssa_identity_serviceaccount(p, "system:anonymous", &ns, &name), 0);
}

/* --------------------------------------------------------- join_groups */

static void test_join_groups(void **state)
{
    apr_pool_t *p = *state;
    k8ssa_identity id;
    const char *g3[] = { "system:serviceaccounts", "system:serviceaccounts:kubeflow",
                         "system:authenticated" };
    memset(&id, 0, sizeof(id));
    id.username = "u";
    id.uid = "";

    id.groups = NULL;
    id.ngroups = 0;
    assert_string_equal(k8ssa_identity_join_groups(p, &id, ","), "");

    id.groups = g3;
    id.ngroups = 1;
    assert_string_equal(k8ssa_identity_join_groups(p, &id, ","), "system:serviceaccounts");

    id.ngroups = 3;
    assert_string_equal(k8ssa_identity_join_groups(p, &id, ","),
                        "system:serviceaccounts,system:serviceaccounts:kubeflow,system:authenticated");
    assert_string_equal(k8ssa_identity_join_groups(p, &id, ", "),
                        "system:serviceaccounts, system:serviceaccounts:kubeflow, system:authenticated");
    assert_string_equal(k8ssa_identity_join_groups(p, &id, ""),
                        "system:serviceaccountssystem:serviceaccounts:kubeflowsystem:authenticated");
}

static void test_join_groups_empty_members(void **state)
{
    apr_pool_t *p = *state;
    k8ssa_identity id;
    const char *g[] = { "a", "", "b" };
    memset(&id, 0, sizeof(id));
    id.groups = g;
    id.ngroups = 3;
    assert_string_equal(k8ssa_identity_join_groups(p, &id, ","), "a,,b");
}

/* An LDAP DN holds the separator: joined, it would read as two groups. */
static void test_join_groups_separator_inside(void **state)
{
    apr_pool_t *p = *state;
    k8ssa_identity id;
    const char *dn[] = { "devs", "cn=admins,ou=groups" };
    const char *semi[] = { "a; b", "c" };
    memset(&id, 0, sizeof(id));
    id.groups = dn;
    id.ngroups = 2;
    assert_null(k8ssa_identity_join_groups(p, &id, ","));
    assert_string_equal(k8ssa_identity_join_groups(p, &id, ";"), "devs;cn=admins,ou=groups");
    id.groups = semi;
    assert_null(k8ssa_identity_join_groups(p, &id, "; "));
    assert_string_equal(k8ssa_identity_join_groups(p, &id, ","), "a; b,c");
    /* "a;" + " b": the separator across two groups is no ambiguity of one */
    assert_string_equal(k8ssa_identity_join_groups(p, &id, "|"), "a; b|c");
}

/* K8S_GROUPS: split at ',' and percent-decode gives the groups back. */
static void test_groups_env(void **state)
{
    apr_pool_t *p = *state;
    k8ssa_identity id;
    const char *g[] = { "cn=admins,ou=groups", "100%", "plain", "%2C" };
    memset(&id, 0, sizeof(id));
    id.groups = g;
    assert_string_equal(k8ssa_identity_groups_env(p, &id), "");
    id.ngroups = 4;
    assert_string_equal(k8ssa_identity_groups_env(p, &id),
                        "cn=admins%2Cou=groups,100%25,plain,%252C");
    id.ngroups = 1;
    assert_string_equal(k8ssa_identity_groups_env(p, &id), "cn=admins%2Cou=groups");
}

static void test_identity_value_ok(void **state)
{
    static const char *const good[] = {
        "system:masters", "a b", "a\xc2\xa0" "b", "\xe2\x80\x8bx", "x\xef\xbb\xbf", "\xc3\xa9",
    };
    static const char *const bad[] = {
        " a", "a ", " ", "\xc2\xa0" "a", "a\xc2\xa0", "\xe1\x9a\x80" "a", "\xe2\x80\x80" "a",
        "a\xe2\x80\x8a", "\xe2\x80\xa8" "a", "a\xe2\x80\xa9", "\xe2\x80\xaf" "a", "a\xe2\x81\x9f",
        "\xe3\x80\x80" "a", "a\tb", "a\nb", "\xc2\x85" "a", "\xff",
    };
    char *big = malloc(K8SSA_MAX_STRING + 1);
    size_t i;
    (void)state;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_int_equal(k8ssa_identity_value_ok(good[i], strlen(good[i]), 0), 1);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (k8ssa_identity_value_ok(bad[i], strlen(bad[i]), 1))
            print_error("accepted bad value #%zu\n", i);
        assert_int_equal(k8ssa_identity_value_ok(bad[i], strlen(bad[i]), 1), 0);
    }
    assert_int_equal(k8ssa_identity_value_ok("", 0, 0), 0);
    assert_int_equal(k8ssa_identity_value_ok("", 0, 1), 1);
    /* only a whole character at an end counts: "a\xe2\x80" is not UTF-8 */
    assert_int_equal(k8ssa_identity_value_ok("a\xe2\x80", 3, 0), 0);
    assert_non_null(big);
    memset(big, 'x', K8SSA_MAX_STRING + 1);
    assert_int_equal(k8ssa_identity_value_ok(big, K8SSA_MAX_STRING, 0), 1);
    assert_int_equal(k8ssa_identity_value_ok(big, K8SSA_MAX_STRING + 1, 0), 0);
    free(big);
}

/* -------------------------------------------------------- is_printable */

static void test_printable(void **state)
{
    (void)state;
    assert_int_equal(k8ssa_is_printable("abc", 3), 1);
    assert_int_equal(k8ssa_is_printable("system:serviceaccount:ns:name", 29), 1);
    assert_int_equal(k8ssa_is_printable("with space", 10), 1);
    assert_int_equal(k8ssa_is_printable("caf\xc3\xa9", 5), 1);
    assert_int_equal(k8ssa_is_printable("~!@#$%^&*()", 11), 1);
    assert_int_equal(k8ssa_is_printable("", 0), 1);
    /* only s[0..len) is looked at */
    assert_int_equal(k8ssa_is_printable("ab\n", 2), 1);
}

static void test_not_printable(void **state)
{
    (void)state;
    assert_int_equal(k8ssa_is_printable("a\rb", 3), 0);
    assert_int_equal(k8ssa_is_printable("a\nb", 3), 0);
    assert_int_equal(k8ssa_is_printable("a\0b", 3), 0);
    assert_int_equal(k8ssa_is_printable("ab\0", 3), 0);
    assert_int_equal(k8ssa_is_printable("\x1f", 1), 0);
    assert_int_equal(k8ssa_is_printable("\x7f", 1), 0);
    assert_int_equal(k8ssa_is_printable("a\tb", 3), 0);
    assert_int_equal(k8ssa_is_printable("\x1b[31m", 5), 0);
}

static void test_printable_strict_utf8(void **state)
{
    (void)state;
    assert_int_equal(k8ssa_is_printable("\xc3\xa9", 2), 1);          /* U+00E9 */
    assert_int_equal(k8ssa_is_printable("\xe2\x82\xac", 3), 1);      /* U+20AC */
    assert_int_equal(k8ssa_is_printable("\xf0\x9f\x98\x80", 4), 1);  /* U+1F600 */
    assert_int_equal(k8ssa_is_printable("\xf4\x8f\xbf\xbf", 4), 1);  /* U+10FFFF */
    assert_int_equal(k8ssa_is_printable("\xc0\xaf", 2), 0);          /* overlong '/' */
    assert_int_equal(k8ssa_is_printable("\xc1\xbf", 2), 0);
    assert_int_equal(k8ssa_is_printable("\xe0\x80\xaf", 3), 0);      /* overlong */
    assert_int_equal(k8ssa_is_printable("\xf0\x80\x80\xaf", 4), 0);  /* overlong */
    assert_int_equal(k8ssa_is_printable("\xed\xa0\x80", 3), 0);      /* surrogate */
    assert_int_equal(k8ssa_is_printable("\xf4\x90\x80\x80", 4), 0);  /* > U+10FFFF */
    assert_int_equal(k8ssa_is_printable("\xc3", 1), 0);              /* cut short */
    assert_int_equal(k8ssa_is_printable("\xe2\x82", 2), 0);
    assert_int_equal(k8ssa_is_printable("\xe2\x82x", 3), 0);         /* bad continuation */
    assert_int_equal(k8ssa_is_printable("\x80", 1), 0);
    assert_int_equal(k8ssa_is_printable("\xff", 1), 0);
    assert_int_equal(k8ssa_is_printable("\xc2\x85", 2), 0);          /* C1 NEL */
    assert_int_equal(k8ssa_is_printable("\xc2\x80", 2), 0);
    assert_int_equal(k8ssa_is_printable("\xc2\x9f", 2), 0);
    assert_int_equal(k8ssa_is_printable("\xc2\xa0", 2), 1);          /* NBSP */
}

static void test_printable_every_byte(void **state)
{
    (void)state;
    for (int c = 0; c < 256; c++) {
        char s[3] = { 'x', (char)c, 'y' };
        /* a lone byte >= 0x80 is not UTF-8 */
        int expect = !(c < 0x20 || c == 0x7f || c >= 0x80);
        if (k8ssa_is_printable(s, 3) != expect)
            print_error("byte 0x%02x\n", c);
        assert_int_equal(k8ssa_is_printable(s, 3), expect);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sa_valid, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_sa_wrong_prefix, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_sa_empty_parts, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_sa_name_colon, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_sa_non_sa_users, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_join_groups, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_join_groups_empty_members, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_join_groups_separator_inside, pool_setup,
                                        pool_teardown),
        cmocka_unit_test_setup_teardown(test_groups_env, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_identity_value_ok, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_printable, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_not_printable, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_printable_every_byte, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_printable_strict_utf8, pool_setup, pool_teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
