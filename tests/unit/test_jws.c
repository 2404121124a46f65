/*
 * test_jws.c - unit tests of src/lib/jwks.c (the issuer's key set and
 * discovery document) and src/lib/jws.c (RS256 / ES256 signatures), against
 * keys and signatures made with the openssl CLI at build time
 * (make_jws_vectors.py -> jws_vectors.h): valid, a flipped bit, the wrong
 * key, alg none, HS256 keyed by the RSA public key, ES256 with a DER
 * signature; and hostile JWK sets.
 */
#include "unit.h"

#include <string.h>

#include <apr_strings.h>
#include <json-c/json.h>

#include "jose.h"
#include "jwks.h"
#include "jws.h"
#include "jws_vectors.h"

static k8ssa_jwks *keys(apr_pool_t *p, const char *doc)
{
    const char *why = NULL;
    k8ssa_jwks *set = k8ssa_jwks_parse(p, doc, strlen(doc), &why);
    if (set == NULL)
        print_message("refused: %s\n", why);
    return set;
}

/* A key set that is valid JSON but holds no usable key: what the edited
 * sets below must be refused for (not for broken JSON). */
static void no_usable_key(apr_pool_t *p, const char *doc)
{
    const char *why = NULL;
    json_object *o = json_tokener_parse(doc);

    if (o == NULL)
        print_error("not JSON: %s\n", doc);
    assert_non_null(o);
    json_object_put(o);
    assert_null(k8ssa_jwks_parse(p, doc, strlen(doc), &why));
    assert_string_equal(why, "no RS256 or ES256 signing key in the set");
}

static k8ssa_jws_status verify(apr_pool_t *p, const k8ssa_jwks *set, const char *tok)
{
    k8ssa_jws t;
    assert_int_equal(k8ssa_jose_parse(p, tok, strlen(tok), &t), K8SSA_JOSE_OK);
    return k8ssa_jws_verify(&t, set);
}

static void test_vectors(void **state)
{
    apr_pool_t *p = *state;
    k8ssa_jwks *set = keys(p, JWKS_DOC);

    assert_non_null(set);
    assert_int_equal(set->nkeys, 2);
    assert_int_equal(set->skipped, 0);
    assert_int_equal(verify(p, set, TOK_RS256_VALID), K8SSA_JWS_VALID);
    assert_int_equal(verify(p, set, TOK_ES256_VALID), K8SSA_JWS_VALID);
    assert_int_equal(verify(p, set, TOK_RS256_NO_KID), K8SSA_JWS_VALID);
    assert_int_equal(verify(p, set, TOK_RS256_FLIPPED), K8SSA_JWS_BAD_SIGNATURE);
    assert_int_equal(verify(p, set, TOK_ES256_FLIPPED), K8SSA_JWS_BAD_SIGNATURE);
    assert_int_equal(verify(p, set, TOK_RS256_WRONG_KEY), K8SSA_JWS_BAD_SIGNATURE);
    assert_int_equal(verify(p, set, TOK_ES256_DER), K8SSA_JWS_BAD_SIGNATURE);
    assert_int_equal(verify(p, set, TOK_ES256_UNDER_RSA_KID), K8SSA_JWS_BAD_SIGNATURE);
    assert_int_equal(verify(p, set, TOK_RS256_UNKNOWN_KID), K8SSA_JWS_UNKNOWN_KID);
    assert_int_equal(verify(p, set, TOK_ALG_NONE), K8SSA_JWS_BAD_ALG);
    assert_int_equal(verify(p, set, TOK_ALG_NONE_WITH_SIG), K8SSA_JWS_BAD_ALG);
    assert_int_equal(verify(p, set, TOK_HS256_RSA_PUBKEY), K8SSA_JWS_BAD_ALG);
    assert_int_equal(verify(p, set, TOK_RS384), K8SSA_JWS_BAD_ALG);
}

static void test_each_key_alone(void **state)
{
    apr_pool_t *p = *state;
    k8ssa_jwks *rsa = keys(p, apr_pstrcat(p, "{\"keys\":[", JWK_RSA, "]}", NULL));
    k8ssa_jwks *ec = keys(p, apr_pstrcat(p, "{\"keys\":[", JWK_EC, "]}", NULL));

    assert_non_null(rsa);
    assert_non_null(ec);
    assert_int_equal(verify(p, rsa, TOK_RS256_VALID), K8SSA_JWS_VALID);
    assert_int_equal(verify(p, ec, TOK_RS256_VALID), K8SSA_JWS_UNKNOWN_KID);
    assert_int_equal(verify(p, ec, TOK_ES256_VALID), K8SSA_JWS_VALID);
    /* a kid-less token is tried with every key, of the right kind only */
    assert_int_equal(verify(p, ec, TOK_RS256_NO_KID), K8SSA_JWS_BAD_SIGNATURE);
}

