/* Unit tests of src/lib/jwt.c: the unverified exp of a JWT, base64url. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jwt.h"
#include "../common/b64url.h"

/* {"alg":"RS256","kid":"k8s-key-1"} */
#define HDR "eyJhbGciOiJSUzI1NiIsImtpZCI6Ims4cy1rZXktMSJ9"
/* a made-up RS256-sized signature part */
/* {"exp":1800000000} */
#define P "eyJleHAiOjE4MDAwMDAwMDB9"
#define SIG "c2lnbmF0dXJlLW5vdC1jaGVja2VkLWJ5LWs4c3NhLWJlY2F1c2Utb25seS10aGUtYXBpLXNlcnZlci1kZWNpZGVz"

/* Unpadded base64url of data[0..n) into a malloc'd string. */
static char *enc(const void *data, size_t n)
{
    char *out = malloc(n / 3 * 4 + 5);

    assert_non_null(out);
    out[test_b64url_encode(data, n, out)] = '\0';
    return out;
}

/* "HDR.<base64url(payload[0..n))>.SIG", malloc'd. */
static char *token_n(const void *payload, size_t n)
{
    char *p = enc(payload, n);
    size_t len = strlen(HDR) + strlen(p) + strlen(SIG) + 3;
    char *t = malloc(len);

    assert_non_null(t);
    snprintf(t, len, "%s.%s.%s", HDR, p, SIG);
    free(p);
    return t;
}

/*
 * k8ssa_jwt_exp over an exact-size heap copy of tok (so ASan sees any read
 * past len); *exp is poisoned first.
 */
static int exp_of_raw(const char *tok, size_t len, int64_t *exp)
{
    char *copy = malloc(len ? len : 1);
    int rc;

    assert_non_null(copy);
    if (len)
        memcpy(copy, tok, len);
    *exp = -12345;
    rc = k8ssa_jwt_exp(copy, len, exp);
    free(copy);
    return rc;
}

static int exp_of_token(const char *tok, int64_t *exp)
{
    return exp_of_raw(tok, strlen(tok), exp);
}

/* The exp of a token whose payload is the JSON text `json`. */
static int exp_of_json_n(const char *json, size_t n, int64_t *exp)
{
    char *t = token_n(json, n);
    int rc = exp_of_token(t, exp);
    free(t);
    return rc;
}

static int exp_of_json(const char *json, int64_t *exp)
{
    return exp_of_json_n(json, strlen(json), exp);
}

static void expect_exp(const char *json, int64_t want)
{
    int64_t exp;
    if (exp_of_json(json, &exp) != 1)
        print_error("payload %s: no exp\n", json);
    assert_int_equal(exp_of_json(json, &exp), 1);
    assert_int_equal(exp, want);
}

static void expect_none(const char *json)
{
    int64_t exp;
    if (exp_of_json(json, &exp) != 0)
        print_error("payload %s: exp %lld\n", json, (long long)exp);
    assert_int_equal(exp_of_json(json, &exp), 0);
}

static void expect_token_none(const char *tok)
{
    int64_t exp;
    if (exp_of_token(tok, &exp) != 0)
        print_error("token %s: exp %lld\n", tok, (long long)exp);
    assert_int_equal(exp_of_token(tok, &exp), 0);
}

/* --- k8ssa_jwt_exp --- */

static void test_real_token(void **state)
{
    /* {"exp":1800000000}, as a hand-checked literal */
    static const char tok[] = HDR ".eyJleHAiOjE4MDAwMDAwMDB9." SIG;
    int64_t exp;
    (void)state;
    assert_int_equal(exp_of_token(tok, &exp), 1);
    assert_int_equal(exp, INT64_C(1800000000));
}

