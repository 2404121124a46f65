/*
 * test_credential.c - unit tests of src/lib/credential.c against
 * src/lib/credential.h: reading, validating and reloading the token file.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>
#include <sys/stat.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_time.h>
#include <apr_errno.h>

#include "credential.h"

typedef struct {
    apr_pool_t *p;
    char dir[64];
    char *path;
} fixture;

/* A fresh pool and temporary directory per test. */
static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    if (!f || apr_pool_create(&f->p, NULL) != APR_SUCCESS)
        return -1;
    strcpy(f->dir, "/tmp/k8ssa-cred-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    f->path = apr_pstrcat(f->p, f->dir, "/token", NULL);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", f->dir);
    apr_pool_destroy(f->p);
    free(f);
    return 0;
}

/* Writes data[0..len) to path and, when mtime is not 0, sets its times. */
static void write_file(const char *path, const char *data, size_t len, time_t mtime)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    if (len)
        assert_int_equal(fwrite(data, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
    if (mtime) {
        struct utimbuf ut = { mtime, mtime };
        assert_int_equal(utime(path, &ut), 0);
    }
}

static void write_str(const char *path, const char *s, time_t mtime)
{
    write_file(path, s, strlen(s), mtime);
}

/* ------------------------------------------------------------ read_file */

static void expect_token(fixture *f, const char *content, size_t len, const char *want)
{
    const char *tok = NULL, *why = NULL;
    write_file(f->path, content, len, 0);
    apr_status_t rv = k8ssa_credential_read_file(f->p, f->path, &tok, &why);
    if (rv != APR_SUCCESS)
        print_error("read_file failed: %s\n", why ? why : "(no reason)");
    assert_int_equal(rv, APR_SUCCESS);
    assert_non_null(tok);
    assert_string_equal(tok, want);
}

static void expect_invalid(fixture *f, const char *content, size_t len)
{
    const char *tok = NULL, *why = NULL;
    write_file(f->path, content, len, 0);
    apr_status_t rv = k8ssa_credential_read_file(f->p, f->path, &tok, &why);
    if (rv != APR_EINVAL)
        print_error("content \"%.*s\": status %d, expected APR_EINVAL\n",
                    (int)(len > 60 ? 60 : len), content, (int)rv);
    assert_int_equal(rv, APR_EINVAL);
    assert_non_null(why);
    assert_true(why[0] != '\0');
}

static void test_read_plain(void **state)
{
    fixture *f = *state;
    expect_token(f, "abc.def-ghi_jkl", 15, "abc.def-ghi_jkl");
}

static void test_read_trims(void **state)
{
    fixture *f = *state;
    expect_token(f, "tok\n", 4, "tok");
    expect_token(f, "tok\r\n", 5, "tok");
    expect_token(f, "  \t tok \t\n\n", 11, "tok");
    expect_token(f, "\n\ntok", 5, "tok");
}

static void test_read_empty(void **state)
{
    fixture *f = *state;
    expect_invalid(f, "", 0);
    expect_invalid(f, "\n", 1);
    expect_invalid(f, "   \t\r\n  ", 8);
}

static void test_read_inner_whitespace(void **state)
{
    fixture *f = *state;
    expect_invalid(f, "ab cd", 5);
    expect_invalid(f, "ab\tcd\n", 6);
    expect_invalid(f, "ab\ncd\n", 6);
    expect_invalid(f, "ab\r\ncd", 6);
}

static void test_read_control_chars(void **state)
{
    fixture *f = *state;
    expect_invalid(f, "ab\x01" "cd", 5);
    expect_invalid(f, "abcd\x7f", 5);
    expect_invalid(f, "ab\0cd", 5);
    expect_invalid(f, "abcd\0", 5);
    expect_invalid(f, "\x1b[31m", 5);
}

static void test_read_missing(void **state)
{
    fixture *f = *state;
    const char *tok = NULL, *why = NULL;
    apr_status_t rv = k8ssa_credential_read_file(f->p,
        apr_pstrcat(f->p, f->dir, "/does-not-exist", NULL), &tok, &why);
    assert_int_not_equal(rv, APR_SUCCESS);
    assert_non_null(why);
    /* a directory is no token file either */
    rv = k8ssa_credential_read_file(f->p, f->dir, &tok, &why);
    assert_int_not_equal(rv, APR_SUCCESS);
    assert_non_null(why);
}

static void test_read_size_limit(void **state)
{
    fixture *f = *state;
    size_t n = K8SSA_CREDENTIAL_MAX_BYTES;
    char *big = apr_palloc(f->p, n + 2);
    memset(big, 'a', n + 1);
    big[n + 1] = '\0';

    const char *tok = NULL, *why = NULL;
    /* exactly the limit: accepted */
    write_file(f->path, big, n, 0);
    apr_status_t rv = k8ssa_credential_read_file(f->p, f->path, &tok, &why);
    if (rv != APR_SUCCESS)
        print_error("%zu bytes refused: %s\n", n, why ? why : "(no reason)");
    assert_int_equal(rv, APR_SUCCESS);
    assert_int_equal(strlen(tok), n);

    /* one byte more: refused */
    write_file(f->path, big, n + 1, 0);
    tok = NULL;
    why = NULL;
    rv = k8ssa_credential_read_file(f->p, f->path, &tok, &why);
    assert_int_not_equal(rv, APR_SUCCESS);
    assert_non_null(why);

    /* much more */
    char *huge = apr_palloc(f->p, 4 * n);
    memset(huge, 'a', 4 * n);
    write_file(f->path, huge, 4 * n, 0);
    rv = k8ssa_credential_read_file(f->p, f->path, &tok, &why);
    assert_int_not_equal(rv, APR_SUCCESS);
}

/* ------------------------------------------------------ open and token */

static void test_open_bad_file(void **state)
{
    fixture *f = *state;
    k8ssa_credential *c = NULL;
    const char *why = NULL;
    apr_status_t rv = k8ssa_credential_open(f->p, f->path, 0, &c, &why);
    assert_int_not_equal(rv, APR_SUCCESS);     /* missing */
    assert_non_null(why);

    write_str(f->path, "a b\n", 0);
    why = NULL;
    rv = k8ssa_credential_open(f->p, f->path, 0, &c, &why);
    assert_int_equal(rv, APR_EINVAL);
    assert_non_null(why);
}

static void test_open_and_token(void **state)
{
    fixture *f = *state;
    k8ssa_credential *c = NULL;
    const char *why = NULL;
    write_str(f->path, "first-token\n", 0);
    assert_int_equal(k8ssa_credential_open(f->p, f->path, apr_time_from_sec(60), &c, &why),
                     APR_SUCCESS);
    assert_non_null(c);
    assert_string_equal(k8ssa_credential_token(c, f->p), "first-token");
    assert_string_equal(k8ssa_credential_token(c, f->p), "first-token");
    assert_int_equal(k8ssa_credential_reloads(c), 0);
}

/* The returned token is a copy in the caller's pool. */
static void test_token_pool_copy(void **state)
{
    fixture *f = *state;
    k8ssa_credential *c = NULL;
    const char *why = NULL;
    write_str(f->path, "tok-1", 0);
    assert_int_equal(k8ssa_credential_open(f->p, f->path, 0, &c, &why), APR_SUCCESS);
    apr_pool_t *sub;
    assert_int_equal(apr_pool_create(&sub, f->p), APR_SUCCESS);
    const char *t = k8ssa_credential_token(c, sub);
    assert_string_equal(t, "tok-1");
    apr_pool_destroy(sub);
    assert_string_equal(k8ssa_credential_token(c, f->p), "tok-1");
}

static void test_token_rotates_interval_zero(void **state)
{
    fixture *f = *state;
    k8ssa_credential *c = NULL;
    const char *why = NULL;
    time_t t0 = time(NULL) - 1000;
    write_str(f->path, "token-one\n", t0);
    assert_int_equal(k8ssa_credential_open(f->p, f->path, 0, &c, &why), APR_SUCCESS);
    assert_string_equal(k8ssa_credential_token(c, f->p), "token-one");

    /* new content, new size and mtime */
    write_str(f->path, "token-two-longer\n", t0 + 10);
    assert_string_equal(k8ssa_credential_token(c, f->p), "token-two-longer");
    assert_int_equal(k8ssa_credential_reloads(c), 1);

    /* same size, only the mtime changed */
    write_str(f->path, "token-three-long\n", t0 + 20);
    assert_string_equal(k8ssa_credential_token(c, f->p), "token-three-long");
    assert_int_equal(k8ssa_credential_reloads(c), 2);

    /* same mtime, only the size changed */
    write_str(f->path, "token-4\n", t0 + 20);
    assert_string_equal(k8ssa_credential_token(c, f->p), "token-4");
    assert_int_equal(k8ssa_credential_reloads(c), 3);

    /* unchanged: no reload */
    assert_string_equal(k8ssa_credential_token(c, f->p), "token-4");
    assert_int_equal(k8ssa_credential_reloads(c), 3);
}

/* Within the check interval the file is not looked at. */
static void test_token_interval_respected(void **state)
{
    fixture *f = *state;
    k8ssa_credential *c = NULL;
    const char *why = NULL;
    time_t t0 = time(NULL) - 1000;
    write_str(f->path, "token-one", t0);
    assert_int_equal(k8ssa_credential_open(f->p, f->path, apr_time_from_sec(3600), &c, &why),
                     APR_SUCCESS);
    assert_string_equal(k8ssa_credential_token(c, f->p), "token-one");
    write_str(f->path, "token-two-longer", t0 + 10);
    assert_string_equal(k8ssa_credential_token(c, f->p), "token-one");
    assert_int_equal(k8ssa_credential_reloads(c), 0);

    /* but reload() re-reads at once */
    assert_int_equal(k8ssa_credential_reload(c, "token-one"), 1);
    assert_string_equal(k8ssa_credential_token(c, f->p), "token-two-longer");
    assert_int_equal(k8ssa_credential_reloads(c), 1);
}

static void test_reload(void **state)
{
    fixture *f = *state;
    k8ssa_credential *c = NULL;
    const char *why = NULL;
    time_t t0 = time(NULL) - 1000;
    write_str(f->path, "token-one", t0);
    assert_int_equal(k8ssa_credential_open(f->p, f->path, apr_time_from_sec(3600), &c, &why),
                     APR_SUCCESS);

    /* unchanged */
    assert_int_equal(k8ssa_credential_reload(c, "token-one"), 0);
    assert_int_equal(k8ssa_credential_reloads(c), 0);

    /* rewritten with the same token (new mtime): not a change */
    write_str(f->path, "token-one\n", t0 + 5);
    assert_int_equal(k8ssa_credential_reload(c, "token-one"), 0);
    assert_int_equal(k8ssa_credential_reloads(c), 0);

    /* changed */
    write_str(f->path, "token-two", t0 + 10);
    assert_int_equal(k8ssa_credential_reload(c, "token-one"), 1);
    assert_int_equal(k8ssa_credential_reloads(c), 1);
    assert_string_equal(k8ssa_credential_token(c, f->p), "token-two");
    assert_int_equal(k8ssa_credential_reload(c, "token-two"), 0);
    assert_int_equal(k8ssa_credential_reloads(c), 1);
    /* a thread that sent the old token after another thread reloaded: its
     * retry must go out with the new one */
    assert_int_equal(k8ssa_credential_reload(c, "token-one"), 1);
    assert_int_equal(k8ssa_credential_reloads(c), 1);

    write_str(f->path, "token-three", t0 + 20);
    assert_int_equal(k8ssa_credential_reload(c, "token-two"), 1);
    assert_int_equal(k8ssa_credential_reloads(c), 2);
    assert_string_equal(k8ssa_credential_token(c, f->p), "token-three");
}

/* The kubelet's layout: the path is a symlink swapped atomically. */
static void test_symlink_swap(void **state)
{
    fixture *f = *state;
    k8ssa_credential *c = NULL;
    const char *why = NULL;
    char *d1 = apr_pstrcat(f->p, f->dir, "/data1", NULL);
    char *d2 = apr_pstrcat(f->p, f->dir, "/data2", NULL);
    char *tmp = apr_pstrcat(f->p, f->dir, "/token.tmp", NULL);
    time_t t0 = time(NULL) - 1000;
    write_str(d1, "token-from-data1", t0);
    write_str(d2, "token-from-data2-new", t0 + 60);
    assert_int_equal(symlink(d1, f->path), 0);
    assert_int_equal(k8ssa_credential_open(f->p, f->path, 0, &c, &why), APR_SUCCESS);
    assert_string_equal(k8ssa_credential_token(c, f->p), "token-from-data1");

    assert_int_equal(symlink(d2, tmp), 0);
    assert_int_equal(rename(tmp, f->path), 0);
    assert_string_equal(k8ssa_credential_token(c, f->p), "token-from-data2-new");
    assert_int_equal(k8ssa_credential_reloads(c), 1);
}

/* A file that turns bad after startup keeps the last good token in use. */
static void test_file_turns_bad(void **state)
{
    fixture *f = *state;
    k8ssa_credential *c = NULL;
    const char *why = NULL;
    time_t t0 = time(NULL) - 1000;
    write_str(f->path, "good-token", t0);
    assert_int_equal(k8ssa_credential_open(f->p, f->path, 0, &c, &why), APR_SUCCESS);

    write_str(f->path, "", t0 + 10);
    const char *t = k8ssa_credential_token(c, f->p);
    assert_int_equal(k8ssa_credential_reload(c, "good-token"), 0);
    assert_string_equal(t, "good-token");  /* the last good token stays */

    assert_int_equal(unlink(f->path), 0);
    t = k8ssa_credential_token(c, f->p);
    assert_int_equal(k8ssa_credential_reload(c, "good-token"), 0);
    assert_string_equal(t, "good-token");

    /* and it recovers */
    write_str(f->path, "next-token", t0 + 30);
    assert_string_equal(k8ssa_credential_token(c, f->p), "next-token");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_read_plain),
        T(test_read_trims),
        T(test_read_empty),
        T(test_read_inner_whitespace),
        T(test_read_control_chars),
        T(test_read_missing),
        T(test_read_size_limit),
        T(test_open_bad_file),
        T(test_open_and_token),
        T(test_token_pool_copy),
        T(test_token_rotates_interval_zero),
        T(test_token_interval_respected),
        T(test_reload),
        T(test_symlink_swap),
        T(test_file_turns_bad),
    };
#undef T
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
