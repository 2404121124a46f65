/*
 * hmac.h - HMAC-SHA256 (RFC 2104) over several pieces, on libcrypto's
 * SHA-256. A secret is keyed once (k8ssa_hmac_key_new: the digest states
 * after the inner and outer pads); each MAC starts from a copy of those
 * states, in a context on the caller's stack: a token key is computed on
 * every request, and keying or allocating would cost more than hashing the
 * token.
 */
#ifndef K8SSA_HMAC_H
#define K8SSA_HMAC_H

#include <stddef.h>

#include <stdint.h>

#define K8SSA_HMAC_LEN 32

typedef struct k8ssa_hmac_key k8ssa_hmac_key;

/* One MAC in progress; no allocation, wiped by k8ssa_hmac_end(). The state
 * is libcrypto's SHA256_CTX, a plain struct that a copy duplicates (the EVP
 * interface allocates on every copy); hmac.c checks that it fits. */
typedef struct {
    union {
        unsigned char bytes[128];
        uint64_t align;
    } state;
    const k8ssa_hmac_key *key;
} k8ssa_hmac;

/* The secret keyed once, or NULL when out of memory or libcrypto fails.
 * Safe to share between threads (only copied from). */
k8ssa_hmac_key *k8ssa_hmac_key_new(const unsigned char *secret, size_t secret_len);
/* Wipes and frees the key (NULL: nothing). */
void k8ssa_hmac_key_free(k8ssa_hmac_key *key);

/* Starts a MAC under key; 1 on success (0 for a NULL key). */
int k8ssa_hmac_begin(k8ssa_hmac *h, const k8ssa_hmac_key *key);

/* 1 on success. */
int k8ssa_hmac_update(k8ssa_hmac *h, const void *data, size_t len);

/* Writes the MAC and wipes h (also on failure); 1 on success. */
int k8ssa_hmac_end(k8ssa_hmac *h, unsigned char out[K8SSA_HMAC_LEN]);

#endif
