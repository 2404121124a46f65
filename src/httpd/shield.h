/*
 * shield.h - local refusals and the review concurrency cap (see shield.c).
 */
#ifndef K8SSA_SHIELD_H
#define K8SSA_SHIELD_H

#include "httpd.h"

#include "conf.h"
#include "review.h"

/*
 * Before a TokenReview of rv's token (after a cache miss): OK to review it;
 * DONE when it is refused locally (logged and counted; the caller answers
 * 401 invalid_token and caches nothing); 503 under AuthK8sSignatureCheck
 * Require while the issuer's keys cannot be had; K8SSA_REVIEW_SHED when the
 * child's slots are all taken by reviews and threads waiting for the keys.
 */
int k8ssa_shield_token(request_rec *r, k8ssa_server_conf *sc, k8ssa_review *rv);

/* 1 when one more review may be sent from this child (then call
 * k8ssa_shield_leave() once it is done); 0 (logged, counted) beyond
 * AuthK8sReviewConcurrency. */
int k8ssa_shield_enter(request_rec *r, const k8ssa_server_conf *sc);
void k8ssa_shield_leave(void);

/* The same slots for a thread that waits for the issuer's keys (issuer.c):
 * 1 when one was free below cap (give it back with k8ssa_shield_leave()). */
int k8ssa_shield_take_slot(unsigned cap);

#endif
