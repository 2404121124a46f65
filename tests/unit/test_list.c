/*
 * test_list.c - unit tests of src/lib/list.c (comma-separated header lists) and
 * of the Connection clean-up built on it (src/lib/headers.c).
 */
#include "unit.h"

#include <stdlib.h>
#include <string.h>

#include "headers.h"
#include "list.h"

static int keep_all(void *ctx, const char *e, size_t n)
{
    (void)ctx;
    (void)e;
    (void)n;
    return 1;
}

/* Drops the elements equal to the C string ctx. */
static int drop_equal(void *ctx, const char *e, size_t n)
{
    return !(strlen(ctx) == n && memcmp(ctx, e, n) == 0);
}

static const char *filter(apr_pool_t *p, const char *v, k8ssa_list_keep_fn keep, void *ctx,
                          size_t *dropped)
{
    return k8ssa_list_filter(p, v, keep, ctx, dropped);
}

static void test_list_normalizes(void **state)
{
    apr_pool_t *p = *state;
    size_t dropped = 9;

    assert_string_equal(filter(p, "a", keep_all, NULL, &dropped), "a");
    assert_int_equal(dropped, 0);
    assert_string_equal(filter(p, " a ,\tb\t, c", keep_all, NULL, NULL), "a, b, c");
    assert_string_equal(filter(p, ",,a,,, ,b,", keep_all, NULL, NULL), "a, b");
    assert_string_equal(filter(p, "a b , c", keep_all, NULL, NULL), "a b, c");
    assert_null(filter(p, "", keep_all, NULL, NULL));
    assert_null(filter(p, " , ,\t,", keep_all, NULL, NULL));
}

static void test_list_drops(void **state)
{
    apr_pool_t *p = *state;
    size_t dropped = 0;

    assert_string_equal(filter(p, "x, y, x ,z", drop_equal, "x", &dropped), "y, z");
    assert_int_equal(dropped, 2);
    assert_null(filter(p, "x,x", drop_equal, "x", &dropped));
    assert_int_equal(dropped, 2);
    assert_string_equal(filter(p, "xx, x", drop_equal, "x", &dropped), "xx");
    assert_int_equal(dropped, 1);
}

/* The bug of d8c4963's k8ssa_ws_bearer: every bare comma grows by one byte
 * when joined with ", ". The worst cases must fit (ASan sees pool memory in
 * the sanitizer build) and the result must be exact. */
static void test_list_worst_case_growth(void **state)
{
    apr_pool_t *p = *state;
    size_t n = 8193;
    char *v, *want;
    const char *out;

    bare_comma_list(p, n, &v, &want);
    out = filter(p, v, keep_all, NULL, NULL);
    assert_string_equal(out, want);
    assert_int_equal(strlen(out), n + n / 2);
}

static const k8ssa_header_names defaults = { "X-Remote-User", "X-Remote-Group",
                                             "X-Remote-Extra-" };

static const char *connection(apr_pool_t *p, const char *v, const k8ssa_header_names *n,
                              size_t *removed)
{
    return k8ssa_connection_without_identity(p, v, n, removed);
}

static void test_connection_removes_identity_names(void **state)
{
    apr_pool_t *p = *state;
    size_t removed = 0;

    assert_string_equal(connection(p, "keep-alive, X-Remote-Group, X-Remote-Extra-scopes",
                                   &defaults, &removed), "keep-alive");
    assert_int_equal(removed, 2);
    assert_string_equal(connection(p, "x-remote-user,Upgrade,X_REMOTE_GROUP,x_remote_extra_a",
                                   &defaults, &removed), "Upgrade");
    assert_int_equal(removed, 3);
    assert_null(connection(p, "X-Remote-User", &defaults, &removed));
    assert_int_equal(removed, 1);
    /* near misses stay */
    assert_string_equal(connection(p, "X-Remote-Users, X-Remote-Grou, X-Remote-Extra",
                                   &defaults, &removed),
                        "X-Remote-Users, X-Remote-Grou, X-Remote-Extra");
    assert_int_equal(removed, 0);
    assert_string_equal(connection(p, "close", &defaults, &removed), "close");
}

/* mod_proxy reads "keep-alive X-Remote-User" as two options (ap_get_token
 * stops at white space and ';'): such an option names an identity header. */
static void test_connection_tokens_inside_an_option(void **state)
{
    apr_pool_t *p = *state;
    size_t removed = 0;

    assert_null(connection(p, "keep-alive X-Remote-User", &defaults, &removed));
    assert_int_equal(removed, 1);
    assert_string_equal(connection(p, "keep-alive;X-Remote-Group, Upgrade", &defaults,
                                   &removed), "Upgrade");
    assert_null(connection(p, "close\tX-Remote-Extra-Scopes", &defaults, &removed));
    assert_null(connection(p, "a\vx_remote_user", &defaults, &removed));
    assert_null(connection(p, "\"X-Remote-User\"", &defaults, &removed));
    assert_null(connection(p, "x;;  ;X-REMOTE-GROUP", &defaults, &removed));
    assert_string_equal(connection(p, "keep-alive Upgrade;close", &defaults, &removed),
                        "keep-alive Upgrade;close");
    assert_int_equal(removed, 0);
}

static void test_connection_other_names(void **state)
{
    apr_pool_t *p = *state;
    const k8ssa_header_names kubeflow = { "kubeflow-userid", "kubeflow-groups", "" };
    const k8ssa_header_names none = { "", "", "" };
    size_t removed = 0;

    assert_string_equal(connection(p, "Kubeflow-Userid, X-Remote-User, kubeflow_groups",
                                   &kubeflow, &removed), "X-Remote-User");
    assert_int_equal(removed, 2);
    /* an empty extra prefix is `none`, not a prefix of everything */
    assert_string_equal(connection(p, "a, b", &kubeflow, &removed), "a, b");
    assert_string_equal(connection(p, "X-Remote-User, a", &none, &removed),
                        "X-Remote-User, a");
    assert_int_equal(removed, 0);
}

static void test_is_identity_header(void **state)
{
    (void)state;
    assert_int_equal(k8ssa_is_identity_header(&defaults, "x_remote_user", 13), 1);
    /* the length bounds the name: "X-Remote-Userx" cut to 13 bytes matches */
    assert_int_equal(k8ssa_is_identity_header(&defaults, "X-Remote-Userx", 13), 1);
    assert_int_equal(k8ssa_is_identity_header(&defaults, "X-Remote-Userx", 14), 0);
    assert_int_equal(k8ssa_is_identity_header(&defaults, "X-Remote-Use", 12), 0);
    assert_int_equal(k8ssa_is_identity_header(&defaults, "X-REMOTE-EXTRA-", 15), 1);
    assert_int_equal(k8ssa_is_identity_header(&defaults, "X-REMOTE-EXTRA", 14), 0);
    assert_int_equal(k8ssa_is_identity_header(&defaults, "", 0), 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, pool_setup, pool_teardown)
    const struct CMUnitTest tests[] = {
        T(test_list_normalizes),
        T(test_list_drops),
        T(test_list_worst_case_growth),
        T(test_connection_removes_identity_names),
        T(test_connection_tokens_inside_an_option),
        T(test_connection_other_names),
        T(test_is_identity_header),
    };
#undef T
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
