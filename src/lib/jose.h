/*
 * jose.h - a compact JWS (a JWT) taken apart without trusting it: the
 * protected header's alg and kid, the claims the module checks before a
 * review (iss, aud, exp, nbf), and the signing input and signature for
 * jws.h. Plain C over untrusted bytes: unit-tested and fuzzed.
 *
 * Nothing here is an identity. The claims only ever decide that a token is
 * *not* worth a TokenReview (prechecks, signature checks); acceptance stays
 * with the API server.
 */
#ifndef K8SSA_JOSE_H
#define K8SSA_JOSE_H

#include <stddef.h>
#include <stdint.h>
#include <apr_pools.h>

/* Decoded headers and payloads larger than this are not looked at. */
#define K8SSA_JOSE_MAX_PART 12288
/* Signatures larger than this (RSA 16384 bits) are not a JWS we verify. */
#define K8SSA_JOSE_MAX_SIGNATURE 2048
/* More audiences than this in one token: the claim is ignored. */
#define K8SSA_JOSE_MAX_AUDIENCES 64

typedef struct {
    /* Header; NULL when absent, not a string, or not printable. */
    const char *alg;
    const char *kid;
    int header_ok;             /* the header is a JSON object */

    /* Claims; a claim of the wrong type or range counts as absent. */
    const char *iss;
    const char *const *aud;    /* a string aud is a list of one */
    size_t naud;
    int has_aud;
    int has_exp, has_nbf;
    int64_t exp, nbf;          /* seconds since the epoch */

    /* What the signature covers (header '.' payload, as sent) and the
     * decoded signature. */
    const char *signing_input;
    size_t signing_input_len;
    const unsigned char *signature;
    size_t signature_len;
} k8ssa_jws;

typedef enum {
    K8SSA_JOSE_OK = 0,         /* a JWT: three base64url parts, a JSON object payload */
    K8SSA_JOSE_NOT_JWT         /* anything else (opaque token, bad base64url, bad JSON) */
} k8ssa_jose_status;

/*
 * Takes token[0..len) apart into *out (strings in p). The header is parsed
 * only when the payload is an object; a header that is not a JSON object
 * leaves header_ok 0 (no alg, no kid), and such a JWS never verifies.
 */
k8ssa_jose_status k8ssa_jose_parse(apr_pool_t *p, const char *token, size_t len,
                                   k8ssa_jws *out);

#endif
