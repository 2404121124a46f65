/*
 * test_headers.c - unit tests of src/lib/headers.c against src/lib/headers.h.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "unit.h"

#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>

#include "headers.h"

/* --------------------------------------------------------- name_equals */

static void test_equals_same(void **state)
{
    (void)state;
    assert_int_equal(k8ssa_header_name_equals("X-Remote-User", "X-Remote-User"), 1);
    assert_int_equal(k8ssa_header_name_equals("a", "a"), 1);
}

static void test_equals_case(void **state)
{
    (void)state;
    assert_int_equal(k8ssa_header_name_equals("x-remote-user", "X-Remote-User"), 1);
    assert_int_equal(k8ssa_header_name_equals("X-REMOTE-USER", "X-Remote-User"), 1);
    assert_int_equal(k8ssa_header_name_equals("kubeflow-userid", "KubeFlow-UserID"), 1);
}

static void test_equals_dash_underscore(void **state)
{
    (void)state;
    assert_int_equal(k8ssa_header_name_equals("X_Remote_User", "X-Remote-User"), 1);
    assert_int_equal(k8ssa_header_name_equals("x_remote-USER", "X-Remote_User"), 1);
    assert_int_equal(k8ssa_header_name_equals("X-Remote-User", "X_REMOTE_USER"), 1);
}

static void test_equals_different(void **state)
{
    (void)state;
    assert_int_equal(k8ssa_header_name_equals("X-Remote-User", "X-Remote-Users"), 0);
    assert_int_equal(k8ssa_header_name_equals("X-Remote-Users", "X-Remote-User"), 0);
    assert_int_equal(k8ssa_header_name_equals("X-Remote-Use", "X-Remote-User"), 0);
    assert_int_equal(k8ssa_header_name_equals("X-Remote.User", "X-Remote-User"), 0);
    assert_int_equal(k8ssa_header_name_equals("X Remote User", "X-Remote-User"), 0);
    assert_int_equal(k8ssa_header_name_equals("XRemoteUser", "X-Remote-User"), 0);
    assert_int_equal(k8ssa_header_name_equals("X-Remote-Group", "X-Remote-User"), 0);
    /* no locale folding of non-ASCII bytes */
    assert_int_equal(k8ssa_header_name_equals("\xc3\x89", "\xc3\xa9"), 0);
    /* '@' (0x40) vs '`' (0x60): differ by 0x20 but are not letters */
    assert_int_equal(k8ssa_header_name_equals("@", "`"), 0);
    assert_int_equal(k8ssa_header_name_equals("[", "{"), 0);
}

static void test_equals_empty(void **state)
{
    (void)state;
    assert_int_equal(k8ssa_header_name_equals("", ""), 1);
    assert_int_equal(k8ssa_header_name_equals("", "X"), 0);
    assert_int_equal(k8ssa_header_name_equals("X", ""), 0);
}

/* ---------------------------------------------------------- has_prefix */

static void test_prefix(void **state)
{
    (void)state;
    assert_int_equal(k8ssa_header_name_has_prefix("X-Remote-Extra-Foo", "X-Remote-Extra-"), 1);
    assert_int_equal(k8ssa_header_name_has_prefix("x-remote-extra-foo", "X-Remote-Extra-"), 1);
    assert_int_equal(k8ssa_header_name_has_prefix("X_REMOTE_EXTRA_foo", "X-Remote-Extra-"), 1);
    assert_int_equal(k8ssa_header_name_has_prefix("X-Remote-Extra-", "X-Remote-Extra-"), 1);
    assert_int_equal(k8ssa_header_name_has_prefix("X-Remote-Extra_", "x_remote_extra-"), 1);
}

static void test_prefix_no(void **state)
{
    (void)state;
    assert_int_equal(k8ssa_header_name_has_prefix("X-Remote-Extra", "X-Remote-Extra-"), 0);
    assert_int_equal(k8ssa_header_name_has_prefix("X-Remote", "X-Remote-Extra-"), 0);
    assert_int_equal(k8ssa_header_name_has_prefix("Y-Remote-Extra-Foo", "X-Remote-Extra-"), 0);
    assert_int_equal(k8ssa_header_name_has_prefix("X-Remote-ExtraFoo", "X-Remote-Extra-"), 0);
    assert_int_equal(k8ssa_header_name_has_prefix("", "X-Remote-Extra-"), 0);
}

static void test_prefix_empty(void **state)
{
    (void)state;
    /* every name starts with the empty prefix */
    assert_int_equal(k8ssa_header_name_has_prefix("X-Anything", ""), 1);
    assert_int_equal(k8ssa_header_name_has_prefix("", ""), 1);
}

/* ------------------------------------------------------ is_header_name */

static void test_is_header_name_valid(void **state)
{
    (void)state;
    assert_int_equal(k8ssa_is_header_name("X-Remote-User"), 1);
    assert_int_equal(k8ssa_is_header_name("a"), 1);
    assert_int_equal(k8ssa_is_header_name("kubeflow-userid"), 1);
    assert_int_equal(k8ssa_is_header_name("!#$%&'*+-.^_`|~09azAZ"), 1);
    assert_int_equal(k8ssa_is_header_name("X-Remote-Extra-authentication.kubernetes.io%2Fpod-name"), 1);
}

