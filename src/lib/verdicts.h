/*
 * verdicts.h - a child process's own cache of decoded verdicts, in front of
 * the socache (shmcb): a hit takes no global lock, copies no entry and
 * checks no MAC, because the entry was verified and decoded when it came in.
 *
 * It never knows more than the socache behind it. Every store or removal of
 * a key in the socache, by any child of the host, bumps the key's epoch in a
 * table in shared memory (epochs below); a child's copy is used only while
 * the epoch it was taken under stands. So a new review anywhere on the host
 * (a rejection that ends a positive entry, a refresh) is seen by every child
 * at its next request, as when each request read the socache. The caller
 * applies the location's TTLs to what it gets (lifetime.h), as to a socache
 * entry. Caches shared between hosts (memcache, redis) do not get one: a
 * review on another host bumps no epoch here.
 *
 * Bounded: `slots` entries, each at most K8SSA_VERDICT_MAX_BYTES; larger
 * verdicts are served from the socache only. Thread-safe; values are
 * reference-counted so that an eviction never frees one being copied out. A
 * request gets its own copy of the identity, in its pool: whatever a module
 * does to the strings of one request never reaches another.
 */
#ifndef K8SSA_VERDICTS_H
#define K8SSA_VERDICTS_H

#include <stddef.h>
#include <stdint.h>
#include <apr_pools.h>

#include "entry.h"
#include "tokenkey.h"

/* The largest decoded verdict kept (identity and bookkeeping); an ordinary
 * service account's is about 600 bytes. */
#define K8SSA_VERDICT_MAX_BYTES 4096
/* Slots per set: a key may live in any of the slots of its set. */
#define K8SSA_VERDICT_WAYS 4

/* ---------------------------------------------------------------------------
 * Epochs: one 64-bit counter per bucket of keys, in memory every child maps.
 * A collision only makes a copy be read again from the socache.
 */
typedef struct {
    volatile uint64_t *counters;
    size_t n;                       /* a power of two */
} k8ssa_epochs;

/* The epoch of key now (acquire: what was stored before the bump is seen). */
uint64_t k8ssa_epoch_of(const k8ssa_epochs *ep, const unsigned char key[K8SSA_TOKENKEY_LEN]);

/* After a store or removal of key in the socache: the epoch it makes. */
uint64_t k8ssa_epoch_bump(const k8ssa_epochs *ep, const unsigned char key[K8SSA_TOKENKEY_LEN]);

/* ---------------------------------------------------------------------------
 * The cache.
 */
typedef struct k8ssa_verdicts k8ssa_verdicts;

/*
 * A cache of at least `slots` entries (rounded up to whole sets) whose copies
 * answer to the epochs `ep` (kept by pointer); its memory and values are
 * released with p. APR_EINVAL when slots is 0 or ep has no counters.
 */
apr_status_t k8ssa_verdicts_create(apr_pool_t *p, size_t slots, const k8ssa_epochs *ep,
                                   k8ssa_verdicts **out);

/*
 * The copy under key, if it is of `kind` and its epoch still stands: 1 with
 * *e filled (e->id a copy in p), or 0.
 */
int k8ssa_verdicts_get(k8ssa_verdicts *c, const unsigned char key[K8SSA_TOKENKEY_LEN],
                       k8ssa_entry_kind kind, k8ssa_entry *e, apr_pool_t *p);

/*
 * Keeps a copy of e under key, as of `epoch` (read before the socache was
 * read, or returned by the bump of the store that wrote e): a bump since then
 * makes the copy unusable at once. Replaces the key's copy, or the oldest of
 * its set. 1 when kept; 0 when e is larger than K8SSA_VERDICT_MAX_BYTES or
 * memory is short.
 */
int k8ssa_verdicts_put(k8ssa_verdicts *c, const unsigned char key[K8SSA_TOKENKEY_LEN],
                       const k8ssa_entry *e, uint64_t epoch);

/* Entries held now, and the slots (each value at most
 * K8SSA_VERDICT_MAX_BYTES: the memory bound is their product). */
size_t k8ssa_verdicts_count(k8ssa_verdicts *c);
size_t k8ssa_verdicts_capacity(const k8ssa_verdicts *c);

#endif
