/*
 * counters.h - what the module counts in each child for the operator, kept
 * where the metrics handler will read them: plain words updated with atomic
 * adds (no lock on the hot path). This child's only, for now; the metrics
 * issue moves them into shared memory with a slot per child.
 */
#ifndef K8SSA_COUNTERS_H
#define K8SSA_COUNTERS_H

#include <apr_atomic.h>

/* k8ssa_local_rejections_total{reason} */
typedef enum {
    K8SSA_REJECT_EXPIRED = 0,
    K8SSA_REJECT_NOT_YET_VALID,
    K8SSA_REJECT_AUDIENCE,
    K8SSA_REJECT_SIGNATURE,
    K8SSA_REJECT_ISSUER,
    K8SSA_REJECT_REASONS
} k8ssa_reject_reason;

typedef struct {
    volatile apr_uint32_t local_rejections[K8SSA_REJECT_REASONS];
    volatile apr_uint32_t reviews_shed;             /* k8ssa_reviews_shed_total */
    volatile apr_uint32_t issuer_key_fetches_ok;    /* k8ssa_issuer_key_fetches_total{result} */
    volatile apr_uint32_t issuer_key_fetches_error;
} k8ssa_counters;

extern k8ssa_counters k8ssa_child_counters;

static inline void k8ssa_count(volatile apr_uint32_t *c)
{
    apr_atomic_inc32(c);
}

/* The metrics' reason label of r. */
const char *k8ssa_reject_reason_label(k8ssa_reject_reason r);

#endif