/* The RSA JWK with one member replaced (an edit of the generated JSON). */
static char *rsa_jwk_with(apr_pool_t *p, const char *member, const char *value)
{
    char *jwk = apr_pstrdup(p, JWK_RSA);
    char *at = strstr(jwk, apr_pstrcat(p, "\"", member, "\": ", NULL));
    char *end;

    assert_non_null(at);
    /* "member": "value": the closing quote of the old value */
    end = strchr(at + strlen(member) + 5, '"');
    assert_non_null(end);
    *at = '\0';
    return apr_pstrcat(p, jwk, "\"", member, "\": ", value, end + 1, NULL);
}

/* A set holding only the RSA JWK with one member replaced. */
static char *rsa_with(apr_pool_t *p, const char *member, const char *value)
{
    return apr_pstrcat(p, "{\"keys\":[", rsa_jwk_with(p, member, value), "]}", NULL);
}

static void test_hostile_sets(void **state)
{
    apr_pool_t *p = *state;
    const char *why = NULL;
    static const char *const refused[] = {
        "", "[]", "{}", "{\"keys\":{}}", "{\"keys\":[]}", "{\"keys\":[1,\"x\",null]}",
        "{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}]}",
        "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}",      /* tiny modulus */
        "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"AA\",\"y\":\"AA\"}]}",
        "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\","
        "\"x\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
        "\"y\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}]}",          /* not on the curve */
        "{\"keys\":[{\"kty\":\"RSA\"}]} trailing",
        "{\"keys\":[{\"kty\":\"EC\",\"crv\":1,\"x\":\"AA\",\"y\":\"AA\"}]}",
        "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":7,\"y\":[]}]}",
        "{\"keys\":[{\"kty\":5}]}",
        "{\"keys\":[{\"kty\":\"RSA\",\"n\":{},\"e\":\"AQAB\"}]}",
    };
    size_t i;

    for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        if (k8ssa_jwks_parse(p, refused[i], strlen(refused[i]), &why) != NULL)
            print_error("accepted: %s\n", refused[i]);
        assert_null(k8ssa_jwks_parse(p, refused[i], strlen(refused[i]), &why));
        assert_non_null(why);
    }
    /* EC coordinates of the wrong length (31 and 33 bytes) */
    {
        char *ec = apr_pstrdup(p, JWK_EC), *x = strstr(ec, "\"x\": \"");
        assert_non_null(x);
        x[7] = '\0';
        no_usable_key(p, apr_pstrcat(p, "{\"keys\":[", ec, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\", ",
                                     strstr(JWK_EC, "\"y\""), "]}", NULL));
        no_usable_key(p, apr_pstrcat(p, "{\"keys\":[", ec,
                                     "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\", ",
                                     strstr(JWK_EC, "\"y\""), "]}", NULL));
    }
    /* broken members of the RSA key: each leaves no usable key */
    /* the edit itself keeps a good key good */
    assert_non_null(keys(p, rsa_with(p, "kid", "\"other\"")));
    assert_non_null(keys(p, rsa_with(p, "e", "\"Aw\"")));     /* e = 3 */
    no_usable_key(p, rsa_with(p, "e", "\"AQAC\""));        /* even exponent */
    no_usable_key(p, rsa_with(p, "e", "\"Ag\""));          /* e = 2 */
    no_usable_key(p, rsa_with(p, "e", "\"AQ\""));          /* e = 1 */
    no_usable_key(p, rsa_with(p, "e", "\"AAEAAQ\""));      /* leading zero */
    no_usable_key(p, rsa_with(p, "e", "\"AQAB=\""));       /* padding */
    no_usable_key(p, rsa_with(p, "e", "1"));               /* a number */
    no_usable_key(p, rsa_with(p, "e", "\"AQABAQABAQABAQ\"")); /* 10 bytes */
    no_usable_key(p, rsa_with(p, "kid", "5"));
    no_usable_key(p, rsa_with(p, "kid", "\"a\\u0001\""));
    no_usable_key(p, rsa_with(p, "use", "\"enc\""));
    no_usable_key(p, rsa_with(p, "alg", "\"RS512\""));
    no_usable_key(p, rsa_with(p, "kty", "\"rsa\""));
}

