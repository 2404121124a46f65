/* precheck.c - refusals from a JWT's own claims (see precheck.h). */
#include "precheck.h"

#include <string.h>

static int shares_an_audience(const k8ssa_jws *t, const char *const *audiences, size_t n)
{
    size_t i, j;

    for (i = 0; i < t->naud; i++)
        for (j = 0; j < n; j++)
            if (strcmp(t->aud[i], audiences[j]) == 0)
                return 1;
    return 0;
}

k8ssa_precheck_result k8ssa_precheck(const k8ssa_jws *t, int64_t now,
                                     const char *const *audiences, size_t naudiences)
{
    /* exp and nbf are at most 9999-12-31 (jose.c): no overflow here. */
    if (t->has_exp && t->exp < now - K8SSA_PRECHECK_LEEWAY)
        return K8SSA_PRECHECK_EXPIRED;
    if (t->has_nbf && t->nbf > now + K8SSA_PRECHECK_LEEWAY)
        return K8SSA_PRECHECK_NOT_YET_VALID;
    if (naudiences > 0 && t->has_aud && !shares_an_audience(t, audiences, naudiences))
        return K8SSA_PRECHECK_AUDIENCE;
    return K8SSA_PRECHECK_PASS;
}

const char *k8ssa_precheck_reason(k8ssa_precheck_result r)
{
    switch (r) {
    case K8SSA_PRECHECK_EXPIRED:
        return "expired";
    case K8SSA_PRECHECK_NOT_YET_VALID:
        return "not_yet_valid";
    case K8SSA_PRECHECK_AUDIENCE:
        return "audience";
    case K8SSA_PRECHECK_PASS:
        break;
    }
    return "pass";
}
