/* cache.c - socache provider, instance and mutex (see cache.h). */
#include "cache.h"
#include "module.h"

#include "util_mutex.h"
#include "ap_provider.h"
#include "apr_global_mutex.h"
#include "apr_shm.h"
#include "apr_strings.h"

#include "verdicts.h"

#include <string.h>

int k8ssa_child_cache_entries = K8SSA_DEFAULT_CHILD_CACHE_ENTRIES;

/* 16384 buckets (128 KiB): a review bumps one, so another key's copy in the
 * same bucket is read again from the socache once; rare at any review rate
 * the API server allows. */
#define EPOCH_BUCKETS 16384
#define EPOCHS_RETAINED_KEY "auth_k8ssa-epochs/1"

typedef struct {
    apr_shm_t *shm;
    k8ssa_epochs epochs;
} retained_epochs;

/* NULL: no shared memory, no child keeps verdicts of its own. */
static const k8ssa_epochs *epochs;

struct k8ssa_cache {
    const char *spec;
    const char *name;                  /* provider name */
    const ap_socache_provider_t *provider;
    ap_socache_instance_t *instance;
    apr_global_mutex_t *mutex;         /* only for NOTMPSAFE providers */
    k8ssa_verdicts *kept;              /* this child's copies; NULL: none */
};

void k8ssa_cache_register_mutex(apr_pool_t *pconf)
{
    ap_mutex_register(pconf, K8SSA_CACHE_MUTEX, NULL, APR_LOCK_DEFAULT, 0);
}

const char *k8ssa_cache_create(apr_pool_t *pconf, apr_pool_t *ptemp, const char *spec,
                               k8ssa_cache **out)
{
    k8ssa_cache *c = apr_pcalloc(pconf, sizeof(*c));
    const char *colon = strchr(spec, ':'), *args = NULL, *err;

    c->spec = apr_pstrdup(pconf, spec);
    c->name = colon ? apr_pstrmemdup(pconf, spec, (apr_size_t)(colon - spec)) : c->spec;
    if (colon)
        args = colon + 1;
    c->provider = ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP, c->name,
                                     AP_SOCACHE_PROVIDER_VERSION);
    if (c->provider == NULL)
        return apr_psprintf(ptemp, "AuthK8sCache: unknown socache provider '%s': load "
                            "mod_socache_%s before this directive (LoadModule "
                            "socache_%s_module), or write AuthK8sCache none",
                            c->name, c->name, c->name);
    if (args == NULL && strcmp(c->name, "shmcb") == 0)
        args = apr_psprintf(ptemp, "%s(%d)", ap_runtime_dir_relative(ptemp, "k8ssa-cache"),
                            K8SSA_CACHE_SHMCB_SIZE);
    err = c->provider->create(&c->instance, args, ptemp, pconf);
    if (err != NULL)
        return apr_psprintf(ptemp, "AuthK8sCache %s: %s", spec, err);
    *out = c;
    return NULL;
}

int k8ssa_cache_is_shared(const k8ssa_cache *c)
{
    return strcmp(c->name, "memcache") == 0 || strcmp(c->name, "redis") == 0;
}

const char *k8ssa_cache_spec(const k8ssa_cache *c)
{
    return c->spec;
}

static apr_status_t destroy_instance(void *data)
{
    k8ssa_cache *c = data;

    if (c->instance != NULL)
        c->provider->destroy(c->instance, NULL);
    c->instance = NULL;
    return APR_SUCCESS;
}

apr_status_t k8ssa_cache_init(k8ssa_cache *c, const char *instance, server_rec *s,
                              apr_pool_t *pconf)
{
    /* An entry is about 700 bytes for a service account; the id is the raw
     * 32-byte HMAC; shmcb sizes its index from these. */
    static struct ap_socache_hints hints = { 32, 700, 60 * APR_USEC_PER_SEC };
    apr_status_t rv;

    if (c->provider->flags & AP_SOCACHE_FLAG_NOTMPSAFE) {
        rv = ap_global_mutex_create(&c->mutex, NULL, K8SSA_CACHE_MUTEX, instance, s, pconf,
                                    0);
        if (rv != APR_SUCCESS)
            return rv;
    }
    rv = c->provider->init(c->instance, "k8ssa", &hints, s, pconf);
    if (rv != APR_SUCCESS)
        return rv;
    apr_pool_cleanup_register(pconf, c, destroy_instance, apr_pool_cleanup_null);
    return APR_SUCCESS;
}

void k8ssa_cache_epochs_init(server_rec *s)
{
    retained_epochs *re = ap_retained_data_get(EPOCHS_RETAINED_KEY);
    apr_status_t rv;

    if (re == NULL) {
        re = ap_retained_data_create(EPOCHS_RETAINED_KEY, sizeof(*re));
        memset(re, 0, sizeof(*re));
    }
    if (re->shm == NULL) {
        /* In the process pool, found again through the retained data: made
         * once, however many restarts, rather than once per configuration. */
        rv = apr_shm_create(&re->shm, EPOCH_BUCKETS * sizeof(apr_uint64_t), NULL,
                            s->process->pool);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, K8LOG(061)
                         "cannot create the shared memory of the cache epochs: children "
                         "keep no verdicts of their own (AuthK8sChildCacheEntries), every "
                         "request reads AuthK8sCache");
            re->shm = NULL;
            epochs = NULL;
            return;
        }
        memset(apr_shm_baseaddr_get(re->shm), 0, apr_shm_size_get(re->shm));
        re->epochs.counters = apr_shm_baseaddr_get(re->shm);
        re->epochs.n = EPOCH_BUCKETS;
    }
    epochs = &re->epochs;
}

