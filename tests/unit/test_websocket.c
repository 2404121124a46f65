/*
 * test_websocket.c - unit tests of src/lib/websocket.c (k8ssa_ws_bearer): the
 * bearer token of a WebSocket upgrade, carried as the Sec-WebSocket-Protocol
 * entry base64url.bearer.authorization.k8s.io.<unpadded base64url token>,
 * against the contract in src/lib/websocket.h.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE   /* memmem */
#endif
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "unit.h"

#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>

#include "bearer.h"
#include "websocket.h"
#include "../common/b64url.h"

#define PREFIX K8SSA_WS_BEARER_PREFIX

static char *b64url(apr_pool_t *p, const char *src, size_t len)
{
    char *out = apr_palloc(p, len / 3 * 4 + 5);

    out[test_b64url_encode((const unsigned char *)src, len, out)] = '\0';
    return out;
}

/* The bearer entry for token (a C string). */
static char *entry_of(apr_pool_t *p, const char *token)
{
    return apr_pstrcat(p, PREFIX, b64url(p, token, strlen(token)), NULL);
}

/* Runs k8ssa_ws_bearer on value and checks status, token (on FOUND) and
 * others (on FOUND and MALFORMED; NULL expected means "none remain"). */
static void check(apr_pool_t *p, const char *value, k8ssa_ws_status expect,
                  const char *expect_token, const char *expect_others)
{
    const char *token = NULL, *others = (const char *)"unset";
    k8ssa_ws_status st = k8ssa_ws_bearer(p, value, &token, &others);

    if (st != expect)
        print_error("value \"%.200s\": status %d, expected %d\n", value, (int)st, (int)expect);
    assert_int_equal(st, expect);
    if (expect == K8SSA_WS_FOUND) {
        assert_non_null(token);
        assert_string_equal(token, expect_token);
    }
    if (expect != K8SSA_WS_ABSENT) {
        if (expect_others == NULL) {
            if (others != NULL)
                print_error("value \"%.200s\": others \"%s\", expected NULL\n", value, others);
            assert_null(others);
        } else {
            assert_non_null(others);
            assert_string_equal(others, expect_others);
        }
        /* never a bearer entry left behind (elements are joined by ", ") */
        if (others != NULL) {
            assert_int_not_equal(strncmp(others, PREFIX, strlen(PREFIX)), 0);
            assert_null(strstr(others, ", " PREFIX));
        }
    }
}

static const char *const JWT =
    "eyJhbGciOiJSUzI1NiIsImtpZCI6IkFCQyJ9."
    "eyJhdWQiOlsiaHR0cHM6Ly9rdWJlcm5ldGVzLmRlZmF1bHQuc3ZjIl0sInN1YiI6InN5c3RlbTpzZXJ2aWNlYWNj"
    "b3VudDprdWJlZmxvdzpwaXBlbGluZS1ydW5uZXIifQ."
    "c2lnbmF0dXJlLWJ5dGVz_-aGVsbG8";

/* ---------------------------------------------------------------- absent */

static void test_absent(void **state)
{
    apr_pool_t *p = *state;
    check(p, "", K8SSA_WS_ABSENT, NULL, NULL);
    check(p, " ,\t, ", K8SSA_WS_ABSENT, NULL, NULL);
    check(p, "chat", K8SSA_WS_ABSENT, NULL, NULL);
    check(p, "chat.v1, superchat", K8SSA_WS_ABSENT, NULL, NULL);
    check(p, "v4.channel.k8s.io, base64.channel.k8s.io", K8SSA_WS_ABSENT, NULL, NULL);
    /* the prefix without its final dot, or not at the start of the entry */
    check(p, "base64url.bearer.authorization.k8s.io", K8SSA_WS_ABSENT, NULL, NULL);
    check(p, "x" PREFIX "YWJj", K8SSA_WS_ABSENT, NULL, NULL);
    check(p, "base64url.bearer.authorization.k8s.iox.YWJj", K8SSA_WS_ABSENT, NULL, NULL);
}

