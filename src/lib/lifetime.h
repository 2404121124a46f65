/*
 * lifetime.h - how long a cached review may be used.
 *
 * Directory TTLs apply when an entry is read, so locations with different
 * TTLs share entries; what is stored is kept for the longest any location
 * could want it.
 */
#ifndef K8SSA_LIFETIME_H
#define K8SSA_LIFETIME_H

#include <apr_time.h>

#include "entry.h"

/* How far a host sharing the cache may be ahead: an entry reviewed later
 * than now plus this is not trusted (its TTL would stretch by the skew). */
#define K8SSA_CLOCK_SKEW apr_time_from_sec(5)

typedef struct {
    apr_interval_time_t ttl;             /* AuthK8sCacheTTL: positive reviews */
    apr_interval_time_t negative_ttl;    /* AuthK8sNegativeCacheTTL; 0: not cached */
    apr_interval_time_t stale_if_error;  /* AuthK8sStaleIfError; 0: never */
} k8ssa_lifetimes;

typedef enum {
    K8SSA_FRESH = 0,    /* use it */
    K8SSA_STALE,        /* review again; use it only if the API server fails */
    K8SSA_EXPIRED       /* review again */
} k8ssa_freshness;

/*
 * A positive entry is fresh for ttl after reviewed_at, and usable stale for
 * stale_if_error more; never at or past the token's exp. A negative entry is
 * fresh for negative_ttl and never stale. An entry reviewed more than
 * K8SSA_CLOCK_SKEW in the future is expired.
 */
k8ssa_freshness k8ssa_freshness_of(const k8ssa_entry *e, apr_time_t now,
                                   const k8ssa_lifetimes *l);

/*
 * When the cache may drop the entry, given the longest lifetimes configured
 * anywhere; 0 when it is not worth storing (already unusable, or negative
 * caching is off everywhere).
 */
apr_time_t k8ssa_keep_until(const k8ssa_entry *e, apr_time_t now,
                            const k8ssa_lifetimes *longest);

#endif
