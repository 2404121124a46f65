/*
 * identity.h - who a reviewed token is: the TokenReview's status.user plus the
 * audiences the API server confirmed. Plain C data allocated from an APR pool.
 */
#ifndef K8SSA_IDENTITY_H
#define K8SSA_IDENTITY_H

#include <stddef.h>
#include <apr_pools.h>

/* Limits on what an API server answer may carry; an answer beyond them is
 * treated as unparseable rather than exported in part. */
#define K8SSA_MAX_STRING     4096   /* one username, uid, group, key or value */
#define K8SSA_MAX_GROUPS     1024
#define K8SSA_MAX_EXTRA_KEYS 64
#define K8SSA_MAX_EXTRA_VALS 64     /* values under one extra key */
#define K8SSA_MAX_AUDIENCES  64

typedef struct {
    const char *key;
    const char **values;
    size_t nvalues;
} k8ssa_extra;

typedef struct {
    const char *username;          /* never NULL or empty once authenticated */
    const char *uid;               /* "" when the API server sent none */
    const char **groups;
    size_t ngroups;
    k8ssa_extra *extra;
    size_t nextra;
    const char **audiences;        /* status.audiences as answered */
    size_t naudiences;
} k8ssa_identity;

/*
 * For usernames "system:serviceaccount:<ns>:<name>" sets *ns and *name (pool
 * copies) and returns 1; returns 0 for any other username, or when ns or name
 * is empty or name contains ':'.
 */
int k8ssa_identity_serviceaccount(apr_pool_t *p, const char *username,
                                  const char **ns, const char **name);

/* Groups joined by sep (AuthK8sGroupsSeparator); NULL when a group holds a
 * non-empty sep, as it could not be told apart from two groups. */
const char *k8ssa_identity_join_groups(apr_pool_t *p, const k8ssa_identity *id,
                                       const char *sep);

/* Pointers to id's extra entries in out[0..nextra), sorted by key: the order
 * Go writes a map in, and the one keys are computed over. */
void k8ssa_identity_sorted_extra(const k8ssa_identity *id, const k8ssa_extra **out);

/* Groups for K8S_GROUPS: joined by ",", with each ',' and '%' inside a group
 * written %2C and %25, so a reader can split at ',' and percent-decode. */
const char *k8ssa_identity_groups_env(apr_pool_t *p, const k8ssa_identity *id);

/*
 * 1 when s[0..len) may be a username, uid, group, extra key or extra value:
 * printable (k8ssa_is_printable), at most K8SSA_MAX_STRING bytes, not
 * beginning or ending with whitespace (a space, or a Unicode space such as
 * U+00A0 that a backend's trim() would remove, turning " system:masters" into
 * "system:masters"), and not empty unless may_be_empty.
 */
int k8ssa_identity_value_ok(const char *s, size_t len, int may_be_empty);

/* 1 when s[0..len) is strict UTF-8 (RFC 3629) without control characters
 * (C0 with NUL, DEL, C1); such strings are safe to put in a header value or an
 * environment variable. */
int k8ssa_is_printable(const char *s, size_t len);

/* Like k8ssa_is_printable, but tab, CR and LF are allowed (JSON text). */
int k8ssa_is_utf8_text(const char *s, size_t len);

/* The bytes k8ssa_identity_flatten() needs for id: its strings and arrays in
 * one block. */
size_t k8ssa_identity_flat_size(const k8ssa_identity *id);

/*
 * Copies id into buf (at least k8ssa_identity_flat_size(id) bytes, aligned for
 * a pointer) with every pointer into buf: one block that one free() releases,
 * for caches that outlive a request. Returns the copy (at buf).
 */
k8ssa_identity *k8ssa_identity_flatten(const k8ssa_identity *id, void *buf);

#endif
