/* counters.c - the counters and their labels (see counters.h). */
#include "counters.h"

/* The slot of a process that has none in shared memory (yet). */
static k8ssa_counters own_slot;
k8ssa_counters *k8ssa_slot = &own_slot;

const apr_uint64_t k8ssa_duration_bounds_us[K8SSA_DURATION_BUCKETS] = {
    5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000
};

void k8ssa_count_duration(k8ssa_review_kind_label kind, apr_uint64_t us)
{
    int i;

    /* Per bucket, not cumulative: the exposition adds them up. */
    for (i = 0; i < K8SSA_DURATION_BUCKETS && us > k8ssa_duration_bounds_us[i]; i++)
        ;
    if (i < K8SSA_DURATION_BUCKETS)
        k8ssa_count(&k8ssa_slot->duration_buckets[kind][i]);
    k8ssa_count_add(&k8ssa_slot->duration_sum_us[kind], us);
    k8ssa_count(&k8ssa_slot->duration_count[kind]);
}

void k8ssa_count_review_code(k8ssa_review_kind_label kind, long code)
{
    k8ssa_count(&k8ssa_slot->reviews[kind][code >= 100 && code < K8SSA_CODES ? code : 0]);
}

const char *k8ssa_reject_reason_label(k8ssa_reject_reason r)
{
    static const char *const labels[K8SSA_REJECT_REASONS] = {
        "expired", "not_yet_valid", "audience", "signature", "issuer"
    };
    return (unsigned)r < K8SSA_REJECT_REASONS ? labels[r] : "unknown";
}

const char *k8ssa_outcome_label(k8ssa_outcome o)
{
    static const char *const labels[K8SSA_OUTCOMES] = {
        "authenticated", "rejected", "malformed", "missing", "error"
    };
    return (unsigned)o < K8SSA_OUTCOMES ? labels[o] : "unknown";
}

const char *k8ssa_kind_label(k8ssa_review_kind_label k)
{
    return k == K8SSA_KIND_ACCESS ? "access" : "token";
}

const char *k8ssa_lookup_label(k8ssa_lookup_result r)
{
    static const char *const labels[K8SSA_LOOKUP_RESULTS] = { "hit", "miss", "stale" };
    return (unsigned)r < K8SSA_LOOKUP_RESULTS ? labels[r] : "unknown";
}