static void test_kubernetes_payload(void **state)
{
    (void)state;
    /* a projected service-account token's claims: nested objects, arrays */
    expect_exp("{\"aud\":[\"https://kubernetes.default.svc.cluster.local\",\"api\"],"
               "\"exp\":1800000000,\"iat\":1799996400,"
               "\"iss\":\"https://kubernetes.default.svc.cluster.local\","
               "\"kubernetes.io\":{\"namespace\":\"team-a\","
               "\"pod\":{\"name\":\"builder-7c9f\",\"uid\":\"0f0e-11\"},"
               "\"serviceaccount\":{\"name\":\"builder\",\"uid\":\"9a8b-22\"},"
               "\"warnafter\":1799999999},"
               "\"nbf\":1799996400,\"sub\":\"system:serviceaccount:team-a:builder\"}",
               INT64_C(1800000000));
    /* exp anywhere among the members, whitespace around tokens */
    expect_exp(" { \"sub\" : \"x\" ,\n\t\"exp\" : 1800000001 } ", INT64_C(1800000001));
    expect_exp("{\"exp\":1800000002,\"sub\":\"\\u00e9\\ud83d\\ude00\",\"x\":\"\xc3\xa9\"}",
               INT64_C(1800000002));
}

static void test_exp_range(void **state)
{
    (void)state;
    expect_exp("{\"exp\":0}", 0);
    expect_exp("{\"exp\":1}", 1);
    expect_exp("{\"exp\":253402300799}", K8SSA_JWT_MAX_EXP);
    expect_none("{\"exp\":253402300800}");
    expect_none("{\"exp\":-1}");
    expect_none("{\"exp\":-1800000000}");
    expect_none("{\"exp\":9223372036854775807}");
    expect_none("{\"exp\":9223372036854775808}");
    expect_none("{\"exp\":18446744073709551615}");
    expect_none("{\"exp\":99999999999999999999}");
    expect_none("{\"exp\":-99999999999999999999}");
    expect_none("{\"exp\":-9223372036854775808}");
    expect_none("{\"exp\":1e300}");
    expect_none("{\"exp\":-1e300}");
    expect_none("{\"exp\":1e400}");
}

static void test_exp_double(void **state)
{
    (void)state;
    expect_exp("{\"exp\":1800000000.0}", INT64_C(1800000000));
    expect_exp("{\"exp\":1800000000.9}", INT64_C(1800000000));
    expect_exp("{\"exp\":1800000000.5}", INT64_C(1800000000));
    expect_exp("{\"exp\":1.8e9}", INT64_C(1800000000));
    expect_exp("{\"exp\":18E8}", INT64_C(1800000000));
    expect_exp("{\"exp\":0.25}", 0);
    expect_exp("{\"exp\":253402300799.0}", K8SSA_JWT_MAX_EXP);
    expect_none("{\"exp\":253402300799.5}");
    expect_none("{\"exp\":2.6e11}");
    expect_none("{\"exp\":-0.5}");
    expect_none("{\"exp\":-1.0}");
}

static void test_exp_missing_or_wrong_type(void **state)
{
    (void)state;
    expect_none("{}");
    expect_none("{\"iat\":1800000000}");
    expect_none("{\"EXP\":1800000000}");
    expect_none("{\"exp \":1800000000}");
    expect_none("{\"nested\":{\"exp\":1800000000}}");
    expect_none("{\"exp\":\"1800000000\"}");
    expect_none("{\"exp\":\"\"}");
    expect_none("{\"exp\":true}");
    expect_none("{\"exp\":false}");
    expect_none("{\"exp\":[1800000000]}");
    expect_none("{\"exp\":{\"v\":1800000000}}");
    expect_none("{\"exp\":null}");
}

static void test_not_three_parts(void **state)
{
    (void)state;
    expect_token_none("");
    expect_token_none(P);                                     /* 0 dots */
    expect_token_none(HDR "." P);                             /* 1 dot */
    expect_token_none(P "." SIG);
    expect_token_none(HDR "." P "." SIG ".");                 /* 3 dots */
    expect_token_none(HDR "." P "." SIG "." SIG);
    expect_token_none(HDR "." P "." SIG "." SIG "." SIG);     /* 4 dots: JWE-shaped */
    expect_token_none("." P "..");
    expect_token_none("....");
}

