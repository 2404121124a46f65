/*
 * jwks.h - the service-account issuer's published keys, and its discovery
 * document: GET /openid/v1/jwks and GET /.well-known/openid-configuration of
 * the API server. Both are untrusted input (strictly parsed, bounded,
 * fuzzed). Only RSA keys of 2048 to 8192 bits (public exponent at most
 * 2^32 + 1, 32768 modulus bits in the whole set) and EC P-256 keys are taken,
 * as libcrypto EVP_PKEYs; other keys are skipped (and counted), never an
 * error. Plain C with libcrypto: unit-tested and fuzzed.
 */
#ifndef K8SSA_JWKS_H
#define K8SSA_JWKS_H

#include <stddef.h>
#include <apr_pools.h>
#include <openssl/evp.h>

/* Bigger documents are refused. */
#define K8SSA_JWKS_MAX_BYTES (256 * 1024)
#define K8SSA_JWKS_MAX_KEYS 64
#define K8SSA_DISCOVERY_MAX_BYTES (64 * 1024)

typedef enum {
    K8SSA_JWK_RSA = 1,   /* RS256 */
    K8SSA_JWK_EC_P256    /* ES256 */
} k8ssa_jwk_type;

typedef struct {
    const char *kid;     /* NULL: the key has none */
    k8ssa_jwk_type type;
    EVP_PKEY *pkey;      /* freed with the key set's pool */
} k8ssa_jwk;

typedef struct {
    k8ssa_jwk *keys;
    size_t nkeys;
    size_t skipped;      /* keys of other types, uses or algorithms, or broken */
} k8ssa_jwks;

/*
 * The key set in body[0..len), allocated in p (EVP_PKEYs freed with p), or
 * NULL with a log-safe *why. A set with no usable key is refused.
 */
k8ssa_jwks *k8ssa_jwks_parse(apr_pool_t *p, const char *body, size_t len, const char **why);

/*
 * The issuer named by a discovery document (a printable https URL of at most
 * 1024 bytes), in p; NULL with a log-safe *why.
 */
const char *k8ssa_discovery_issuer(apr_pool_t *p, const char *body, size_t len,
                                   const char **why);

#endif