/* The prefix is matched case-sensitively: anything else is another protocol. */
static void test_prefix_case_sensitive(void **state)
{
    apr_pool_t *p = *state;
    check(p, "Base64url.bearer.authorization.k8s.io.YWJj", K8SSA_WS_ABSENT, NULL, NULL);
    check(p, "BASE64URL.BEARER.AUTHORIZATION.K8S.IO.YWJj, chat", K8SSA_WS_ABSENT, NULL, NULL);
    /* and is kept, verbatim, among the others of a real entry */
    check(p, apr_pstrcat(p, "Base64url.bearer.authorization.k8s.io.YWJj, ", entry_of(p, "tok"),
                         NULL),
          K8SSA_WS_FOUND, "tok", "Base64url.bearer.authorization.k8s.io.YWJj");
}

/* ----------------------------------------------------------------- found */

static void test_found_only_entry(void **state)
{
    apr_pool_t *p = *state;
    check(p, entry_of(p, JWT), K8SSA_WS_FOUND, JWT, NULL);
    check(p, entry_of(p, "a"), K8SSA_WS_FOUND, "a", NULL);     /* 2 chars */
    check(p, entry_of(p, "ab"), K8SSA_WS_FOUND, "ab", NULL);   /* 3 chars */
    check(p, entry_of(p, "abc"), K8SSA_WS_FOUND, "abc", NULL); /* 4 chars */
    /* spaces, tabs and empty list elements around it leave nothing */
    check(p, apr_pstrcat(p, " \t, ,", entry_of(p, JWT), " ,\t,, ", NULL), K8SSA_WS_FOUND, JWT,
          NULL);
}

static void test_found_exact_encoding(void **state)
{
    apr_pool_t *p = *state;
    /* hand-encoded, independent of the test's encoder */
    check(p, PREFIX "YWJj", K8SSA_WS_FOUND, "abc", NULL);
    check(p, PREFIX "YWJjZA", K8SSA_WS_FOUND, "abcd", NULL);
    check(p, PREFIX "YWJjZGU", K8SSA_WS_FOUND, "abcde", NULL);
    /* '-' is base64url's 62: "~~~" is 0x7e7e7e -> "fn5-". ('_', 63, needs a
     * byte 0x3f or 0x7f at a group's end: never in the encoding of a b64token.) */
    check(p, PREFIX "fn5-", K8SSA_WS_FOUND, "~~~", NULL);
    check(p, PREFIX "fn5-fn5-", K8SSA_WS_FOUND, "~~~~~~", NULL);
}

static void test_found_b64token_alphabet(void **state)
{
    apr_pool_t *p = *state;
    /* every b64token character, and '=' only trailing (RFC 6750 section 2.1) */
    const char *all = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/";
    check(p, entry_of(p, all), K8SSA_WS_FOUND, all, NULL);
    check(p, entry_of(p, "abc=="), K8SSA_WS_FOUND, "abc==", NULL);
    check(p, entry_of(p, "a+b/c="), K8SSA_WS_FOUND, "a+b/c=", NULL);
}

static void test_found_others(void **state)
{
    apr_pool_t *p = *state;
    const char *e = entry_of(p, JWT);

    /* before, after, between */
    check(p, apr_pstrcat(p, e, ", chat.v1", NULL), K8SSA_WS_FOUND, JWT, "chat.v1");
    check(p, apr_pstrcat(p, "chat.v1, ", e, NULL), K8SSA_WS_FOUND, JWT, "chat.v1");
    check(p, apr_pstrcat(p, "chat.v1, ", e, ", superchat", NULL), K8SSA_WS_FOUND, JWT,
          "chat.v1, superchat");
    check(p, apr_pstrcat(p, "a, b, ", e, ", c, d", NULL), K8SSA_WS_FOUND, JWT, "a, b, c, d");
    /* no space after the commas */
    check(p, apr_pstrcat(p, "a,", e, ",b", NULL), K8SSA_WS_FOUND, JWT, "a, b");
    /* OWS (spaces and tabs) around elements is dropped, not kept */
    check(p, apr_pstrcat(p, "  chat.v1 \t,\t ", e, " \t ,   superchat\t ", NULL), K8SSA_WS_FOUND,
          JWT, "chat.v1, superchat");
    check(p, apr_pstrcat(p, "\tchat.v1\t,", e, NULL), K8SSA_WS_FOUND, JWT, "chat.v1");
    /* empty list elements vanish */
    check(p, apr_pstrcat(p, ",,chat.v1,,", e, ",,, ,superchat,,", NULL), K8SSA_WS_FOUND, JWT,
          "chat.v1, superchat");
    check(p, apr_pstrcat(p, ", ,", e, ",,", NULL), K8SSA_WS_FOUND, JWT, NULL);
    /* the prefix further inside another entry is just another protocol */
    check(p, apr_pstrcat(p, "x" PREFIX "YWJj, ", e, NULL), K8SSA_WS_FOUND, JWT,
          "x" PREFIX "YWJj");
    /* other entries keep their own inner characters */
    check(p, apr_pstrcat(p, "v4.channel.k8s.io, ", e, ", base64.channel.k8s.io", NULL),
          K8SSA_WS_FOUND, JWT, "v4.channel.k8s.io, base64.channel.k8s.io");
}

