/*
 * canline.h - the words of a `Require k8s-can` line, once its expressions are
 * evaluated, as the attributes of a SubjectAccessReview:
 *     VERB RESOURCE[.GROUP][/SUBRESOURCE] [NAMESPACE [NAME]]
 *     VERB /PATH
 * The words may come from the request (a namespace taken from the URL), so
 * each is checked against what Kubernetes accepts there; anything else is
 * refused, never widened (an empty namespace is not "every namespace").
 * Plain C, unit-tested and fuzzed.
 */
#ifndef K8SSA_CANLINE_H
#define K8SSA_CANLINE_H

#include <stddef.h>
#include <apr_pools.h>
#include "accessreview.h"

#define K8SSA_CAN_MAX_NAME 253     /* a DNS subdomain */
#define K8SSA_CAN_MAX_NAMESPACE 63 /* a DNS label */

/*
 * Fills *out from words[0..n) (pool copies in p); 1 on success, 0 with a
 * log-safe *why naming the bad part.
 */
/* 1 when s is a namespace name (an RFC 1123 label, at most 63). */
int k8ssa_is_namespace(const char *s);

/* 1 when s is NAMESPACE:NAME, the namespace a label and the name an RFC 1123
 * subdomain (what a ServiceAccount's name must be). */
int k8ssa_is_serviceaccount_ref(const char *s);

int k8ssa_can_attributes(apr_pool_t *p, const char *const *words, size_t n,
                         k8ssa_access_attributes *out, const char **why);

#endif
