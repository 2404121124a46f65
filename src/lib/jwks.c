/* jwks.c - issuer key set and discovery document (see jwks.h). */
#include "jwks.h"
#include "identity.h"
#include "json.h"
#include "jwt.h"

#include <apr_strings.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <string.h>

#define MAX_KID 256
#define MAX_ISSUER 1024
#define RSA_MIN_BITS 2048
#define RSA_MAX_BITS 8192
/* A token meets at most 4 keys, but a set is parsed whole: it may hold this
 * many modulus bits in all (eight 4096-bit keys). */
#define RSA_MAX_SET_BITS 32768

static apr_status_t free_pkey(void *pkey)
{
    EVP_PKEY_free(pkey);
    return APR_SUCCESS;
}

/* A string member: NULL when absent or not a string; *bad when present but
 * not a string. */
static const char *string_of(json_object *o, const char *key, size_t *len, int *bad)
{
    json_object *v;

    if (!json_object_object_get_ex(o, key, &v))
        return NULL;
    if (!json_object_is_type(v, json_type_string)) {
        *bad = 1;
        return NULL;
    }
    *len = (size_t)json_object_get_string_len(v);
    return json_object_get_string(v);
}

/* An unsigned big-endian integer in base64url (RFC 7518 section 6.3.1): no
 * leading zero byte, at most max bytes. */
static unsigned char *b64url_uint(apr_pool_t *p, json_object *jwk, const char *key, size_t max,
                                  size_t *out_len)
{
    size_t slen = 0, declen;
    int bad = 0;
    const char *s = string_of(jwk, key, &slen, &bad);
    unsigned char *buf;
    long n;

    if (s == NULL || slen == 0 || strlen(s) != slen)
        return NULL;
    declen = slen / 4 * 3 + 2;
    if (declen > max + 2)
        return NULL;
    buf = apr_palloc(p, declen + 3);
    n = k8ssa_base64url_decode(s, slen, buf);
    if (n <= 0 || (size_t)n > max)
        return NULL;
    *out_len = (size_t)n;
    return buf;
}

static EVP_PKEY *from_params(const char *type, OSSL_PARAM_BLD *bld)
{
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    EVP_PKEY *pkey = NULL;

    if (params != NULL && ctx != NULL && EVP_PKEY_fromdata_init(ctx) == 1
        && EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
        pkey = NULL;
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return pkey;
}

/* An EC public key libcrypto accepts as one: the point is on the curve.
 * (Not for RSA: OpenSSL's RSA public check is a probabilistic SP 800-56B
 * test of the modulus, slow for large keys and not deterministic on a
 * pseudoprime; rsa_key() checks what verification needs.) */
static int public_key_checks(EVP_PKEY *pkey)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    int ok = ctx != NULL && EVP_PKEY_public_check(ctx) == 1;

    EVP_PKEY_CTX_free(ctx);
    return ok;
}

static EVP_PKEY *rsa_key(apr_pool_t *p, json_object *jwk, size_t *set_bits)
{
    size_t nlen = 0, elen = 0;
    unsigned char *n = b64url_uint(p, jwk, "n", RSA_MAX_BITS / 8, &nlen);
    unsigned char *e = b64url_uint(p, jwk, "e", 8, &elen);
    BIGNUM *bn = NULL, *be = NULL;
    OSSL_PARAM_BLD *bld;
    EVP_PKEY *pkey = NULL;

    /* No leading zero bytes; the exponent odd, from 3 to 2^32 + 1 (a larger
     * one only makes every verification slower). */
    if (n == NULL || e == NULL || n[0] == 0 || (n[nlen - 1] & 1) == 0 || e[0] == 0
        || (e[elen - 1] & 1) == 0
        || (elen == 1 && e[0] < 3) || elen > 5
        || (elen == 5 && memcmp(e, "\x01\x00\x00\x00\x01", 5) != 0))
        return NULL;
    bn = BN_bin2bn(n, (int)nlen, NULL);
    be = BN_bin2bn(e, (int)elen, NULL);
    bld = OSSL_PARAM_BLD_new();
    if (bn != NULL && BN_num_bits(bn) >= RSA_MIN_BITS && (*set_bits += (size_t)BN_num_bits(bn))
        <= RSA_MAX_SET_BITS && be != NULL && bld != NULL
        && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn)
        && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be))
        pkey = from_params("RSA", bld);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn);
    BN_free(be);
    return pkey;
}

