/*
 * shield.c - what keeps tokens that cannot be accepted, and floods of new
 * ones, from costing the API server anything ("Protecting the API server" in
 * the contract):
 *  - AuthK8sTokenPrecheck: a JWT expired, not yet valid or for none of the
 *    location's audiences is refused from its own claims;
 *  - AuthK8sSignatureCheck: a JWT of the cluster's service-account issuer
 *    must carry a good signature by one of its published keys (issuer.c);
 *    under Require, anything else is refused too. A good signature is never
 *    an identity: the TokenReview still decides;
 *  - AuthK8sReviewConcurrency: at most N reviews in flight per child.
 * Local refusals are 401 invalid_token, counted, and never cached.
 */
#include "module.h"
#include "shield.h"

#include "http_protocol.h"
#include "apr_atomic.h"

#include "counters.h"
#include "issuer.h"
#include "jose.h"
#include "precheck.h"

#include <string.h>

/* Reviews in flight in this child (all servers). */
static volatile apr_uint32_t reviews_in_flight;

/* At most once a minute per child: signature checks are off for now. */
static volatile apr_uint32_t unavailable_warned_at;

static int refuse(request_rec *r, const k8ssa_review *rv, k8ssa_reject_reason reason,
                  const char *why)
{
    k8ssa_count(&k8ssa_slot->local_rejections[reason]);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, K8LOG(054)
                  "%s refused without a review (%s): %s", k8ssa_review_subject(r, rv),
                  k8ssa_reject_reason_label(reason), why);
    return DONE;
}

static void warn_unavailable(request_rec *r)
{
    apr_uint32_t now = (apr_uint32_t)apr_time_sec(apr_time_now());
    apr_uint32_t last = apr_atomic_read32(&unavailable_warned_at);

    if (now - last >= 60 && apr_atomic_cas32(&unavailable_warned_at, now, last) == last)
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, K8LOG(055)
                      "AuthK8sSignatureCheck On: the issuer's keys cannot be had; tokens "
                      "are reviewed without signature checks meanwhile");
}

int k8ssa_shield_token(request_rec *r, k8ssa_server_conf *sc, k8ssa_review *rv)
{
    k8ssa_jws t;
    int is_jwt;
    const char *why = NULL;

    is_jwt = k8ssa_jose_parse(r->pool, rv->token, strlen(rv->token), &t) == K8SSA_JOSE_OK;
    rv->claims_read = is_jwt;
    rv->exp = is_jwt && t.has_exp ? t.exp : 0;
    if (is_jwt && rv->precheck) {
        k8ssa_precheck_result pr = k8ssa_precheck(&t, apr_time_sec(apr_time_now()),
                                                  rv->audiences, rv->naudiences);
        switch (pr) {
        case K8SSA_PRECHECK_PASS:
            break;
        case K8SSA_PRECHECK_EXPIRED:
            return refuse(r, rv, K8SSA_REJECT_EXPIRED, "its exp is past");
        case K8SSA_PRECHECK_NOT_YET_VALID:
            return refuse(r, rv, K8SSA_REJECT_NOT_YET_VALID, "its nbf is ahead");
        case K8SSA_PRECHECK_AUDIENCE:
            return refuse(r, rv, K8SSA_REJECT_AUDIENCE,
                          "its aud names none of AuthK8sAudiences");
        }
    }
    if (sc->signature_check <= K8SSA_SIGCHECK_OFF || sc->issuer == NULL)
        return OK;
    switch (k8ssa_issuer_check(sc->issuer, r, is_jwt ? &t : NULL, &why)) {
    case K8SSA_ISSUER_SIGNED:
        return OK;
    case K8SSA_ISSUER_FORGED:
        return refuse(r, rv, K8SSA_REJECT_SIGNATURE, why);
    case K8SSA_ISSUER_OTHER:
        if (sc->signature_check == K8SSA_SIGCHECK_REQUIRE)
            return refuse(r, rv, K8SSA_REJECT_ISSUER, is_jwt
                          ? "not a JWT of the cluster's service-account issuer"
                          : "not a JWT (AuthK8sSignatureCheck Require)");
        return OK;
    case K8SSA_ISSUER_BUSY:
        k8ssa_count(&k8ssa_slot->reviews_shed);
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, K8LOG(059)
                      "AuthK8sReviewConcurrency: the child's slots are taken (reviews, and "
                      "threads waiting for the issuer's keys): 503 for %s", r->uri);
        return K8SSA_REVIEW_SHED;
    case K8SSA_ISSUER_UNAVAILABLE:
        break;
    }
    if (sc->signature_check == K8SSA_SIGCHECK_REQUIRE) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, K8LOG(056)
                      "AuthK8sSignatureCheck Require: the issuer's keys cannot be had; "
                      "refusing to review %s", k8ssa_review_subject(r, rv));
        return HTTP_SERVICE_UNAVAILABLE;
    }
    warn_unavailable(r);
    return OK;
}

int k8ssa_shield_enter(request_rec *r, const k8ssa_server_conf *sc)
{
    apr_uint32_t cap = sc->review_concurrency > 0 ? (apr_uint32_t)sc->review_concurrency
                                                  : K8SSA_DEFAULT_REVIEW_CONCURRENCY;

    if (apr_atomic_inc32(&reviews_in_flight) >= cap) {
        apr_atomic_dec32(&reviews_in_flight);
        k8ssa_count(&k8ssa_slot->reviews_shed);
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, K8LOG(057)
                      "AuthK8sReviewConcurrency %u reached in this child: 503 for %s",
                      (unsigned)cap, r->uri);
        return 0;
    }
    return 1;
}

int k8ssa_shield_take_slot(unsigned cap)
{
    if (apr_atomic_inc32(&reviews_in_flight) >= cap) {
        apr_atomic_dec32(&reviews_in_flight);
        return 0;
    }
    return 1;
}

void k8ssa_shield_leave(void)
{
    apr_atomic_dec32(&reviews_in_flight);
}
