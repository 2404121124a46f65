/*
 * cache.h - the review cache on an httpd socache provider (shmcb by default,
 * memcache or redis across hosts), following mod_authn_socache and mod_ssl:
 * provider chosen at configuration time, a global mutex around every
 * operation when the provider is not multi-process safe, re-attached in each
 * child. This file knows httpd's socache API; it knows nothing of what an
 * entry holds.
 */
#ifndef K8SSA_CACHE_H
#define K8SSA_CACHE_H

#include "httpd.h"
#include "ap_socache.h"

#include "tokenkey.h"

/* The mutex type, tunable with httpd's Mutex directive. */
#define K8SSA_CACHE_MUTEX "k8ssa-cache"
/* shmcb's own default of 512 KiB holds a few hundred reviews; this holds
 * more than 10,000 typical ones (about 1 KiB each with index). */
#define K8SSA_CACHE_SHMCB_SIZE 16777216

typedef struct k8ssa_cache k8ssa_cache;

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

/* Re-attaches the mutex in a child (child_init). */
apr_status_t k8ssa_cache_child_init(k8ssa_cache *c, apr_pool_t *p);

/* Copies the entry stored under key into buf (*len: its size in, the entry's
 * size out). APR_NOTFOUND on a miss. */
apr_status_t k8ssa_cache_get(k8ssa_cache *c, server_rec *s,
                             const unsigned char key[K8SSA_TOKENKEY_LEN],
                             unsigned char *buf, unsigned int *len, apr_pool_t *p);

apr_status_t k8ssa_cache_remove(k8ssa_cache *c, server_rec *s,
                                const unsigned char key[K8SSA_TOKENKEY_LEN], apr_pool_t *p);

apr_status_t k8ssa_cache_put(k8ssa_cache *c, server_rec *s,
                             const unsigned char key[K8SSA_TOKENKEY_LEN], apr_time_t expiry,
                             const unsigned char *buf, unsigned int len, apr_pool_t *p);

#endif
