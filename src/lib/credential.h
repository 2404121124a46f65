/*
 * credential.h - the module's own bearer credential (AuthK8sTokenFile).
 *
 * Projected service-account tokens rotate: the kubelet rewrites the file well
 * before expiry. The file is re-read when it changed, checked at most once per
 * check interval, and at once after the API server answered 401.
 * Thread-safe: one instance per child, used by every worker thread.
 */
#ifndef K8SSA_CREDENTIAL_H
#define K8SSA_CREDENTIAL_H

#include <apr_pools.h>
#include <apr_time.h>

#define K8SSA_CREDENTIAL_MAX_BYTES 65536

typedef struct k8ssa_credential k8ssa_credential;

/*
 * Reads `path` once (so a bad file fails at startup); the instance lives in p.
 * On failure returns the APR error and sets *why to a message for the log.
 */
apr_status_t k8ssa_credential_open(apr_pool_t *p, const char *path,
                                   apr_interval_time_t check_interval,
                                   k8ssa_credential **out, const char **why);

/*
 * Reads a token file into p: whitespace around the token is trimmed; an
 * empty file, or a token that is not an RFC 6750 b64token (it is sent as
 * "Authorization: Bearer <token>"), is an error (APR_EINVAL) with *why set.
 * A file that later becomes empty, unreadable or invalid keeps the last good
 * token in use. The token and the raw read are wiped when p is cleared or
 * destroyed.
 */
apr_status_t k8ssa_credential_read_file(apr_pool_t *p, const char *path,
                                        const char **token, const char **why);

/* The current token, copied into p; re-reads the file first when the check
 * interval has passed and its modification time or size changed. */
const char *k8ssa_credential_token(k8ssa_credential *c, apr_pool_t *p);

/*
 * Re-reads the file now, after the API server refused `refused` with a 401.
 * Returns 1 when the current token differs from it (worth a retry), also when
 * another thread has already loaded the new one.
 */
int k8ssa_credential_reload(k8ssa_credential *c, const char *refused);

/* How many times a changed token was loaded since open (for metrics). */
unsigned long k8ssa_credential_reloads(const k8ssa_credential *c);

#endif