static EVP_PKEY *ec_p256_key(apr_pool_t *p, json_object *jwk)
{
    size_t xlen = 0, ylen = 0, clen = 0;
    int bad = 0;
    const char *crv = string_of(jwk, "crv", &clen, &bad);
    unsigned char *x = b64url_uint(p, jwk, "x", 32, &xlen);
    unsigned char *y = b64url_uint(p, jwk, "y", 32, &ylen);
    unsigned char point[65];
    OSSL_PARAM_BLD *bld;
    EVP_PKEY *pkey = NULL;

    /* Coordinates are exactly 32 bytes (RFC 7518 section 6.2.1.2), so a
     * leading zero byte is allowed here. */
    if (crv == NULL || strcmp(crv, "P-256") != 0 || x == NULL || y == NULL || xlen != 32
        || ylen != 32)
        return NULL;
    point[0] = 0x04;
    memcpy(point + 1, x, 32);
    memcpy(point + 33, y, 32);
    bld = OSSL_PARAM_BLD_new();
    if (bld != NULL
        && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0)
        && OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point)))
        pkey = from_params("EC", bld);
    OSSL_PARAM_BLD_free(bld);
    return pkey;
}

/* One JWK into *out; 0 when it is skipped. *set_bits: RSA modulus bits of
 * the set so far. */
static int take_key(apr_pool_t *p, json_object *jwk, k8ssa_jwk *out, size_t *set_bits)
{
    size_t len = 0, kid_len = 0;
    int bad = 0;
    const char *kty, *use, *alg, *kid;
    EVP_PKEY *pkey = NULL;

    if (!json_object_is_type(jwk, json_type_object))
        return 0;
    kty = string_of(jwk, "kty", &len, &bad);
    use = string_of(jwk, "use", &len, &bad);
    alg = string_of(jwk, "alg", &len, &bad);
    kid = string_of(jwk, "kid", &kid_len, &bad);
    if (bad || kty == NULL || (use != NULL && strcmp(use, "sig") != 0))
        return 0;
    if (kid != NULL && (kid_len == 0 || kid_len > MAX_KID || strlen(kid) != kid_len
                        || !k8ssa_is_printable(kid, kid_len)))
        return 0;
    if (strcmp(kty, "RSA") == 0 && (alg == NULL || strcmp(alg, "RS256") == 0)) {
        pkey = rsa_key(p, jwk, set_bits);
        out->type = K8SSA_JWK_RSA;
    } else if (strcmp(kty, "EC") == 0 && (alg == NULL || strcmp(alg, "ES256") == 0)) {
        pkey = ec_p256_key(p, jwk);
        out->type = K8SSA_JWK_EC_P256;
    }
    if (pkey == NULL)
        return 0;
    apr_pool_cleanup_register(p, pkey, free_pkey, apr_pool_cleanup_null);
    if (out->type == K8SSA_JWK_EC_P256 && !public_key_checks(pkey))
        return 0;
    out->pkey = pkey;
    out->kid = kid ? apr_pstrmemdup(p, kid, kid_len) : NULL;
    return 1;
}

k8ssa_jwks *k8ssa_jwks_parse(apr_pool_t *p, const char *body, size_t len, const char **why)
{
    json_object *doc, *keys;
    k8ssa_jwks *set;
    size_t n, i, set_bits = 0;

    doc = k8ssa_json_parse_strict(body, len, K8SSA_JWKS_MAX_BYTES, why);
    if (doc == NULL)
        return NULL;
    if (!json_object_is_type(doc, json_type_object)
        || !json_object_object_get_ex(doc, "keys", &keys)
        || !json_object_is_type(keys, json_type_array)) {
        json_object_put(doc);
        *why = "not a JWK set (an object with a \"keys\" array)";
        return NULL;
    }
    n = json_object_array_length(keys);
    if (n > K8SSA_JWKS_MAX_KEYS) {
        json_object_put(doc);
        *why = "more keys than a key set may hold";
        return NULL;
    }
    set = apr_pcalloc(p, sizeof(*set));
    set->keys = apr_pcalloc(p, (n ? n : 1) * sizeof(*set->keys));
    for (i = 0; i < n; i++) {
        if (take_key(p, json_object_array_get_idx(keys, i), &set->keys[set->nkeys], &set_bits))
            set->nkeys++;
        else
            set->skipped++;
    }
    json_object_put(doc);
    if (set->nkeys == 0) {
        *why = "no RS256 or ES256 signing key in the set";
        return NULL;
    }
    return set;
}

const char *k8ssa_discovery_issuer(apr_pool_t *p, const char *body, size_t len,
                                   const char **why)
{
    json_object *doc;
    const char *iss;
    size_t n = 0;
    int bad = 0;
    char *out = NULL;

    doc = k8ssa_json_parse_strict(body, len, K8SSA_DISCOVERY_MAX_BYTES, why);
    if (doc == NULL)
        return NULL;
    if (!json_object_is_type(doc, json_type_object)) {
        json_object_put(doc);
        *why = "the discovery document is not a JSON object";
        return NULL;
    }
    iss = string_of(doc, "issuer", &n, &bad);
    if (iss == NULL || n == 0 || n > MAX_ISSUER || strlen(iss) != n
        || !k8ssa_is_printable(iss, n) || strncmp(iss, "https://", 8) != 0
        || strchr(iss, ' ') != NULL)
        *why = "the discovery document names no issuer (a printable https URL)";
    else
        out = apr_pstrmemdup(p, iss, n);
    json_object_put(doc);
    return out;
}
