/*
 * accessreview.h - one SubjectAccessReview (authorization.k8s.io/v1): the
 * request body, as Go's encoding/json writes the object, and the strict
 * interpretation of the API server's answer. No transport (apiclient.h) and
 * no httpd types: unit-tested and fuzzed.
 */
#ifndef K8SSA_ACCESSREVIEW_H
#define K8SSA_ACCESSREVIEW_H

#include <stddef.h>
#include <apr_pools.h>
#include "identity.h"

#define K8SSA_ACCESSREVIEW_PATH "/apis/authorization.k8s.io/v1/subjectaccessreviews"

/* What is asked: a resource request (resource set) or a non-resource
 * request (path set). "" or NULL: not set (omitted from the body). */
typedef struct {
    const char *verb;
    const char *group;       /* "" is the core group */
    const char *resource;
    const char *subresource;
    const char *ns;          /* "" is every namespace (cluster-wide) */
    const char *name;
    const char *path;        /* non-resource requests only */
} k8ssa_access_attributes;

/*
 * The JSON body asking whether id (exactly as its TokenReview gave it) may do
 * what a describes: spec.user, uid, groups and extra (keys sorted, as Go
 * writes a map) and resourceAttributes or nonResourceAttributes.
 */
char *k8ssa_accessreview_request(apr_pool_t *p, const k8ssa_identity *id,
                                 const k8ssa_access_attributes *a);

typedef enum {
    K8SSA_ACCESS_ALLOWED = 0,
    K8SSA_ACCESS_DENIED,          /* not allowed, or explicitly denied */
    K8SSA_ACCESS_UNPARSEABLE      /* not an answer we can trust: fail closed */
} k8ssa_access_outcome;

typedef struct {
    k8ssa_access_outcome outcome;
    /* Log-safe: status.reason (and status.evaluationError), or why the answer
     * is unparseable; never sent to the client. May be NULL. */
    const char *detail;
} k8ssa_access_result;

/*
 * Interprets an answer body. status.denied true beats everything (an
 * authorizer's explicit deny); else status.allowed decides. A missing or
 * mistyped status.allowed, a reason that is not printable text, and
 * anything json.h refuses make the answer unparseable.
 */
void k8ssa_accessreview_parse(apr_pool_t *p, const char *body, size_t len,
                              k8ssa_access_result *out);

#endif
