/* cache.c - socache provider, instance and mutex (see cache.h). */
#include "cache.h"
#include "module.h"

#include "util_mutex.h"
#include "ap_provider.h"
#include "apr_global_mutex.h"
#include "apr_strings.h"

struct k8ssa_cache {
    const char *spec;
    const char *name;                  /* provider name */
    const ap_socache_provider_t *provider;
    ap_socache_instance_t *instance;
    apr_global_mutex_t *mutex;         /* only for NOTMPSAFE providers */
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

apr_status_t k8ssa_cache_child_init(k8ssa_cache *c, apr_pool_t *p)
{
    if (c->mutex == NULL)
        return APR_SUCCESS;
    return apr_global_mutex_child_init(&c->mutex, apr_global_mutex_lockfile(c->mutex), p);
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

apr_status_t k8ssa_cache_put(k8ssa_cache *c, server_rec *s,
                             const unsigned char key[K8SSA_TOKENKEY_LEN], apr_time_t expiry,
                             const unsigned char *buf, unsigned int len, apr_pool_t *p)
{
    apr_status_t rv = lock(c, s);

    if (rv != APR_SUCCESS)
        return rv;
    rv = c->provider->store(c->instance, s, key, K8SSA_TOKENKEY_LEN, expiry,
                            (unsigned char *)buf, len, p);
    unlock(c);
    return rv;
}

apr_status_t k8ssa_cache_remove(k8ssa_cache *c, server_rec *s,
                                const unsigned char key[K8SSA_TOKENKEY_LEN], apr_pool_t *p)
{
    apr_status_t rv = lock(c, s);

    if (rv != APR_SUCCESS)
        return rv;
    rv = c->provider->remove(c->instance, s, key, K8SSA_TOKENKEY_LEN, p);
    unlock(c);
    return rv;
}
