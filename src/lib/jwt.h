/*
 * jwt.h - the `exp` claim of a JWT-shaped bearer token, read without
 * verifying anything.
 *
 * Only the API server decides whether a token is valid. The unverified exp is
 * used for one thing: a cached positive review never outlives it. A forged
 * exp can therefore only shorten how long a review is reused.
 */
#ifndef K8SSA_JWT_H
#define K8SSA_JWT_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

/* Decoded JWT payloads larger than this are not looked at. */
#define K8SSA_JWT_MAX_PAYLOAD 12288
/* exp beyond 9999-12-31 is not a time. */
#define K8SSA_JWT_MAX_EXP INT64_C(253402300799)

/*
 * 1 and *exp (seconds since the epoch) when token[0..len) is a compact JWS
 * (three base64url parts, the signature possibly empty) whose payload is
 * strict UTF-8 text that json-c's strict parser reads as an object with a
 * numeric exp from 0 to K8SSA_JWT_MAX_EXP; 0 otherwise (not a JWT, bad
 * base64url, not JSON, exp missing or of the wrong type or range).
 */
int k8ssa_jwt_exp(const char *token, size_t len, int64_t *exp);

/*
 * A NumericDate (RFC 7519 section 2) in v: an integer, or a number rounded
 * down, from 0 to K8SSA_JWT_MAX_EXP; 1 with *out, 0 for anything else.
 */
int k8ssa_jwt_numeric_date(json_object *v, int64_t *out);

/*
 * Decodes unpadded base64url src[0..len) into dst (room for len * 3 / 4
 * bytes); returns the decoded length, or -1 for a character outside the
 * alphabet, '=' padding, or an impossible length.
 */
long k8ssa_base64url_decode(const char *src, size_t len, unsigned char *dst);

#endif
