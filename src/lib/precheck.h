/*
 * precheck.h - AuthK8sTokenPrecheck: the checks a JWT's own claims allow
 * before any review. A token whose exp is long past, whose nbf is far ahead,
 * or whose aud names none of the location's audiences cannot be accepted by
 * the API server either: it is refused locally, with no API call. The claims
 * are unverified, so they only ever refuse (a forged claim can cost its
 * sender a 401, never win an identity). Plain C: unit-tested.
 */
#ifndef K8SSA_PRECHECK_H
#define K8SSA_PRECHECK_H

#include <stddef.h>
#include <stdint.h>

#include "jose.h"

/* How far exp and nbf may be off: kube-apiserver's own leeway for JWTs. */
#define K8SSA_PRECHECK_LEEWAY 60

typedef enum {
    K8SSA_PRECHECK_PASS = 0,     /* review it */
    K8SSA_PRECHECK_EXPIRED,      /* exp more than the leeway in the past */
    K8SSA_PRECHECK_NOT_YET_VALID,/* nbf more than the leeway in the future */
    K8SSA_PRECHECK_AUDIENCE      /* aud shares none of the configured audiences */
} k8ssa_precheck_result;

/*
 * The verdict on t at `now` (seconds since the epoch). Audiences: those of
 * AuthK8sAudiences (none: the API server's own, unknown here, so aud is not
 * checked). A claim that is absent or malformed passes: the review decides.
 */
k8ssa_precheck_result k8ssa_precheck(const k8ssa_jws *t, int64_t now,
                                     const char *const *audiences, size_t naudiences);

/* "expired", "not_yet_valid", "audience" (the metrics' reason label). */
const char *k8ssa_precheck_reason(k8ssa_precheck_result r);

#endif
