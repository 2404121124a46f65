/*
 * test_jose.c - unit tests of src/lib/jose.c (a JWT taken apart without
 * trusting it) and src/lib/precheck.c (refusals from its own claims):
 * every claim shape, hostile parts, and the precheck arithmetic.
 */
#include "unit.h"

#include <string.h>

#include <apr_strings.h>

#include "../common/b64url.h"
#include "jose.h"
#include "precheck.h"

static char *part(apr_pool_t *p, const char *text)
{
    size_t n = strlen(text);
    char *out = apr_palloc(p, (n + 2) / 3 * 4 + 1);
    out[test_b64url_encode((const unsigned char *)text, n, out)] = '\0';
    return out;
}

/* header.payload.signature from JSON texts (sig: raw bytes as text). */
static char *jwt(apr_pool_t *p, const char *header, const char *payload, const char *sig)
{
    return apr_pstrcat(p, part(p, header), ".", part(p, payload), ".", part(p, sig), NULL);
}

static k8ssa_jose_status parse(apr_pool_t *p, const char *tok, k8ssa_jws *out)
{
    return k8ssa_jose_parse(p, tok, strlen(tok), out);
}

static void test_claims(void **state)
{
    apr_pool_t *p = *state;
    k8ssa_jws t;
    const char *tok = jwt(p, "{\"alg\":\"RS256\",\"kid\":\"k1\"}",
                          "{\"iss\":\"https://issuer\",\"aud\":[\"a\",\"b\"],\"exp\":2000,"
                          "\"nbf\":1000.7,\"sub\":\"x\"}", "sig");

    assert_int_equal(parse(p, tok, &t), K8SSA_JOSE_OK);
    assert_true(t.header_ok);
    assert_string_equal(t.alg, "RS256");
    assert_string_equal(t.kid, "k1");
    assert_string_equal(t.iss, "https://issuer");
    assert_true(t.has_aud);
    assert_int_equal(t.naud, 2);
    assert_string_equal(t.aud[1], "b");
    assert_true(t.has_exp && t.exp == 2000);
    assert_true(t.has_nbf && t.nbf == 1000);
    assert_int_equal(t.signature_len, 3);
    assert_memory_equal(t.signature, "sig", 3);
    assert_int_equal(t.signing_input_len, strrchr(tok, '.') - tok);

    /* aud as one string */
    assert_int_equal(parse(p, jwt(p, "{}", "{\"aud\":\"only\"}", ""), &t), K8SSA_JOSE_OK);
    assert_true(t.has_aud && t.naud == 1);
    assert_string_equal(t.aud[0], "only");
    assert_false(t.has_exp || t.has_nbf);
    assert_null(t.alg);
}

static void test_malformed_claims_are_absent(void **state)
{
    apr_pool_t *p = *state;
    k8ssa_jws t;
    static const char *const payloads[] = {
        "{\"exp\":\"2000\",\"nbf\":null,\"aud\":7,\"iss\":1}",
        "{\"exp\":-1,\"nbf\":1e300,\"aud\":[\"a\",1],\"iss\":\"\"}",
        "{\"exp\":9223372036854775807,\"nbf\":253402300800,\"aud\":[],\"iss\":\"a\\u0001b\"}",
        "{\"exp\":true,\"nbf\":[1],\"aud\":{\"a\":1},\"iss\":[\"x\"]}",
        "{\"exp\":1e999,\"aud\":[\"\"]}",
    };
    size_t i;

    for (i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
        k8ssa_jose_status st = parse(p, jwt(p, "{\"alg\":\"RS256\"}", payloads[i], "s"), &t);
        if (st != K8SSA_JOSE_OK)
            continue;   /* json-c refusing 1e999 is fine too */
        assert_false(t.has_exp);
        assert_false(t.has_nbf);
        assert_false(t.has_aud);
        assert_null(t.iss);
    }
}

static void test_not_jwts(void **state)
{
    apr_pool_t *p = *state;
    k8ssa_jws t;
    static const char *const tokens[] = {
        "", "opaque-token", "a.b", "a.b.c.d", ".e30.", "e30..", "e30.e30",
        "e30.e30.x.", "e30.W10.",            /* payload [] is not an object */
        "e30.bnVsbA.",                       /* null */
        "e30.e30=.", "e30.e3 0.", "e30.e+0.", "e30.e/0.",
        "e30.eyJhIjoxfQx.",                  /* 4k+1 characters */
        "e30.eyJhIjoxfSB4.",                 /* trailing garbage after the object */
        "e30.eyJhIjoi/yJ9.",                 /* invalid UTF-8 */
        "e30.eyJhIjoiXHUwMDAwIn0.",          /* \u0000 */
        "e30.e30.***",                       /* signature not base64url */
    };
    size_t i;

    for (i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++) {
        if (parse(p, tokens[i], &t) != K8SSA_JOSE_NOT_JWT)
            print_error("taken as a JWT: %s\n", tokens[i]);
        assert_int_equal(parse(p, tokens[i], &t), K8SSA_JOSE_NOT_JWT);
    }
}

static void test_bad_header(void **state)
{
    apr_pool_t *p = *state;
    k8ssa_jws t;

    /* payload fine, header not an object: still a JWT, but nothing verifies */
    assert_int_equal(parse(p, apr_pstrcat(p, part(p, "[1]"), ".", part(p, "{\"exp\":5}"), ".",
                                          NULL), &t), K8SSA_JOSE_OK);
    assert_false(t.header_ok);
    assert_null(t.alg);
    assert_true(t.has_exp);
    assert_int_equal(parse(p, apr_pstrcat(p, part(p, "{\"alg\":5,\"kid\":\"a\\nb\"}"), ".",
                                          part(p, "{}"), ".", NULL), &t), K8SSA_JOSE_OK);
    assert_true(t.header_ok);
    assert_null(t.alg);
    assert_null(t.kid);
}