static void test_empty_parts(void **state)
{
    int64_t exp;
    (void)state;
    expect_token_none("..");
    expect_token_none(HDR ".." SIG);
    expect_token_none(HDR "..");
    expect_token_none(".." SIG);
    /* an unsecured JWS (RFC 7519 6.1) has an empty signature part */
    assert_int_equal(exp_of_token(HDR "." P ".", &exp), 1);
    assert_int_equal(exp, INT64_C(1800000000));
}

/* Only token[0..len) is looked at: a third part beyond len does not count. */
static void test_len_bounds(void **state)
{
    static const char whole[] = HDR ".eyJleHAiOjE4MDAwMDAwMDB9." SIG;
    int64_t exp;
    size_t cut = strlen(HDR ".eyJleHAiOjE4MDAwMDAwMDB9");
    (void)state;
    assert_int_equal(exp_of_raw(whole, strlen(whole), &exp), 1);
    assert_int_equal(exp_of_raw(whole, cut, &exp), 0);          /* "h.p": two parts */
    assert_int_equal(exp_of_raw(whole, cut + 1, &exp), 1);      /* "h.p.": empty signature */
    assert_int_equal(exp, INT64_C(1800000000));
    assert_int_equal(exp_of_raw(whole, cut - 1, &exp), 0);      /* payload cut short */
    assert_int_equal(exp_of_raw(whole, 0, &exp), 0);
    /* a NUL inside len ends nothing: "h.p.s\0.x" has four parts */
    {
        char t[sizeof(whole) + 2];
        memcpy(t, whole, sizeof(whole));
        t[sizeof(whole)] = '.';
        t[sizeof(whole) + 1] = 'x';
        assert_int_equal(exp_of_raw(t, sizeof(t), &exp), 0);
    }
}

static void test_bad_base64url_payload(void **state)
{
    (void)state;
    /* {"exp":1800000000} is eyJleHAiOjE4MDAwMDAwMDB9 (24 chars, no padding needed);
     * {"exp":18000000000} is eyJleHAiOjE4MDAwMDAwMDAwfQ (26 chars) */
    expect_token_none(HDR ".eyJleHAiOjE4MDAwMDAwMDAwfQ==." SIG);   /* '=' padding */
    expect_token_none(HDR ".eyJleHAiOjE4MDAwMDAwMDAwfQ=." SIG);
    expect_token_none(HDR ".eyJleHAiOjE4MDAwMDAwMDB9====." SIG);
    expect_token_none(HDR ".eyJleHAiOjE4MDAw+DAwMDB9." SIG);       /* standard alphabet */
    expect_token_none(HDR ".eyJleHAiOjE4MDAw/DAwMDB9." SIG);
    expect_token_none(HDR ".eyJleHAiOjE4 MDAwMDAwMDB9." SIG);      /* spaces */
    expect_token_none(HDR ". eyJleHAiOjE4MDAwMDAwMDB9." SIG);
    expect_token_none(HDR ".eyJleHAiOjE4MDAwMDAwMDB9 ." SIG);
    expect_token_none(HDR ".eyJleHAiOjE4MDAw\nMDAwMDB9." SIG);
    expect_token_none(HDR ".eyJleHAiOjE4MDAw\xc3\xa9MDAwMDB9." SIG);
    /* length % 4 == 1: 25 characters */
    expect_token_none(HDR ".eyJleHAiOjE4MDAwMDAwMDB9A." SIG);
    expect_token_none(HDR ".e." SIG);
}