/* ------------------------------------------------------------- malformed */

static void test_malformed_two_entries(void **state)
{
    apr_pool_t *p = *state;
    const char *e1 = entry_of(p, JWT), *e2 = entry_of(p, "other-token");

    check(p, apr_pstrcat(p, e1, ", ", e2, NULL), K8SSA_WS_MALFORMED, NULL, NULL);
    check(p, apr_pstrcat(p, e1, ",", e1, NULL), K8SSA_WS_MALFORMED, NULL, NULL);
    check(p, apr_pstrcat(p, "chat.v1, ", e1, ", superchat, ", e2, NULL), K8SSA_WS_MALFORMED,
          NULL, "chat.v1, superchat");
    /* a good entry and a bad one */
    check(p, apr_pstrcat(p, e1, ", " PREFIX "!!!!, chat.v1", NULL), K8SSA_WS_MALFORMED, NULL,
          "chat.v1");
    check(p, apr_pstrcat(p, PREFIX ", x, ", e1, NULL), K8SSA_WS_MALFORMED, NULL, "x");
}

static void test_malformed_empty_payload(void **state)
{
    apr_pool_t *p = *state;
    check(p, PREFIX, K8SSA_WS_MALFORMED, NULL, NULL);
    check(p, PREFIX " \t", K8SSA_WS_MALFORMED, NULL, NULL);
    check(p, "chat.v1, " PREFIX ", superchat", K8SSA_WS_MALFORMED, NULL, "chat.v1, superchat");
}

static void test_malformed_not_base64url(void **state)
{
    apr_pool_t *p = *state;
    /* padding: "abcd" is YWJjZA== in padded base64 */
    check(p, PREFIX "YWJjZA==", K8SSA_WS_MALFORMED, NULL, NULL);
    check(p, PREFIX "YWJjZA=", K8SSA_WS_MALFORMED, NULL, NULL);
    check(p, PREFIX "YWJjZGU=", K8SSA_WS_MALFORMED, NULL, NULL);
    check(p, PREFIX "YW=j", K8SSA_WS_MALFORMED, NULL, NULL);
    /* the standard alphabet's '+' and '/' ("~~~" is fn5+ there, "???" Pz8/) */
    check(p, PREFIX "fn5+", K8SSA_WS_MALFORMED, NULL, NULL);
    check(p, PREFIX "Pz8/", K8SSA_WS_MALFORMED, NULL, NULL);
    check(p, "chat, " PREFIX "Pz8/, x", K8SSA_WS_MALFORMED, NULL, "chat, x");
    /* other foreign characters inside the payload */
    check(p, PREFIX "YW.j", K8SSA_WS_MALFORMED, NULL, NULL);
    check(p, PREFIX "YW Jj", K8SSA_WS_MALFORMED, NULL, NULL);
    check(p, PREFIX "YW\tJj", K8SSA_WS_MALFORMED, NULL, NULL);
    check(p, PREFIX "YW\"Jj", K8SSA_WS_MALFORMED, NULL, NULL);
    check(p, PREFIX "YWJj\xc3\xa9", K8SSA_WS_MALFORMED, NULL, NULL);
    /* the unencoded token itself (has '.', so it is no base64url) */
    check(p, PREFIX "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln", K8SSA_WS_MALFORMED, NULL,
          NULL);
}

static void test_malformed_length(void **state)
{
    apr_pool_t *p = *state;
    /* len % 4 == 1: 6 bits cannot end a byte */
    check(p, PREFIX "Y", K8SSA_WS_MALFORMED, NULL, NULL);
    check(p, PREFIX "YWJjZ", K8SSA_WS_MALFORMED, NULL, NULL);
    check(p, PREFIX "YWJjZGVmZ", K8SSA_WS_MALFORMED, NULL, NULL);
    check(p, "a, " PREFIX "YWJjZ, b", K8SSA_WS_MALFORMED, NULL, "a, b");
}

