/* counters.c - this child's counters (see counters.h). */
#include "counters.h"

k8ssa_counters k8ssa_child_counters;

const char *k8ssa_reject_reason_label(k8ssa_reject_reason r)
{
    static const char *const labels[K8SSA_REJECT_REASONS] = {
        "expired", "not_yet_valid", "audience", "signature", "issuer"
    };
    return (unsigned)r < K8SSA_REJECT_REASONS ? labels[r] : "unknown";
}
