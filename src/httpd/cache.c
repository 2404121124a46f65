/* cache.c - socache provider, instance and mutex (see cache.h). */
#include "cache.h"
#include "module.h"

#include "util_mutex.h"
#include "ap_provider.h"
#include "apr_global_mutex.h"
#include "apr_shm.h"
#include "apr_strings.h"

#include "verdicts.h"

#include <errno.h>
#include <limits.h>
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

/* shmcb finds an id by a linear scan of one of its subcaches, under the
 * cache's one global mutex; the scan grows with the square root of the
 * entries (at most 256 subcaches of at least twice as many slots). So a
 * shmcb cache is made of parts of PART_BYTES or more, up to MAX_PARTS, each
 * with its own mutex: 16 MiB in 16 parts of 1 MiB scan 89 slots, not
 * 357, and two reviews contend only when their keys fall in one part. */
#define MAX_PARTS 16
#define PART_BYTES (1024 * 1024)

typedef struct {
    const ap_socache_provider_t *provider;
    ap_socache_instance_t *instance;
    apr_global_mutex_t *mutex;         /* only for NOTMPSAFE providers */
} cache_part;

struct k8ssa_cache {
    const char *spec;
    const char *name;                  /* provider name */
    const ap_socache_provider_t *provider;
    unsigned nparts;                   /* a power of two */
    cache_part parts[MAX_PARTS];
    k8ssa_verdicts *kept;              /* this child's copies; NULL: none */
};

/* The last byte of the key: shmcb picks its subcache by the first one. */
static cache_part *part_of(k8ssa_cache *c, const unsigned char key[K8SSA_TOKENKEY_LEN])
{
    return &c->parts[key[K8SSA_TOKENKEY_LEN - 1] & (c->nparts - 1)];
}

/* shmcb's "PATH(BYTES)" as PATH and BYTES; 0 when args are not of that form
 * (shmcb then says what is wrong with them, for one part). */
static int shmcb_path_and_size(apr_pool_t *p, const char *args, const char **path,
                               apr_int64_t *size)
{
    const char *open = strrchr(args, '(');
    size_t len = strlen(args);
    char *end;

    if (open == NULL || open == args || len < 2 || args[len - 1] != ')')
        return 0;               /* no path: the parts would have no names */
    errno = 0;
    *size = apr_strtoi64(open + 1, &end, 10);
    /* shmcb refuses UINT_MAX bytes or more: it says so for the whole size */
    if (end != args + len - 1 || end == open + 1 || errno != 0 || *size <= 0
        || *size >= (apr_int64_t)UINT_MAX)
        return 0;
    *path = apr_pstrmemdup(p, args, (apr_size_t)(open - args));
    return 1;
}

/* The parts of a shmcb cache: as many as PART_BYTES fit, a power of two. */
static unsigned shmcb_parts(apr_int64_t size)
{
    unsigned n = 1;

    while (n < MAX_PARTS && size / (2 * (apr_int64_t)n) >= PART_BYTES)
        n <<= 1;
    return n;
}

void k8ssa_cache_register_mutex(apr_pool_t *pconf)
{
    ap_mutex_register(pconf, K8SSA_CACHE_MUTEX, NULL, APR_LOCK_DEFAULT, 0);
}

