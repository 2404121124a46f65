/*
 * list.h - RFC 9110 comma-separated header lists (Connection,
 * Sec-WebSocket-Protocol): split, filter, join again. Plain C over untrusted
 * bytes, unit-tested and fuzzed.
 */
#ifndef K8SSA_LIST_H
#define K8SSA_LIST_H

#include <stddef.h>
#include <apr_pools.h>

/* Decides for one element (never empty, spaces and tabs around it trimmed,
 * not NUL-terminated): 1 keeps it, 0 drops it. */
typedef int (*k8ssa_list_keep_fn)(void *ctx, const char *element, size_t len);

/*
 * The non-empty elements of value that keep() keeps, joined by ", ", or NULL
 * when none is kept. *dropped (may be NULL) counts the elements keep()
 * dropped. The result never exceeds strlen(value) + (commas in value) bytes.
 */
const char *k8ssa_list_filter(apr_pool_t *p, const char *value, k8ssa_list_keep_fn keep,
                              void *ctx, size_t *dropped);

#endif
