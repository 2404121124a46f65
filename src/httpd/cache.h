/*
 * cache.h - the review cache on an httpd socache provider (shmcb by default,
 * memcache or redis across hosts), following mod_authn_socache and mod_ssl:
 * provider chosen at configuration time, a global mutex around every
 * operation when the provider is not multi-process safe, re-attached in each
 * child; a large shmcb cache in parts, each with its own mutex (cache.c).
 * This file knows httpd's socache API; it knows nothing of what an entry
 * holds.
 */
#ifndef K8SSA_CACHE_H
#define K8SSA_CACHE_H

#include "httpd.h"
#include "ap_socache.h"

#include "entry.h"
#include "tokenkey.h"

/* The mutex type, tunable with httpd's Mutex directive. */
#define K8SSA_CACHE_MUTEX "k8ssa-cache"
/* shmcb's own default of 512 KiB holds a few hundred reviews; this holds
 * more than 10,000 typical ones (about 1 KiB each with index). */
#define K8SSA_CACHE_SHMCB_SIZE 16777216

typedef struct k8ssa_cache k8ssa_cache;

/* AuthK8sChildCacheEntries: verdicts each child keeps per cache. */
#define K8SSA_DEFAULT_CHILD_CACHE_ENTRIES 1024
#define K8SSA_MAX_CHILD_CACHE_ENTRIES 1048576
extern int k8ssa_child_cache_entries;

/* Registers the mutex type (pre_config). */
void k8ssa_cache_register_mutex(apr_pool_t *pconf);

/*
 * Looks up and creates the provider for spec "NAME[:ARGS]" (AuthK8sCache);
 * a bare "shmcb" gets K8SSA_CACHE_SHMCB_SIZE. Returns an error message for
 * the directive, or NULL with *out set.
 */
const char *k8ssa_cache_create(apr_pool_t *pconf, apr_pool_t *ptemp, const char *spec,
                               k8ssa_cache **out);

/* 1 for providers whose entries other hosts can read and write
 * (memcache, redis): they need AuthK8sCacheSecretFile. */
int k8ssa_cache_is_shared(const k8ssa_cache *c);

/* The spec as configured, for log lines. */
const char *k8ssa_cache_spec(const k8ssa_cache *c);

/* Creates the mutex if needed and initialises the provider (post_config);
 * both are released with pconf. `instance` tells mutexes apart. */
apr_status_t k8ssa_cache_init(k8ssa_cache *c, const char *instance, server_rec *s,
                              apr_pool_t *pconf);

/* The epochs of all caches of the host, in shared memory that outlives
 * graceful restarts (post_config, once per configuration). Without them no
 * child keeps verdicts of its own. */
void k8ssa_cache_epochs_init(server_rec *s);

/* Re-attaches the mutex in a child, and makes the child's verdict cache
 * (child_init). */
apr_status_t k8ssa_cache_child_init(k8ssa_cache *c, apr_pool_t *p, server_rec *s);

/* The key's epoch now: read it before k8ssa_cache_get(), and keep what that
 * returns with k8ssa_cache_keep() under it. 0 without epochs. */
apr_uint64_t k8ssa_cache_epoch(const unsigned char key[K8SSA_TOKENKEY_LEN]);

/* The child's copy of the verdict under key, of `kind`: 1 with *e set (the
 * identity copied into p), or 0. */
int k8ssa_cache_kept(k8ssa_cache *c, const unsigned char key[K8SSA_TOKENKEY_LEN],
                     k8ssa_entry_kind kind, k8ssa_entry *e, apr_pool_t *p);

/* Keeps a copy of e, verified and decoded, in the child, as of epoch. */
void k8ssa_cache_keep(k8ssa_cache *c, const unsigned char key[K8SSA_TOKENKEY_LEN],
                      const k8ssa_entry *e, apr_uint64_t epoch);

/* Copies the entry stored under key into buf (*len: its size in, the entry's
 * size out). APR_NOTFOUND on a miss. */
apr_status_t k8ssa_cache_get(k8ssa_cache *c, server_rec *s,
                             const unsigned char key[K8SSA_TOKENKEY_LEN],
                             unsigned char *buf, unsigned int *len, apr_pool_t *p);

/* Store and removal bump the key's epoch, also when they fail (the socache
 * may have dropped the old entry); *epoch (when not NULL): the epoch to keep
 * a copy of what was written under, or 0 when another write of the key's
 * bucket came in between (keep none). */
apr_status_t k8ssa_cache_remove(k8ssa_cache *c, server_rec *s,
                                const unsigned char key[K8SSA_TOKENKEY_LEN], apr_pool_t *p,
                                apr_uint64_t *epoch);

apr_status_t k8ssa_cache_put(k8ssa_cache *c, server_rec *s,
                             const unsigned char key[K8SSA_TOKENKEY_LEN], apr_time_t expiry,
                             const unsigned char *buf, unsigned int len, apr_pool_t *p,
                             apr_uint64_t *epoch);

#endif