static void test_malformed_not_b64token(void **state)
{
    apr_pool_t *p = *state;
    static const char *const bad[] = {
        "abc def", " abc", "abc ", "ab\"c", "\"abc\"", "ab,c", "ab;c", "ab:c", "a\tb",
        "a\rb", "a\nb", "\x01", "abc\x7f", "caf\xc3\xa9", "\xff\xfe", "=abc", "a=bc", "==",
        "ab=c=", "(abc)", "a@b", "a\\b",
    };
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        check(p, entry_of(p, bad[i]), K8SSA_WS_MALFORMED, NULL, NULL);
        check(p, apr_pstrcat(p, "chat.v1, ", entry_of(p, bad[i]), NULL), K8SSA_WS_MALFORMED,
              NULL, "chat.v1");
    }
    /* decoded NUL bytes: "AA" is one 0x00, "YQA" is "a\0", "AGE" is "\0a" */
    check(p, PREFIX "AA", K8SSA_WS_MALFORMED, NULL, NULL);
    check(p, PREFIX "YQA", K8SSA_WS_MALFORMED, NULL, NULL);
    check(p, PREFIX "AGE", K8SSA_WS_MALFORMED, NULL, NULL);
    check(p, PREFIX "YWJjAA", K8SSA_WS_MALFORMED, NULL, NULL);
}

/* A token of n 'a's (and 'b' last, so truncation would show). */
static char *long_token(apr_pool_t *p, size_t n)
{
    char *t = apr_palloc(p, n + 1);
    memset(t, 'a', n);
    t[n - 1] = 'b';
    t[n] = '\0';
    return t;
}

static void test_size_limit(void **state)
{
    apr_pool_t *p = *state;
    size_t n;
    /* around the limit, for each length class of the encoding */
    for (n = K8SSA_BEARER_MAX_TOKEN - 3; n <= K8SSA_BEARER_MAX_TOKEN; n++) {
        char *t = long_token(p, n);
        check(p, entry_of(p, t), K8SSA_WS_FOUND, t, NULL);
        check(p, apr_pstrcat(p, "x, ", entry_of(p, t), ", y", NULL), K8SSA_WS_FOUND, t, "x, y");
    }
    for (n = K8SSA_BEARER_MAX_TOKEN + 1; n <= K8SSA_BEARER_MAX_TOKEN + 4; n++) {
        char *t = long_token(p, n);
        check(p, entry_of(p, t), K8SSA_WS_MALFORMED, NULL, NULL);
        check(p, apr_pstrcat(p, "x, ", entry_of(p, t), ", y", NULL), K8SSA_WS_MALFORMED, NULL,
              "x, y");
    }
    check(p, entry_of(p, long_token(p, 200000)), K8SSA_WS_MALFORMED, NULL, NULL);
    /* an over-long payload that is not even base64url */
    {
        char *junk = apr_palloc(p, 100001);
        memset(junk, '+', 100000);
        junk[100000] = '\0';
        check(p, apr_pstrcat(p, PREFIX, junk, ", z", NULL), K8SSA_WS_MALFORMED, NULL, "z");
    }
}

/* The decoded bytes of the entry go through a scratch buffer of the caller's
 * pool. It is wiped before return, whether the entry was taken or refused:
 * the one copy left in the pool is the token handed back on FOUND, which the
 * caller wipes (authn.c). The pool's memory is read between two allocations
 * of a fresh pool (an APR pool hands out one block in order); the sanitizer
 * build gives each allocation a malloc block of its own, so it skips. */
#ifdef K8SSA_UNIT_ASAN
#define POOL_NOT_CONTIGUOUS 1
#endif

#ifndef POOL_NOT_CONTIGUOUS
static unsigned occurrences(const char *from, const char *to, const char *needle)
{
    size_t n = strlen(needle);
    unsigned found = 0;
    const char *at = from;

    while ((at = memmem(at, (size_t)(to - at), needle, n)) != NULL) {
        found++;
        at++;
    }
    return found;
}