static void test_not_a_json_object(void **state)
{
    (void)state;
    expect_none("");                           /* (an empty payload part) */
    expect_none("exp=1800000000");
    expect_none("1800000000");
    expect_none("\"exp\"");
    expect_none("null");
    expect_none("[{\"exp\":1800000000}]");
    expect_none("[1800000000]");
    expect_none("{\"exp\":1800000000");       /* unterminated */
    expect_none("{\"exp\":1800000000,}");      /* trailing comma */
    expect_none("{\"exp\":1800000000,\"a\":'x'}");  /* not JSON quotes */
    expect_none("{exp:1800000000}");
    expect_none("{\"exp\":0x6b49d200}");
    expect_none("{\"exp\":NaN}");
    expect_none("{\"exp\":Infinity}");
    expect_none("{\"exp\":+1800000000}");
    expect_none("{\"exp\":01800000000}");
    expect_none("/**/{\"exp\":1800000000}");
}

static void test_trailing_garbage(void **state)
{
    int64_t exp;
    (void)state;
    expect_none("{\"exp\":1800000000}x");
    expect_none("{\"exp\":1800000000}{}");
    expect_none("{\"exp\":1800000000}}");
    expect_none("{\"exp\":1800000000},");
    expect_none("{}{\"exp\":1800000000}");
    assert_int_equal(exp_of_json_n("{\"exp\":1800000000}\0", 19, &exp), 0);
    assert_int_equal(exp_of_json_n("{\"exp\":1800000000}\0garbage", 26, &exp), 0);
    assert_int_equal(exp_of_json_n("\0{\"exp\":1800000000}", 19, &exp), 0);
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    expect_none("{\"exp\":1800000000,\"sub\":\"\xff\"}");
    expect_none("{\"exp\":1800000000,\"sub\":\"\xe2\x82\"}");           /* truncated */
    expect_none("{\"exp\":1800000000,\"\x80\":1}");
}

/*
 * Payloads that are not JSON (RFC 8259) although json-c 0.16's strict mode
 * takes them. jwt.h: "0 otherwise (... non-JSON payload ...)".
 */
static void test_json_strictness(void **state)
{
    /* json-c's strict mode still reads {'exp':1} and 1. as JSON; harmless
     * here (an exp only shortens a cache lifetime), and documented in jwt.h. */
    static const char *const not_json[] = {
        "{\"exp\":1800000000,\"s\":\"a\x01\"}",                       /* raw control char */
        "{\"exp\":1800000000,\"sub\":\"\xc0\xaf\"}",                   /* overlong '/' */
        "{\"exp\":1800000000,\"sub\":\"\xed\xa0\x80\"}",               /* UTF-8 surrogate */
        "{\"exp\":1800000000,\"sub\":\"\xf4\x90\x80\x80\"}",           /* > U+10FFFF */
    };
    int64_t exp;
    size_t i;
    int failed = 0;
    (void)state;
    for (i = 0; i < sizeof(not_json) / sizeof(not_json[0]); i++)
        if (exp_of_json(not_json[i], &exp) != 0) {
            print_error("non-JSON payload #%zu %s: exp %lld\n", i, not_json[i], (long long)exp);
            failed = 1;
        }
    assert_false(failed);
}

static void test_deep_nesting(void **state)
{
    size_t depth = 5000, i, n = 0;
    char *json = malloc(2 * depth + 64);
    int64_t exp;
    (void)state;
    assert_non_null(json);
    n += (size_t)sprintf(json + n, "{\"exp\":1800000000,\"x\":");
    for (i = 0; i < depth; i++)
        json[n++] = '[';
    for (i = 0; i < depth; i++)
        json[n++] = ']';
    json[n++] = '}';
    assert_int_equal(exp_of_json_n(json, n, &exp), 0);
    /* and deep objects, exp last */
    n = 0;
    json[n++] = '{';
    for (i = 0; i < depth / 8; i++)
        n += (size_t)sprintf(json + n, "\"a\":{");
    for (i = 0; i < depth / 8; i++)
        json[n++] = '}';
    n += (size_t)sprintf(json + n, ",\"exp\":1800000000}");
    assert_int_equal(exp_of_json_n(json, n, &exp), 0);
    free(json);
}

