/*
 * fuzz_jwks.c - libFuzzer target for src/lib/jwks.c and src/lib/jws.c.
 *
 * The input as the issuer's key set (GET /openid/v1/jwks): a parsed set has
 * 1 to K8SSA_JWKS_MAX_KEYS keys, each of a known type with a public key
 * libcrypto accepts and a printable kid or none; verifying a fixed token
 * against it never crashes and never says VALID for a signature no key of
 * the set made (the token's signature is garbage). Parsing is deterministic.
 */
#include "fuzz.h"

#include "jose.h"
#include "jwks.h"
#include "jws.h"

/* header {"alg":"RS256","kid":"k"} / {"alg":"ES256"}, payload {}, a
 * signature of 64 'A' bits-worth: never made by any key. */
static const char rs_token[] = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsifQ.e30."
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
static const char es_token[] = "eyJhbGciOiJFUzI1NiJ9.e30."
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *why = NULL, *why2 = NULL;
    k8ssa_jwks *set, *again;
    k8ssa_jws t;
    size_t i;

    init_once();
    set = k8ssa_jwks_parse(pool, (const char *)data, size, &why);
    again = k8ssa_jwks_parse(pool, (const char *)data, size, &why2);
    CHECK((set == NULL) == (again == NULL));
    if (set == NULL) {
        CHECK(why != NULL);
    } else {
        CHECK(set->nkeys >= 1 && set->nkeys <= K8SSA_JWKS_MAX_KEYS);
        CHECK(set->nkeys == again->nkeys && set->skipped == again->skipped);
        for (i = 0; i < set->nkeys; i++) {
            CHECK(set->keys[i].pkey != NULL);
            CHECK(set->keys[i].type == K8SSA_JWK_RSA || set->keys[i].type == K8SSA_JWK_EC_P256);
            CHECK(set->keys[i].kid == NULL || printable(set->keys[i].kid));
        }
        CHECK(k8ssa_jose_parse(pool, rs_token, sizeof(rs_token) - 1, &t) == K8SSA_JOSE_OK);
        CHECK(k8ssa_jws_verify(&t, set) != K8SSA_JWS_VALID);
        CHECK(k8ssa_jose_parse(pool, es_token, sizeof(es_token) - 1, &t) == K8SSA_JOSE_OK);
        CHECK(k8ssa_jws_verify(&t, set) != K8SSA_JWS_VALID);
    }
    (void)k8ssa_discovery_issuer(pool, (const char *)data, size, &why);
    apr_pool_clear(pool);
    return 0;
}
