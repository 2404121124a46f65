/*
 * jws.h - the signature of a compact JWS against the issuer's keys:
 * RS256 (RSASSA-PKCS1-v1_5 with SHA-256) and ES256 (ECDSA P-256 with
 * SHA-256, the raw r||s of RFC 7518 section 3.4) only. The header's alg
 * chooses nothing else: "none", HS256 (which would take an RSA public key as
 * its HMAC secret), RS384 and the rest are refused whatever the keys.
 * Plain C with libcrypto: unit-tested against openssl CLI vectors.
 */
#ifndef K8SSA_JWS_H
#define K8SSA_JWS_H

#include "jose.h"
#include "jwks.h"

typedef enum {
    K8SSA_JWS_VALID = 0,        /* signed by a key of the set */
    K8SSA_JWS_UNKNOWN_KID,      /* no key of the set has its kid (refresh, then refuse) */
    K8SSA_JWS_BAD_ALG,          /* alg absent, or not RS256 / ES256 */
    K8SSA_JWS_BAD_SIGNATURE,    /* no key of the right kind verifies it */
    K8SSA_JWS_TOO_MANY_KEYS     /* the keys tried did not verify it, others were not
                                   tried (K8SSA_JWS_MAX_TRIES): no verdict */
} k8ssa_jws_status;

/* A token is tried with at most this many keys (a kid-less one, or a kid
 * several keys share): refusals are not cached, so each costs that much. */
#define K8SSA_JWS_MAX_TRIES 4

/*
 * Verifies t with the keys of `set` of the kind its alg names, those with
 * its kid when it has one (a kid-less token is tried with every such key, at
 * most K8SSA_JWS_MAX_TRIES of them).
 */
k8ssa_jws_status k8ssa_jws_verify(const k8ssa_jws *t, const k8ssa_jwks *set);

const char *k8ssa_jws_status_reason(k8ssa_jws_status st);

#endif