/* A payload of exactly `size` decoded bytes: {"exp":1800000000,"p":"aaa...a"}. */
static char *payload_of_size(size_t size)
{
    static const char head[] = "{\"exp\":1800000000,\"p\":\"";
    char *json = malloc(size + 1);
    size_t hl = strlen(head);

    assert_non_null(json);
    assert_true(size >= hl + 2);
    memcpy(json, head, hl);
    memset(json + hl, 'a', size - hl - 2);
    memcpy(json + size - 2, "\"}", 2);
    json[size] = '\0';
    return json;
}

static void test_payload_limit(void **state)
{
    int64_t exp;
    char *json;
    size_t size;
    (void)state;
    /* at the limit, whatever the payload length is mod 3 */
    for (size = K8SSA_JWT_MAX_PAYLOAD - 2; size <= K8SSA_JWT_MAX_PAYLOAD; size++) {
        json = payload_of_size(size);
        if (exp_of_json(json, &exp) != 1)
            print_error("decoded payload of %zu bytes rejected\n", size);
        assert_int_equal(exp_of_json(json, &exp), 1);
        assert_int_equal(exp, INT64_C(1800000000));
        free(json);
    }
}

/* jwt.h: "Decoded JWT payloads larger than this are not looked at." */
static void test_payload_over_limit(void **state)
{
    int64_t exp;
    char *json;
    size_t size;
    int failed = 0;
    (void)state;
    for (size = K8SSA_JWT_MAX_PAYLOAD + 1; size <= K8SSA_JWT_MAX_PAYLOAD + 6; size++) {
        json = payload_of_size(size);
        if (exp_of_json(json, &exp) != 0) {
            print_error("decoded payload of %zu bytes (> K8SSA_JWT_MAX_PAYLOAD) was looked at\n",
                        size);
            failed = 1;
        }
        free(json);
    }
    json = payload_of_size(1 << 20);
    assert_int_equal(exp_of_json(json, &exp), 0);
    free(json);
    assert_false(failed);
}

/* --- k8ssa_base64url_decode --- */

static void expect_decode(const char *src, const char *want, size_t wantlen)
{
    size_t len = strlen(src);
    unsigned char *dst = malloc(len * 3 / 4 + 1);   /* room as jwt.h asks, exact */
    char *copy = malloc(len ? len : 1);
    long n;

    assert_non_null(dst);
    assert_non_null(copy);
    if (len)
        memcpy(copy, src, len);
    n = k8ssa_base64url_decode(copy, len, dst);
    assert_int_equal(n, (long)wantlen);
    if (wantlen)
        assert_memory_equal(dst, want, wantlen);
    free(copy);
    free(dst);
}

static void expect_decode_fails(const char *src, size_t len)
{
    unsigned char dst[256];
    assert_true(len * 3 / 4 <= sizeof(dst));
    assert_int_equal(k8ssa_base64url_decode(src, len, dst), -1);
}

static void test_b64_rfc4648_vectors(void **state)
{
    (void)state;
    /* RFC 4648 section 10, unpadded */
    expect_decode("", "", 0);
    expect_decode("Zg", "f", 1);
    expect_decode("Zm8", "fo", 2);
    expect_decode("Zm9v", "foo", 3);
    expect_decode("Zm9vYg", "foob", 4);
    expect_decode("Zm9vYmE", "fooba", 5);
    expect_decode("Zm9vYmFy", "foobar", 6);
}

static void test_b64_url_alphabet(void **state)
{
    (void)state;
    /* RFC 4648 section 5: '-' and '_' are 62 and 63 */
    expect_decode("-_-_", "\xfb\xff\xbf", 3);
    expect_decode("____", "\xff\xff\xff", 3);
    expect_decode("AAAA", "\0\0\0", 3);
    expect_decode("-w", "\xfb", 1);
    expect_decode("_-8", "\xff\xef", 2);
    /* every character once, in order: values 0..63 */
    expect_decode("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
                  "\x00\x10\x83\x10\x51\x87\x20\x92\x8b\x30\xd3\x8f\x41\x14\x93\x51"
                  "\x55\x97\x61\x96\x9b\x71\xd7\x9f\x82\x18\xa3\x92\x59\xa7\xa2\x9a"
                  "\xab\xb2\xdb\xaf\xc3\x1c\xb3\xd3\x5d\xb7\xe3\x9e\xbb\xf3\xdf\xbf",
                  48);
}

