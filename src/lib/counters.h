/*
 * counters.h - what the module counts for the operator (the Metrics table of
 * the contract): one slot of 64-bit counters per child process, in shared
 * memory that outlives graceful restarts (src/httpd/metrics.c makes it), each
 * updated with atomic adds by its own child only: no lock, and no cache line
 * shared with another child on the hot path. The metrics handler sums the
 * slots (metrics.h). Until a child has its slot (and in the parent) counts go
 * to a slot of the process's own, never read.
 */
#ifndef K8SSA_COUNTERS_H
#define K8SSA_COUNTERS_H

#include <apr_atomic.h>

/* k8ssa_requests_total{outcome} */
typedef enum {
    K8SSA_OUTCOME_AUTHENTICATED = 0,
    K8SSA_OUTCOME_REJECTED,
    K8SSA_OUTCOME_MALFORMED,
    K8SSA_OUTCOME_MISSING,
    K8SSA_OUTCOME_ERROR,
    K8SSA_OUTCOMES
} k8ssa_outcome;

/* the kind label */
typedef enum {
    K8SSA_KIND_TOKEN = 0,
    K8SSA_KIND_ACCESS,
    K8SSA_KINDS
} k8ssa_review_kind_label;

/* k8ssa_cache_lookups_total{result} */
typedef enum {
    K8SSA_LOOKUP_HIT = 0,
    K8SSA_LOOKUP_MISS,
    K8SSA_LOOKUP_STALE,
    K8SSA_LOOKUP_RESULTS
} k8ssa_lookup_result;

/* k8ssa_local_rejections_total{reason} */
typedef enum {
    K8SSA_REJECT_EXPIRED = 0,
    K8SSA_REJECT_NOT_YET_VALID,
    K8SSA_REJECT_AUDIENCE,
    K8SSA_REJECT_SIGNATURE,
    K8SSA_REJECT_ISSUER,
    K8SSA_REJECT_REASONS
} k8ssa_reject_reason;

/* k8ssa_reviews_total{code}: 100..599, and 0 for `error` (no answer). */
#define K8SSA_CODES 600
/* k8ssa_review_duration_seconds buckets (upper bounds, microseconds); +Inf
 * is the count. */
#define K8SSA_DURATION_BUCKETS 11
extern const apr_uint64_t k8ssa_duration_bounds_us[K8SSA_DURATION_BUCKETS];

typedef volatile apr_uint64_t k8ssa_counter;

typedef struct {
    k8ssa_counter requests[K8SSA_OUTCOMES];
    k8ssa_counter cache_lookups[K8SSA_KINDS][K8SSA_LOOKUP_RESULTS];
    k8ssa_counter reviews[K8SSA_KINDS][K8SSA_CODES];
    k8ssa_counter duration_buckets[K8SSA_KINDS][K8SSA_DURATION_BUCKETS];
    k8ssa_counter duration_sum_us[K8SSA_KINDS];
    k8ssa_counter duration_count[K8SSA_KINDS];
    k8ssa_counter coalesced_waits;
    k8ssa_counter api_connections;
    k8ssa_counter credential_reloads;
    k8ssa_counter local_rejections[K8SSA_REJECT_REASONS];
    k8ssa_counter reviews_shed;
    k8ssa_counter issuer_key_fetches_ok;
    k8ssa_counter issuer_key_fetches_error;
} k8ssa_counters;

/* This child's slot (see above). */
extern k8ssa_counters *k8ssa_slot;

static inline void k8ssa_count(k8ssa_counter *c)
{
    apr_atomic_inc64(c);
}

static inline void k8ssa_count_add(k8ssa_counter *c, apr_uint64_t n)
{
    if (n != 0)
        apr_atomic_add64(c, n);
}

/* One review's duration into the kind's histogram. */
void k8ssa_count_duration(k8ssa_review_kind_label kind, apr_uint64_t us);

/* One HTTP exchange of a review: the API server's status, or 0 when no
 * answer came. */
void k8ssa_count_review_code(k8ssa_review_kind_label kind, long code);

/* The labels' values, as the contract names them. */
const char *k8ssa_reject_reason_label(k8ssa_reject_reason r);
const char *k8ssa_outcome_label(k8ssa_outcome o);
const char *k8ssa_kind_label(k8ssa_review_kind_label k);
const char *k8ssa_lookup_label(k8ssa_lookup_result r);

#endif
