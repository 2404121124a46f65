/*
 * tokenkey.h - the name of a token: HMAC-SHA256 with a secret over a label
 * of its own (K8SSA_KEY_LABEL_TOKEN), the API server URL, the sorted
 * audiences and the token, each length-prefixed. Access decisions are keyed
 * under another label, so no token key can ever name one.
 *
 * It keys cached reviews and, shortened, names a token in logs: the raw token
 * is never stored, used as a key or logged.
 */
#ifndef K8SSA_TOKENKEY_H
#define K8SSA_TOKENKEY_H

#include <stddef.h>
#include <apr_pools.h>

#include "accessreview.h"
#include "hmac.h"
#include "identity.h"

#define K8SSA_TOKENKEY_LEN 32
/* The first field of every token key, and of every access-decision key. */
#define K8SSA_KEY_LABEL_TOKEN "k8ssa-key-token-v1"
#define K8SSA_KEY_LABEL_ACCESS "k8ssa-key-access-v1"
#define K8SSA_SECRET_MIN_LEN 32

/* 0 on success; -1 when libcrypto fails. Audience order does not matter.
 * The secret comes keyed (k8ssa_hmac_key_new), once per configuration. */
int k8ssa_tokenkey(const k8ssa_hmac_key *secret,
                   const char *server_url, const char *const *audiences,
                   size_t naudiences, const char *token, size_t token_len,
                   unsigned char out[K8SSA_TOKENKEY_LEN]);

/*
 * The name of an access decision: HMAC-SHA256 over K8SSA_KEY_LABEL_ACCESS,
 * the API server URL, the identity exactly as reviewed (username, uid, the
 * groups in order, the extra keys sorted with their values in order) and
 * every attribute (unset ones as empty fields), each length-prefixed. 0 on
 * success; -1 when libcrypto fails.
 */
int k8ssa_accesskey(const k8ssa_hmac_key *secret, const char *server_url,
                    const k8ssa_identity *id, const k8ssa_access_attributes *a,
                    unsigned char out[K8SSA_TOKENKEY_LEN]);

/* The first 6 bytes of a key as 12 lower-case hex digits, for log lines. */
const char *k8ssa_tokenkey_fingerprint(apr_pool_t *p,
                                       const unsigned char key[K8SSA_TOKENKEY_LEN]);

/* Fills buf with cryptographically random bytes; 0 on success. */
int k8ssa_random_bytes(unsigned char *buf, size_t len);

#endif
