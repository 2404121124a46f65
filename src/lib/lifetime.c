/* lifetime.c - freshness of cached reviews (see lifetime.h). */
#include "lifetime.h"

/* The token's exp as apr_time_t, or 0 when it has none. */
static apr_time_t token_end(const k8ssa_entry *e)
{
    return e->token_exp > 0 ? apr_time_from_sec(e->token_exp) : 0;
}

static apr_time_t min_end(apr_time_t end, apr_time_t exp)
{
    return exp != 0 && exp < end ? exp : end;
}

k8ssa_freshness k8ssa_freshness_of(const k8ssa_entry *e, apr_time_t now,
                                   const k8ssa_lifetimes *l)
{
    apr_time_t exp = token_end(e);

    if (e->reviewed_at > now + K8SSA_CLOCK_SKEW)
        return K8SSA_EXPIRED;
    if (!e->positive)
        return now < e->reviewed_at + l->negative_ttl ? K8SSA_FRESH : K8SSA_EXPIRED;
    if (now < min_end(e->reviewed_at + l->ttl, exp))
        return K8SSA_FRESH;
    if (l->stale_if_error > 0 && now < min_end(e->reviewed_at + l->ttl + l->stale_if_error, exp))
        return K8SSA_STALE;
    return K8SSA_EXPIRED;
}

apr_time_t k8ssa_keep_until(const k8ssa_entry *e, apr_time_t now,
                            const k8ssa_lifetimes *longest)
{
    apr_time_t until;

    if (!e->positive)
        until = longest->negative_ttl > 0 ? e->reviewed_at + longest->negative_ttl : 0;
    else
        until = min_end(e->reviewed_at + longest->ttl + longest->stale_if_error,
                        token_end(e));
    return until > now ? until : 0;
}
