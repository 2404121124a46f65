/*
 * hmac.h - HMAC-SHA256 (RFC 2104) over several pieces, on libcrypto's
 * SHA-256. A secret is keyed once (k8ssa_hmac_key_new: the digest states
 * after the inner and outer pads); each MAC then starts from copies of those
 * states: keying is the slow part, and a token key is computed on every
 * request.
 */
#ifndef K8SSA_HMAC_H
#define K8SSA_HMAC_H

#include <stddef.h>

#define K8SSA_HMAC_LEN 32

typedef struct k8ssa_hmac_key k8ssa_hmac_key;
typedef struct k8ssa_hmac k8ssa_hmac;

/* The secret keyed once, or NULL when libcrypto fails. Safe to share
 * between threads (it is only copied from). */
k8ssa_hmac_key *k8ssa_hmac_key_new(const unsigned char *secret, size_t secret_len);
void k8ssa_hmac_key_free(k8ssa_hmac_key *key);

/* A MAC under a prepared key, or NULL when libcrypto fails. */
k8ssa_hmac *k8ssa_hmac_start(const k8ssa_hmac_key *key);

/* A MAC under a secret keyed for this MAC alone, or NULL. */
k8ssa_hmac *k8ssa_hmac_new(const unsigned char *secret, size_t secret_len);

/* 1 on success. */
int k8ssa_hmac_update(k8ssa_hmac *h, const void *data, size_t len);

/* Writes the MAC and frees h (also on failure); 1 on success. */
int k8ssa_hmac_final(k8ssa_hmac *h, unsigned char out[K8SSA_HMAC_LEN]);

#endif
