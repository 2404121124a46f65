/*
 * bearer.h - RFC 6750 "Authorization: Bearer <b64token>" parsing.
 *
 * No httpd or APR types: the parser sees untrusted bytes and is unit-tested and
 * fuzzed directly.
 */
#ifndef K8SSA_BEARER_H
#define K8SSA_BEARER_H

#include <stddef.h>

/* A token longer than this is refused as malformed (400), before any review. */
#define K8SSA_BEARER_MAX_TOKEN 16384

typedef enum {
    K8SSA_BEARER_OK = 0,       /* token_off, token_len locate the token */
    K8SSA_BEARER_ABSENT,       /* no header, or a scheme other than Bearer (401) */
    K8SSA_BEARER_EMPTY,        /* "Bearer" with no token (400) */
    K8SSA_BEARER_BAD_SYNTAX,   /* not a b64token, or junk after it (400) */
    K8SSA_BEARER_TOO_LONG      /* over K8SSA_BEARER_MAX_TOKEN (400) */
} k8ssa_bearer_status;

/*
 * Finds the token in an Authorization header value (NULL when the header is
 * absent). The scheme is matched case-insensitively; one or more spaces separate
 * it from the token; trailing spaces/tabs are tolerated. On K8SSA_BEARER_OK the
 * token is header[*token_off .. *token_off + *token_len).
 */
k8ssa_bearer_status k8ssa_bearer_parse(const char *header, size_t *token_off,
                                       size_t *token_len);

/* A short, log-safe reason for a non-OK status ("empty token", ...). */
const char *k8ssa_bearer_status_reason(k8ssa_bearer_status st);

/* 1 when every byte of s[0..len) is an RFC 6750 b64token character and any '='
 * only trails; 0 otherwise (also for len == 0). */
int k8ssa_is_b64token(const char *s, size_t len);

#endif