static void test_huge_and_duplicates(void **state)
{
    apr_pool_t *p = *state;
    k8ssa_jwks *set;
    char *doc, *n;
    size_t i;

    /* a modulus over 8192 bits */
    n = apr_palloc(p, 1500);
    memset(n, 'z', 1499);
    n[1499] = '\0';
    no_usable_key(p, rsa_with(p, "n", apr_pstrcat(p, "\"", n, "\"", NULL)));
    /* more keys than a set may hold */
    doc = apr_pstrdup(p, "{\"keys\":[");
    for (i = 0; i < K8SSA_JWKS_MAX_KEYS + 1; i++)
        doc = apr_pstrcat(p, doc, i ? "," : "", JWK_EC, NULL);
    doc = apr_pstrcat(p, doc, "]}", NULL);
    assert_null(keys(p, doc));
    /* duplicate kids: a token verifies under any of them */
    set = keys(p, apr_pstrcat(p, "{\"keys\":[", rsa_jwk_with(p, "kid", "\"ec-1\""), ",",
                              JWK_EC, "]}", NULL));
    assert_non_null(set);
    assert_int_equal(set->nkeys, 2);
    assert_int_equal(verify(p, set, TOK_ES256_VALID), K8SSA_JWS_VALID);
    /* a 2041-bit modulus (its first byte is not zero, yet it is short) */
    no_usable_key(p, apr_pstrcat(p, "{\"keys\":[", JWK_RSA_2041, "]}", NULL));
    /* exponents up to 2^32 + 1 */
    assert_non_null(keys(p, rsa_with(p, "e", "\"AQAAAAE\"")));
    no_usable_key(p, rsa_with(p, "e", "\"AQAAAAM\""));
    /* at most 32768 modulus bits in a set: the seventeenth 2048-bit key goes */
    doc = apr_pstrdup(p, "{\"keys\":[");
    for (i = 0; i < 17; i++)
        doc = apr_pstrcat(p, doc, i ? "," : "", JWK_RSA, NULL);
    set = keys(p, apr_pstrcat(p, doc, "]}", NULL));
    assert_non_null(set);
    assert_int_equal(set->nkeys, 16);
    assert_int_equal(set->skipped, 1);
    /* a token meeting many keys of its kid is tried with at most 4: past
     * them there is no verdict, not a forgery */
    assert_int_equal(verify(p, set, TOK_RS256_VALID), K8SSA_JWS_VALID);
    assert_int_equal(verify(p, set, TOK_RS256_WRONG_KEY), K8SSA_JWS_TOO_MANY_KEYS);
    /* unknown kinds are skipped and counted, not fatal */
    set = keys(p, apr_pstrcat(p, "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"AA\"},",
                              JWK_EC, "]}", NULL));
    assert_non_null(set);
    assert_int_equal(set->nkeys, 1);
    assert_int_equal(set->skipped, 1);
}

static void test_discovery(void **state)
{
    apr_pool_t *p = *state;
    const char *why = NULL, *iss;
    static const char *const refused[] = {
        "", "[]", "{}", "{\"issuer\":1}", "{\"issuer\":\"\"}",
        "{\"issuer\":\"http://kubernetes.default.svc\"}",
        "{\"issuer\":\"https://a b\"}", "{\"issuer\":\"https://a\\nb\"}",
        "{\"issuer\":\"https://a\"} x",
    };
    size_t i;

    static const char doc[] = "{\"issuer\":\"https://kubernetes.default.svc.cluster.local\","
                              "\"jwks_uri\":\"https://10.0.0.1:6443/openid/v1/jwks\"}";

    iss = k8ssa_discovery_issuer(p, doc, strlen(doc), &why);
    assert_non_null(iss);
    assert_string_equal(iss, "https://kubernetes.default.svc.cluster.local");
    for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        assert_null(k8ssa_discovery_issuer(p, refused[i], strlen(refused[i]), &why));
        assert_non_null(why);
    }
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, pool_setup, pool_teardown)
    const struct CMUnitTest tests[] = {
        T(test_vectors),
        T(test_each_key_alone),
        T(test_hostile_sets),
        T(test_huge_and_duplicates),
        T(test_discovery),
    };
#undef T
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