static void test_is_header_name_invalid(void **state)
{
    (void)state;
    assert_int_equal(k8ssa_is_header_name(""), 0);
    assert_int_equal(k8ssa_is_header_name("X Remote"), 0);
    assert_int_equal(k8ssa_is_header_name(" X"), 0);
    assert_int_equal(k8ssa_is_header_name("X "), 0);
    assert_int_equal(k8ssa_is_header_name("X:Remote"), 0);
    assert_int_equal(k8ssa_is_header_name("X-Remote:"), 0);
    assert_int_equal(k8ssa_is_header_name("X\tY"), 0);
    assert_int_equal(k8ssa_is_header_name("X\r\nY"), 0);
    assert_int_equal(k8ssa_is_header_name("X\x7f"), 0);
    assert_int_equal(k8ssa_is_header_name("caf\xc3\xa9"), 0);
    assert_int_equal(k8ssa_is_header_name("\xff"), 0);
    const char *seps = "\"(),/:;<=>?@[\\]{}";
    for (const char *s = seps; *s; s++) {
        char n[4] = { 'X', *s, 'Y', '\0' };
        if (k8ssa_is_header_name(n) != 0)
            print_error("separator '%c' accepted\n", *s);
        assert_int_equal(k8ssa_is_header_name(n), 0);
    }
}

/* ------------------------------------------------------ extra_key_encode */

static int is_tchar(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static void test_encode_k8s_keys(void **state)
{
    apr_pool_t *p = *state;
    assert_string_equal(k8ssa_extra_key_encode(p, "authentication.kubernetes.io/pod-name"),
                        "authentication.kubernetes.io%2Fpod-name");
    assert_string_equal(k8ssa_extra_key_encode(p, "authentication.kubernetes.io/credential-id"),
                        "authentication.kubernetes.io%2Fcredential-id");
    assert_string_equal(k8ssa_extra_key_encode(p, "scopes"), "scopes");
}

static void test_encode_percent_space(void **state)
{
    apr_pool_t *p = *state;
    assert_string_equal(k8ssa_extra_key_encode(p, "%"), "%25");
    assert_string_equal(k8ssa_extra_key_encode(p, "a%2Fb"), "a%252Fb");
    assert_string_equal(k8ssa_extra_key_encode(p, " "), "%20");
    assert_string_equal(k8ssa_extra_key_encode(p, "a b"), "a%20b");
}

static void test_encode_non_ascii(void **state)
{
    apr_pool_t *p = *state;
    assert_string_equal(k8ssa_extra_key_encode(p, "caf\xc3\xa9"), "caf%C3%A9");
    assert_string_equal(k8ssa_extra_key_encode(p, "\xff\x80"), "%FF%80");
    assert_string_equal(k8ssa_extra_key_encode(p, "\x01\x7f"), "%01%7F");
    assert_string_equal(k8ssa_extra_key_encode(p, "\r\n"), "%0D%0A");
}

static void test_encode_tchars_unchanged(void **state)
{
    apr_pool_t *p = *state;
    const char *keep = "!#$&'*+-.^_`|~"
                       "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    assert_string_equal(k8ssa_extra_key_encode(p, keep), keep);
}

static void test_encode_separators(void **state)
{
    apr_pool_t *p = *state;
    assert_string_equal(k8ssa_extra_key_encode(p, "\""), "%22");
    assert_string_equal(k8ssa_extra_key_encode(p, "("), "%28");
    assert_string_equal(k8ssa_extra_key_encode(p, ")"), "%29");
    assert_string_equal(k8ssa_extra_key_encode(p, ","), "%2C");
    assert_string_equal(k8ssa_extra_key_encode(p, "/"), "%2F");
    assert_string_equal(k8ssa_extra_key_encode(p, ":"), "%3A");
    assert_string_equal(k8ssa_extra_key_encode(p, ";"), "%3B");
    assert_string_equal(k8ssa_extra_key_encode(p, "<=>?@"), "%3C%3D%3E%3F%40");
    assert_string_equal(k8ssa_extra_key_encode(p, "[\\]{}"), "%5B%5C%5D%7B%7D");
}

/* Every byte: tchars other than '%' unchanged, everything else %XX. */
static void test_encode_every_byte(void **state)
{
    apr_pool_t *p = *state;
    for (int c = 1; c < 256; c++) {
        char in[2] = { (char)c, '\0' };
        char want[4];
        const char *got = k8ssa_extra_key_encode(p, in);
        assert_non_null(got);
        if (c != '%' && is_tchar(c)) {
            want[0] = (char)c;
            want[1] = '\0';
        } else {
            static const char hex[] = "0123456789ABCDEF";
            want[0] = '%';
            want[1] = hex[c >> 4];
            want[2] = hex[c & 15];
            want[3] = '\0';
        }
        if (strcmp(got, want) != 0)
            print_error("byte 0x%02x: got \"%s\", want \"%s\"\n", c, got, want);
        assert_string_equal(got, want);
        assert_int_equal(k8ssa_is_header_name(got), 1);
    }
}

static void test_encode_empty(void **state)
{
    apr_pool_t *p = *state;
    const char *e = k8ssa_extra_key_encode(p, "");
    assert_non_null(e);
    assert_string_equal(e, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_equals_same, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_equals_case, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_equals_dash_underscore, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_equals_different, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_equals_empty, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_prefix, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_prefix_no, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_prefix_empty, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_is_header_name_valid, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_is_header_name_invalid, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_encode_k8s_keys, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_encode_percent_space, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_encode_non_ascii, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_encode_tchars_unchanged, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_encode_separators, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_encode_every_byte, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_encode_empty, pool_setup, pool_teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