static void test_size_limits(void **state)
{
    apr_pool_t *p = *state;
    k8ssa_jws t;
    char *big = apr_palloc(p, K8SSA_JOSE_MAX_PART + 16), *sig;
    size_t n;

    memset(big, ' ', K8SSA_JOSE_MAX_PART + 15);
    memcpy(big, "{\"a\":1}", 7);
    big[K8SSA_JOSE_MAX_PART + 1] = '\0';           /* one byte over */
    assert_int_equal(parse(p, jwt(p, "{}", big, ""), &t), K8SSA_JOSE_NOT_JWT);
    big[K8SSA_JOSE_MAX_PART] = '\0';               /* exactly at the limit */
    assert_int_equal(parse(p, jwt(p, "{}", big, ""), &t), K8SSA_JOSE_OK);

    n = K8SSA_JOSE_MAX_SIGNATURE + 1;
    sig = apr_palloc(p, n + 1);
    memset(sig, 'x', n);
    sig[n] = '\0';
    assert_int_equal(parse(p, jwt(p, "{}", "{}", sig), &t), K8SSA_JOSE_NOT_JWT);
    sig[n - 1] = '\0';
    assert_int_equal(parse(p, jwt(p, "{}", "{}", sig), &t), K8SSA_JOSE_OK);
}

static k8ssa_jws claims(int has_exp, int64_t exp, int has_nbf, int64_t nbf)
{
    k8ssa_jws t;
    memset(&t, 0, sizeof(t));
    t.has_exp = has_exp;
    t.exp = exp;
    t.has_nbf = has_nbf;
    t.nbf = nbf;
    return t;
}

static void test_precheck_times(void **state)
{
    const int64_t now = 1700000000;
    k8ssa_jws t;
    (void)state;

    t = claims(1, now - 60, 0, 0);          /* exactly the leeway: still reviewed */
    assert_int_equal(k8ssa_precheck(&t, now, NULL, 0), K8SSA_PRECHECK_PASS);
    t = claims(1, now - 61, 0, 0);
    assert_int_equal(k8ssa_precheck(&t, now, NULL, 0), K8SSA_PRECHECK_EXPIRED);
    t = claims(1, 0, 0, 0);
    assert_int_equal(k8ssa_precheck(&t, now, NULL, 0), K8SSA_PRECHECK_EXPIRED);
    t = claims(0, 0, 1, now + 60);
    assert_int_equal(k8ssa_precheck(&t, now, NULL, 0), K8SSA_PRECHECK_PASS);
    t = claims(0, 0, 1, now + 61);
    assert_int_equal(k8ssa_precheck(&t, now, NULL, 0), K8SSA_PRECHECK_NOT_YET_VALID);
    t = claims(1, now + 3600, 1, now - 10);
    assert_int_equal(k8ssa_precheck(&t, now, NULL, 0), K8SSA_PRECHECK_PASS);
    t = claims(0, 0, 0, 0);                 /* no claims: the review decides */
    assert_int_equal(k8ssa_precheck(&t, now, NULL, 0), K8SSA_PRECHECK_PASS);
    /* the far ends of what jose.c lets through do not overflow */
    t = claims(1, INT64_C(253402300799), 1, 0);
    assert_int_equal(k8ssa_precheck(&t, now, NULL, 0), K8SSA_PRECHECK_PASS);
    assert_string_equal(k8ssa_precheck_reason(K8SSA_PRECHECK_EXPIRED), "expired");
    assert_string_equal(k8ssa_precheck_reason(K8SSA_PRECHECK_NOT_YET_VALID), "not_yet_valid");
    assert_string_equal(k8ssa_precheck_reason(K8SSA_PRECHECK_AUDIENCE), "audience");
}

static void test_precheck_audiences(void **state)
{
    const char *const mine[] = { "gw", "api" };
    const char *const tok_auds[] = { "other", "api" };
    const char *const foreign[] = { "other" };
    k8ssa_jws t = claims(0, 0, 0, 0);
    (void)state;

    t.has_aud = 1;
    t.aud = tok_auds;
    t.naud = 2;
    assert_int_equal(k8ssa_precheck(&t, 0, mine, 2), K8SSA_PRECHECK_PASS);
    t.aud = foreign;
    t.naud = 1;
    assert_int_equal(k8ssa_precheck(&t, 0, mine, 2), K8SSA_PRECHECK_AUDIENCE);
    /* no AuthK8sAudiences: the API server's own, not known here */
    assert_int_equal(k8ssa_precheck(&t, 0, NULL, 0), K8SSA_PRECHECK_PASS);
    /* no aud claim: the review decides */
    t.has_aud = 0;
    assert_int_equal(k8ssa_precheck(&t, 0, mine, 2), K8SSA_PRECHECK_PASS);
    /* expiry is checked before the audience */
    t = claims(1, 0, 0, 0);
    t.has_aud = 1;
    t.aud = foreign;
    t.naud = 1;
    assert_int_equal(k8ssa_precheck(&t, 1000, mine, 2), K8SSA_PRECHECK_EXPIRED);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, pool_setup, pool_teardown)
    const struct CMUnitTest tests[] = {
        T(test_claims),
        T(test_malformed_claims_are_absent),
        T(test_not_jwts),
        T(test_bad_header),
        T(test_size_limits),
        T(test_precheck_times),
        T(test_precheck_audiences),
    };
#undef T
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