/* Copies of secret left in the pool's memory by one k8ssa_ws_bearer(value). */
static unsigned copies_left(apr_pool_t *parent, const char *value, const char *secret,
                            k8ssa_ws_status expect)
{
    apr_pool_t *q;
    const char *token = NULL, *others = NULL, *before, *after;
    unsigned found;

    assert_int_equal(apr_pool_create(&q, parent), APR_SUCCESS);
    before = apr_palloc(q, 1);
    assert_int_equal(k8ssa_ws_bearer(q, value, &token, &others), expect);
    after = apr_palloc(q, 1);
    /* everything the call allocated lies between the two */
    assert_true(after > before && after - before < 4096);
    if (expect == K8SSA_WS_FOUND)
        assert_true(token > before && token < after);
    found = occurrences(before, after, secret);
    apr_pool_destroy(q);
    return found;
}
#endif

static void test_decode_buffer_wiped(void **state)
{
#ifdef POOL_NOT_CONTIGUOUS
    (void)state;
    skip();
#else
    apr_pool_t *p = *state;
    static const char secret[] = "SeCrEt-wipe-4f1c9";
    /* each length class of the encoding, so the buffer's spare bytes vary */
    static const char *const refused_suffix[] = { " x", " xy", " xyz", "\"", "\x7f" };
    static const char *const taken_suffix[] = { "", "a", "ab", "abc" };
    size_t i;

    for (i = 0; i < sizeof(refused_suffix) / sizeof(refused_suffix[0]); i++) {
        const char *t = apr_pstrcat(p, secret, refused_suffix[i], NULL);
        assert_int_equal(copies_left(p, entry_of(p, t), secret, K8SSA_WS_MALFORMED), 0);
        assert_int_equal(copies_left(p, apr_pstrcat(p, "chat, ", entry_of(p, t), NULL),
                                     secret, K8SSA_WS_MALFORMED), 0);
    }
    /* base64url that breaks after the secret: the decoder has written its
     * bytes before it finds the fault */
    for (i = 0; i < 4; i++) {
        static const char *const broken[] = { "*AAA", "AAA*", "A", "====" };
        const char *t = apr_pstrcat(p, secret, "xyz", NULL);
        const char *value = apr_pstrcat(p, entry_of(p, t), broken[i], NULL);
        assert_int_equal(copies_left(p, value, secret, K8SSA_WS_MALFORMED), 0);
    }
    for (i = 0; i < sizeof(taken_suffix) / sizeof(taken_suffix[0]); i++) {
        const char *t = apr_pstrcat(p, secret, taken_suffix[i], NULL);
        /* the token handed back, and nothing else */
        assert_int_equal(copies_left(p, entry_of(p, t), secret, K8SSA_WS_FOUND), 1);
    }
#endif
}

#define T(f) cmocka_unit_test_setup_teardown(f, pool_setup, pool_teardown)

/* d8c4963 wrote kilobytes past its buffer here: every bare comma of the
 * other protocols becomes ", " (8 KB of "a,a,a", or 100 merged fields). In
 * the sanitizer build pool memory is guarded, so an overrun aborts. */
static void test_bare_commas_grow(void **state)
{
    apr_pool_t *p = *state;
    char *v, *want;
    const char *token = NULL, *others = NULL;

    bare_comma_list(p, 8191, &v, &want);
    /* with the entry last, first, and absent */
    assert_int_equal(k8ssa_ws_bearer(p, apr_pstrcat(p, v, ",", entry_of(p, "t0k"), NULL),
                                     &token, &others), K8SSA_WS_FOUND);
    assert_string_equal(token, "t0k");
    assert_string_equal(others, want);
    assert_int_equal(k8ssa_ws_bearer(p, apr_pstrcat(p, entry_of(p, "t0k"), ",", v, NULL),
                                     &token, &others), K8SSA_WS_FOUND);
    assert_string_equal(others, want);
    /* a malformed entry still hands back the others */
    assert_int_equal(k8ssa_ws_bearer(p, apr_pstrcat(p, v, "," PREFIX "!", NULL), &token,
                                     &others), K8SSA_WS_MALFORMED);
    assert_string_equal(others, want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_absent),
        T(test_prefix_case_sensitive),
        T(test_found_only_entry),
        T(test_found_exact_encoding),
        T(test_found_b64token_alphabet),
        T(test_found_others),
        T(test_malformed_two_entries),
        T(test_malformed_empty_payload),
        T(test_malformed_not_base64url),
        T(test_malformed_length),
        T(test_malformed_not_b64token),
        T(test_size_limit),
        T(test_bare_commas_grow),
        T(test_decode_buffer_wiped),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