const char *k8ssa_cache_create(apr_pool_t *pconf, apr_pool_t *ptemp, const char *spec,
                               k8ssa_cache **out)
{
    k8ssa_cache *c = apr_pcalloc(pconf, sizeof(*c));
    const char *colon = strchr(spec, ':'), *args = NULL, *err;
    unsigned i;

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
    c->nparts = 1;
    if (args != NULL && strcmp(c->name, "shmcb") == 0) {
        const char *path = NULL;
        apr_int64_t size = 0;
        if (shmcb_path_and_size(ptemp, args, &path, &size))
            c->nparts = shmcb_parts(size);
        for (i = 0; c->nparts > 1 && i < c->nparts; i++) {
            /* PATH.i: the file of a part where shm must be named */
            const char *part = apr_psprintf(ptemp, "%s.%u(%" APR_INT64_T_FMT ")", path, i,
                                            size / c->nparts);
            err = c->provider->create(&c->parts[i].instance, part, ptemp, pconf);
            if (err != NULL)
                return apr_psprintf(ptemp, "AuthK8sCache %s: %s", spec, err);
        }
        if (c->nparts > 1) {
            *out = c;
            return NULL;
        }
    }
    err = c->provider->create(&c->parts[0].instance, args, ptemp, pconf);
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

/* Registered after the part's init: it runs before the cleanups init
 * registered (shmcb's segment), as mod_ssl and mod_authn_socache order them. */
static apr_status_t destroy_part(void *data)
{
    cache_part *part = data;

    if (part->instance != NULL)
        part->provider->destroy(part->instance, NULL);
    part->instance = NULL;
    return APR_SUCCESS;
}

apr_status_t k8ssa_cache_init(k8ssa_cache *c, const char *instance, server_rec *s,
                              apr_pool_t *pconf)
{
    /* An entry is about 700 bytes for a service account; the id is the raw
     * 32-byte HMAC; shmcb sizes its index from these. */
    static struct ap_socache_hints hints = { 32, 700, 60 * APR_USEC_PER_SEC };
    apr_status_t rv = APR_SUCCESS;
    unsigned i;

    for (i = 0; i < c->nparts && rv == APR_SUCCESS; i++) {
        /* "0", or "0.5" for the sixth part: `Mutex` and lock files tell
         * them apart */
        const char *name = c->nparts > 1 ? apr_psprintf(pconf, "%s.%u", instance, i)
                                         : instance;
        if (c->provider->flags & AP_SOCACHE_FLAG_NOTMPSAFE) {
            rv = ap_global_mutex_create(&c->parts[i].mutex, NULL, K8SSA_CACHE_MUTEX, name, s,
                                        pconf, 0);
            if (rv != APR_SUCCESS)
                return rv;
        }
        rv = c->provider->init(c->parts[i].instance, "k8ssa", &hints, s, pconf);
        if (rv == APR_SUCCESS) {
            c->parts[i].provider = c->provider;
            apr_pool_cleanup_register(pconf, &c->parts[i], destroy_part,
                                      apr_pool_cleanup_null);
        }
    }
    return rv;
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
    unsigned i;

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
    for (i = 0; i < c->nparts; i++) {
        apr_global_mutex_t **m = &c->parts[i].mutex;
        if (*m != NULL && (rv = apr_global_mutex_child_init(m, apr_global_mutex_lockfile(*m),
                                                            p)) != APR_SUCCESS)
            return rv;
    }
    return APR_SUCCESS;
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

static apr_status_t lock(cache_part *part, server_rec *s)
{
    apr_status_t rv;

    if (part->mutex == NULL)
        return APR_SUCCESS;
    rv = apr_global_mutex_lock(part->mutex);
    if (rv != APR_SUCCESS)
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, K8LOG(050) "cannot lock the "
                     K8SSA_CACHE_MUTEX " mutex: the cache is skipped");
    return rv;
}

static void unlock(cache_part *part)
{
    if (part->mutex != NULL)
        apr_global_mutex_unlock(part->mutex);
}

apr_status_t k8ssa_cache_get(k8ssa_cache *c, server_rec *s,
                             const unsigned char key[K8SSA_TOKENKEY_LEN],
                             unsigned char *buf, unsigned int *len, apr_pool_t *p)
{
    cache_part *part = part_of(c, key);
    apr_status_t rv = lock(part, s);

    if (rv != APR_SUCCESS)
        return rv;
    rv = c->provider->retrieve(part->instance, s, key, K8SSA_TOKENKEY_LEN, buf, len, p);
    unlock(part);
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
    cache_part *part = part_of(c, key);
    apr_status_t rv = lock(part, s);

    if (rv == APR_SUCCESS) {
        rv = c->provider->store(part->instance, s, key, K8SSA_TOKENKEY_LEN, expiry,
                                (unsigned char *)buf, len, p);
        unlock(part);
    }
    bump(key, before, epoch);
    return rv;
}

apr_status_t k8ssa_cache_remove(k8ssa_cache *c, server_rec *s,
                                const unsigned char key[K8SSA_TOKENKEY_LEN], apr_pool_t *p,
                                apr_uint64_t *epoch)
{
    apr_uint64_t before = k8ssa_cache_epoch(key);
    cache_part *part = part_of(c, key);
    apr_status_t rv = lock(part, s);

    if (rv == APR_SUCCESS) {
        rv = c->provider->remove(part->instance, s, key, K8SSA_TOKENKEY_LEN, p);
        unlock(part);
    }
    bump(key, before, epoch);
    return rv;
}
