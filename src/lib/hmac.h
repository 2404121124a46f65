/*
 * hmac.h - HMAC-SHA256 over several pieces (libcrypto). The algorithm is
 * fetched once per process: fetching is the slow part, and this runs on every
 * cache hit.
 */
#ifndef K8SSA_HMAC_H
#define K8SSA_HMAC_H

#include <stddef.h>

#define K8SSA_HMAC_LEN 32

typedef struct k8ssa_hmac k8ssa_hmac;

/* A keyed context, or NULL when libcrypto fails. */
k8ssa_hmac *k8ssa_hmac_new(const unsigned char *secret, size_t secret_len);

/* 1 on success. */
int k8ssa_hmac_update(k8ssa_hmac *h, const void *data, size_t len);

/* Writes the MAC and frees h (also on failure); 1 on success. */
int k8ssa_hmac_final(k8ssa_hmac *h, unsigned char out[K8SSA_HMAC_LEN]);

#endif
