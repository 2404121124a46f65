/*
 * tokenreview.h - one TokenReview (authentication.k8s.io/v1): the request body
 * and the interpretation of the API server's answer. No transport here (see
 * apiclient.h) and no httpd types, so the parser is unit-tested and fuzzed.
 */
#ifndef K8SSA_TOKENREVIEW_H
#define K8SSA_TOKENREVIEW_H

#include <stddef.h>
#include <apr_pools.h>
#include "identity.h"

#define K8SSA_TOKENREVIEW_PATH "/apis/authentication.k8s.io/v1/tokenreviews"

/* Answers larger than this are not read (unparseable). */
#define K8SSA_MAX_RESPONSE_BYTES (1024 * 1024)
/* JSON nesting deeper than K8SSA_MAX_JSON_DEPTH (json.h) is unparseable. */
#include "json.h"

/*
 * The JSON body of a TokenReview for token[0..token_len) and the given
 * audiences (none: the key is omitted and the API server's own audiences
 * apply). The result holds the raw token: send it, never log it.
 */
char *k8ssa_tokenreview_request(apr_pool_t *p, const char *token, size_t token_len,
                                const char *const *audiences, size_t naudiences);

typedef enum {
    K8SSA_REVIEW_AUTHENTICATED = 0, /* *id is set */
    K8SSA_REVIEW_REJECTED,          /* authenticated false, or no audience shared */
    K8SSA_REVIEW_UNPARSEABLE        /* not a TokenReview we can trust: fail closed */
} k8ssa_review_outcome;

typedef struct {
    k8ssa_review_outcome outcome;
    k8ssa_identity *id;    /* AUTHENTICATED only */
    /* Log-safe detail: status.error for a rejection, or why the answer is
     * unparseable. Never sent to the client. May be NULL. */
    const char *detail;
} k8ssa_review_result;

/*
 * Interprets an answer body. When audiences were requested (naudiences > 0) the
 * token is accepted only if status.audiences shares at least one of them; an
 * audience-unaware API server (empty status.audiences) is thus a rejection.
 * Strings holding control characters, invalid UTF-8, wrong JSON types, depth
 * or size beyond the limits make the answer unparseable.
 */
void k8ssa_tokenreview_parse(apr_pool_t *p, const char *body, size_t len,
                             const char *const *audiences, size_t naudiences,
                             k8ssa_review_result *out);

#endif
