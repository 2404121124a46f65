/*
 * websocket.h - the bearer token of a WebSocket upgrade, carried as Kubernetes
 * accepts it: browsers cannot set Authorization on a WebSocket, so the token
 * travels as a Sec-WebSocket-Protocol entry
 *     base64url.bearer.authorization.k8s.io.<base64url(token), unpadded>
 * which is removed before the backend sees the header. Plain C, fuzzed.
 */
#ifndef K8SSA_WEBSOCKET_H
#define K8SSA_WEBSOCKET_H

#include <apr_pools.h>

#define K8SSA_WS_BEARER_PREFIX "base64url.bearer.authorization.k8s.io."

typedef enum {
    K8SSA_WS_ABSENT = 0,   /* no such entry */
    K8SSA_WS_FOUND,        /* *token and *others are set */
    K8SSA_WS_MALFORMED     /* an entry that does not decode to a bearer token, or two */
} k8ssa_ws_status;

/*
 * Looks for the bearer entry in a Sec-WebSocket-Protocol value (a comma-
 * separated list). On FOUND, *token is the decoded token (an RFC 6750
 * b64token of at most 16 KiB) and *others the remaining entries joined by
 * ", ", or NULL when none remain. On MALFORMED, *others is still the value
 * without any bearer entry (NULL when none remain), so the caller can strip it.
 */
k8ssa_ws_status k8ssa_ws_bearer(apr_pool_t *p, const char *value, const char **token,
                                const char **others);

#endif