apr_status_t k8ssa_cache_child_init(k8ssa_cache *c, apr_pool_t *p, server_rec *s)
{
    apr_status_t rv;

    /* Only shmcb is sure to be this server's alone: its segment belongs to
     * this parent's processes. Another host's or another httpd's write (a
     * memcache, redis, distcache, a dbm file two servers open) bumps no
     * epoch here: those caches are read every time. */
    if (epochs != NULL && k8ssa_child_cache_entries > 0 && strcmp(c->name, "shmcb") == 0) {
        rv = k8ssa_verdicts_create(p, (size_t)k8ssa_child_cache_entries, epochs, &c->kept);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, K8LOG(062)
                         "cannot make this child's verdict cache for AuthK8sCache %s: "
                         "every request reads the cache", c->spec);
            c->kept = NULL;
        }
    }
    if (c->mutex == NULL)
        return APR_SUCCESS;
    return apr_global_mutex_child_init(&c->mutex, apr_global_mutex_lockfile(c->mutex), p);
}

apr_uint64_t k8ssa_cache_epoch(const unsigned char key[K8SSA_TOKENKEY_LEN])
{
    return epochs != NULL ? k8ssa_epoch_of(epochs, key) : 0;
}

int k8ssa_cache_kept(k8ssa_cache *c, const unsigned char key[K8SSA_TOKENKEY_LEN],
                     k8ssa_entry_kind kind, k8ssa_entry *e, apr_pool_t *p)
{
    return c->kept != NULL && k8ssa_verdicts_get(c->kept, key, kind, e, p);
}

void k8ssa_cache_keep(k8ssa_cache *c, const unsigned char key[K8SSA_TOKENKEY_LEN],
                      const k8ssa_entry *e, apr_uint64_t epoch)
{
    if (c->kept != NULL)
        k8ssa_verdicts_put(c->kept, key, e, epoch);
}

/* The write's own epoch, when no other write of the key's bucket came
 * between the read before it and its bump; else 0 (keep no copy: which
 * write the socache kept is not known). */
static void bump(const unsigned char *key, apr_uint64_t before, apr_uint64_t *epoch)
{
    apr_uint64_t now = epochs != NULL ? k8ssa_epoch_bump(epochs, key) : 0;

    if (epoch != NULL)
        *epoch = now == before + 1 ? now : 0;
}

static apr_status_t lock(k8ssa_cache *c, server_rec *s)
{
    apr_status_t rv;

    if (c->mutex == NULL)
        return APR_SUCCESS;
    rv = apr_global_mutex_lock(c->mutex);
    if (rv != APR_SUCCESS)
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, K8LOG(050) "cannot lock the "
                     K8SSA_CACHE_MUTEX " mutex: the cache is skipped");
    return rv;
}

static void unlock(k8ssa_cache *c)
{
    if (c->mutex != NULL)
        apr_global_mutex_unlock(c->mutex);
}

apr_status_t k8ssa_cache_get(k8ssa_cache *c, server_rec *s,
                             const unsigned char key[K8SSA_TOKENKEY_LEN],
                             unsigned char *buf, unsigned int *len, apr_pool_t *p)
{
    apr_status_t rv = lock(c, s);

    if (rv != APR_SUCCESS)
        return rv;
    rv = c->provider->retrieve(c->instance, s, key, K8SSA_TOKENKEY_LEN, buf, len, p);
    unlock(c);
    return rv;
}

/* The bump comes after the write: a child that reads the new epoch reads
 * the new entry (or a later one). */
apr_status_t k8ssa_cache_put(k8ssa_cache *c, server_rec *s,
                             const unsigned char key[K8SSA_TOKENKEY_LEN], apr_time_t expiry,
                             const unsigned char *buf, unsigned int len, apr_pool_t *p,
                             apr_uint64_t *epoch)
{
    apr_uint64_t before = k8ssa_cache_epoch(key);
    apr_status_t rv = lock(c, s);

    if (rv == APR_SUCCESS) {
        rv = c->provider->store(c->instance, s, key, K8SSA_TOKENKEY_LEN, expiry,
                                (unsigned char *)buf, len, p);
        unlock(c);
    }
    bump(key, before, epoch);
    return rv;
}

apr_status_t k8ssa_cache_remove(k8ssa_cache *c, server_rec *s,
                                const unsigned char key[K8SSA_TOKENKEY_LEN], apr_pool_t *p,
                                apr_uint64_t *epoch)
{
    apr_uint64_t before = k8ssa_cache_epoch(key);
    apr_status_t rv = lock(c, s);

    if (rv == APR_SUCCESS) {
        rv = c->provider->remove(c->instance, s, key, K8SSA_TOKENKEY_LEN, p);
        unlock(c);
    }
    bump(key, before, epoch);
    return rv;
}
