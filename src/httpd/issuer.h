/*
 * issuer.h - the cluster's service-account issuer and its keys, as one child
 * knows them (AuthK8sSignatureCheck): fetched from the API server itself on
 * first need (never at startup), with the module's credentials, refreshed
 * every 10 minutes and at once (at most every 10 s) when a token names an
 * unknown kid; one fetch at a time, the others keep using the set they have
 * or wait for the first one. A fetched set is shared by the child's threads
 * and swapped whole: a request keeps the set it took until it is done.
 */
#ifndef K8SSA_ISSUER_H
#define K8SSA_ISSUER_H

#include "httpd.h"

#include "apiclient.h"
#include "jose.h"

#define K8SSA_DISCOVERY_PATH "/.well-known/openid-configuration"
#define K8SSA_JWKS_PATH "/openid/v1/jwks"
#define K8SSA_ISSUER_REFRESH apr_time_from_sec(600)
#define K8SSA_ISSUER_RETRY apr_time_from_sec(10)

typedef struct k8ssa_issuer k8ssa_issuer;

typedef enum {
    K8SSA_ISSUER_SIGNED = 0,     /* a JWT of the issuer, signed by one of its keys */
    K8SSA_ISSUER_FORGED,         /* a JWT of the issuer whose signature does not verify */
    K8SSA_ISSUER_OTHER,          /* a JWT of another issuer, or no JWT */
    K8SSA_ISSUER_UNAVAILABLE,    /* no key set could be had (or only one too old to
                                    trust, or one that could not be refreshed for a
                                    token's unknown kid, or a kid-less token that
                                    meets more keys than are tried) */
    K8SSA_ISSUER_BUSY            /* a fetch is under way and this thread may not wait
                                    for it (no slot free, or it took too long) */
} k8ssa_issuer_verdict;

/* A cache for one API client, in the child's pool p; timeout: one fetch's
 * limit (AuthK8sTimeout), which bounds how long a request waits for the
 * fetch of another; max_waiters: AuthK8sReviewConcurrency, whose slots a
 * waiting thread takes too. */
apr_status_t k8ssa_issuer_create(apr_pool_t *p, k8ssa_apiclient *client,
                                 apr_interval_time_t timeout, unsigned max_waiters,
                                 k8ssa_issuer **out);

/*
 * The verdict on t (a parsed JWT, or NULL for a token that is none); *why
 * says what was wrong with a forged one (log-safe).
 */
k8ssa_issuer_verdict k8ssa_issuer_check(k8ssa_issuer *is, request_rec *r, const k8ssa_jws *t,
                                        const char **why);

#endif
