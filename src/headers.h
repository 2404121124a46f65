/*
 * headers.h - names of the identity headers: matching client-sent spoofs and
 * encoding status.user.extra keys. Plain C, unit-tested and fuzzed.
 */
#ifndef K8SSA_HEADERS_H
#define K8SSA_HEADERS_H

#include <stddef.h>
#include <apr_pools.h>

/*
 * 1 when header name `name` equals `configured` ignoring ASCII case and treating
 * '-' and '_' as the same character (CGI and many backends merge them).
 */
int k8ssa_header_name_equals(const char *name, const char *configured);

/* Same comparison, but 1 when `name` starts with `prefix`. */
int k8ssa_header_name_has_prefix(const char *name, const char *prefix);

/* 1 when s is a non-empty RFC 9110 field-name (a token). */
int k8ssa_is_header_name(const char *s);

/*
 * An extra key as Kubernetes' requestheader authenticator expects it after the
 * prefix: every byte that is not an RFC 9110 tchar, and '%', becomes %XX
 * (upper-case hex); the authenticator path-unescapes and lower-cases it.
 */
const char *k8ssa_extra_key_encode(apr_pool_t *p, const char *key);

#endif
