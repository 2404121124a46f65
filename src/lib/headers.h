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

/* The identity header names of one configuration; "" where it sets none. */
typedef struct {
    const char *user;
    const char *groups;
    const char *extra_prefix;
} k8ssa_header_names;

/*
 * 1 when a request header called `name` would pass for an identity header:
 * equal to the user or groups header, or starting with the extra prefix, by
 * k8ssa_header_name_equals' rules. len is the length of name (which need not
 * be NUL-terminated).
 */
int k8ssa_is_identity_header(const k8ssa_header_names *names, const char *name, size_t len);

/*
 * A Connection header value without the options that name identity headers
 * (a proxy removes the headers a Connection header names, so a client could
 * otherwise have it remove the module's). An option goes when any token in
 * it names one, with white space, ';' and '"' splitting tokens as well as ','
 * (mod_proxy's reading). NULL when no option remains; *removed counts the
 * options taken out.
 */
const char *k8ssa_connection_without_identity(apr_pool_t *p, const char *value,
                                              const k8ssa_header_names *names,
                                              size_t *removed);

/* 1 when s is a non-empty RFC 9110 field-name (a token). */
int k8ssa_is_header_name(const char *s);

/*
 * An extra key as Kubernetes' requestheader authenticator expects it after the
 * prefix: every byte that is not an RFC 9110 tchar, and '%', becomes %XX
 * (upper-case hex); the authenticator path-unescapes and lower-cases it.
 */
const char *k8ssa_extra_key_encode(apr_pool_t *p, const char *key);

#endif
