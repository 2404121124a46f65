/*
 * review.h - the one review pipeline, for both kinds of review the module
 * sends: TokenReviews (authn.c) and SubjectAccessReviews (authz.c).
 *
 * A verdict is read from the cache under its key; else taken from a review
 * of the same key already under way in this child; else asked of the API
 * server, encoded as an entry, stored and handed to the waiters. While the
 * API server fails, a positive entry within its stale window stands in. The
 * kind chooses the request body, the parser, the key material (and its
 * label), the entry's kind tag and the lifetimes; everything else is shared.
 */
#ifndef K8SSA_REVIEW_H
#define K8SSA_REVIEW_H

#include "httpd.h"

#include "accessreview.h"
#include "conf.h"
#include "identity.h"
#include "tokenkey.h"

typedef struct k8ssa_review_kind k8ssa_review_kind;

/* A review not sent because this child is at AuthK8sReviewConcurrency (or
 * its threads are all waiting for the issuer's keys): answered 503 with
 * Retry-After: 1, never from a stale entry (a client can cause it). */
#define K8SSA_REVIEW_SHED (-503)

/* One question to the API server, named by its cache key. Filled by
 * k8ssa_review_of_token() or k8ssa_review_of_access(). */
typedef struct {
    const k8ssa_review_kind *kind;
    unsigned char key[K8SSA_TOKENKEY_LEN];
    k8ssa_lifetimes lifetimes;      /* of the request's location */
    /* TokenReview: the token and the audiences asked for. */
    const char *token;
    const char *const *audiences;
    size_t naudiences;
    int precheck;                   /* AuthK8sTokenPrecheck */
    /* Set by the shield, which takes a JWT apart anyway: its exp (0: none),
     * unverified, for the entry's life; claims_read 0: not a JWT to it. */
    int claims_read;
    int64_t exp;
    /* SubjectAccessReview: who (exactly as reviewed) asks to do what. */
    const k8ssa_identity *id;
    const k8ssa_access_attributes *attributes;
} k8ssa_review;

/* What the API server (or the cache on its behalf) said. */
typedef struct {
    int positive;                   /* authenticated / allowed */
    const k8ssa_identity *id;       /* the identity of an authenticated token */
} k8ssa_verdict;

/* The review of a token under d's audiences and token lifetimes; OK, or 500
 * (logged) when libcrypto cannot name it. */
int k8ssa_review_of_token(request_rec *r, const k8ssa_server_conf *sc,
                          const k8ssa_dir_conf *d, const char *token, k8ssa_review *out);

/* The review of id doing a, under d's access lifetimes; OK or 500 (logged). */
int k8ssa_review_of_access(request_rec *r, const k8ssa_server_conf *sc,
                           const k8ssa_dir_conf *d, const k8ssa_identity *id,
                           const k8ssa_access_attributes *a, k8ssa_review *out);

/*
 * The verdict on rv: OK with *out set, or the status of the failure, logged:
 * 503 while the API server cannot answer (unreachable, 5xx, 429, an answer
 * that cannot be trusted), 500 when it refuses the module's own credentials
 * or is not an API server. A failure is never a verdict and never cached.
 */
int k8ssa_review_decide(request_rec *r, k8ssa_server_conf *sc, k8ssa_review *rv,
                        k8ssa_verdict *out);

/* How a review is named in log lines: "token 1a2b3c4d5e6f", or the user
 * and what it asked. Never the token. */
const char *k8ssa_review_subject(request_rec *r, const k8ssa_review *rv);

#endif