static void test_b64_every_byte(void **state)
{
    unsigned char raw[256], dst[256];
    size_t i, n;
    (void)state;
    for (i = 0; i < 256; i++)
        raw[i] = (unsigned char)i;
    for (n = 0; n <= 256; n++) {
        char *s = enc(raw, n);
        long got = k8ssa_base64url_decode(s, strlen(s), dst);
        assert_int_equal(got, (long)n);
        if (n)
            assert_memory_equal(dst, raw, n);
        free(s);
    }
}

/* A byte outside the alphabet anywhere, in whole quanta or in the 2- and
 * 3-character tail: the decoder looks at every character. */
static void test_b64_rejects_every_position(void **state)
{
    static const size_t lens[] = { 2, 3, 4, 6, 7, 8, 10, 11 };
    size_t k, pos;
    int c;
    (void)state;
    for (k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
        for (pos = 0; pos < lens[k]; pos++) {
            for (c = 0; c < 256; c++) {
                char s[12];
                if (strchr(TEST_B64URL_ALPHABET, c) != NULL && c != 0)
                    continue;
                memcpy(s, "Zm9vYmFyYmF", sizeof(s) - 1);
                s[pos] = (char)c;
                expect_decode_fails(s, lens[k]);
            }
        }
    }
}

static void test_b64_rejects(void **state)
{
    int c;
    (void)state;
    expect_decode_fails("Zg==", 4);
    expect_decode_fails("Zg=", 3);
    expect_decode_fails("Zm8=", 4);
    expect_decode_fails("=", 1);
    expect_decode_fails("====", 4);
    expect_decode_fails("+/+/", 4);
    expect_decode_fails("Zm9v+A", 6);
    expect_decode_fails("Zm9v/A", 6);
    expect_decode_fails("Zm 9v", 5);
    expect_decode_fails("Zm9v ", 5);
    expect_decode_fails("Zm9\n", 4);
    expect_decode_fails("Zm\0v", 4);
    expect_decode_fails("Zm.v", 4);
    /* impossible lengths: 4k+1 */
    expect_decode_fails("Z", 1);
    expect_decode_fails("Zm9vY", 5);
    expect_decode_fails("Zm9vYmFyZ", 9);
    /* every byte outside the alphabet, at every position of a quantum */
    for (c = 0; c < 256; c++) {
        char s[4];
        int pos;
        if (strchr(TEST_B64URL_ALPHABET, c) != NULL && c != 0)
            continue;
        for (pos = 0; pos < 4; pos++) {
            memcpy(s, "Zm9v", 4);
            s[pos] = (char)c;
            expect_decode_fails(s, 4);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_token),
        cmocka_unit_test(test_kubernetes_payload),
        cmocka_unit_test(test_exp_range),
        cmocka_unit_test(test_exp_double),
        cmocka_unit_test(test_exp_missing_or_wrong_type),
        cmocka_unit_test(test_not_three_parts),
        cmocka_unit_test(test_empty_parts),
        cmocka_unit_test(test_len_bounds),
        cmocka_unit_test(test_bad_base64url_payload),
        cmocka_unit_test(test_not_a_json_object),
        cmocka_unit_test(test_trailing_garbage),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_json_strictness),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_payload_limit),
        cmocka_unit_test(test_payload_over_limit),
        cmocka_unit_test(test_b64_rfc4648_vectors),
        cmocka_unit_test(test_b64_url_alphabet),
        cmocka_unit_test(test_b64_every_byte),
        cmocka_unit_test(test_b64_rejects),
        cmocka_unit_test(test_b64_rejects_every_position),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
