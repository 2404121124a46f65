/* issuer.c - the service-account issuer's keys in one child (see issuer.h). */
#include "module.h"
#include "issuer.h"

#include "apr_strings.h"
#include "apr_thread_cond.h"
#include "apr_thread_mutex.h"

#include "counters.h"
#include "jwks.h"
#include "jws.h"
#include "shield.h"

#include <string.h>

/* One fetched generation: the issuer and its keys, in a pool of its own,
 * freed when a newer one replaced it and the last request using it is done. */
typedef struct {
    apr_pool_t *pool;
    const char *issuer;
    k8ssa_jwks *keys;
    unsigned refs;               /* requests using it, under the lock */
    int retired;
} keyset;

struct k8ssa_issuer {
    k8ssa_apiclient *client;
    apr_interval_time_t wait;    /* how long a request waits for a fetch */
    unsigned max_waiters;        /* the review slots, which waiting takes too */
    unsigned long generation;    /* fetches ended (made or failed) */
    apr_thread_mutex_t *lock;
    apr_thread_cond_t *fetched;
    keyset *current;
    apr_time_t fetched_at;       /* of current */
    apr_time_t next_attempt;     /* after a failure: no fetch before */
    apr_time_t last_kid_fetch;
    int fetching;
    int last_fetch_failed;
};

apr_status_t k8ssa_issuer_create(apr_pool_t *p, k8ssa_apiclient *client,
                                 apr_interval_time_t timeout, unsigned max_waiters,
                                 k8ssa_issuer **out)
{
    k8ssa_issuer *is = apr_pcalloc(p, sizeof(*is));
    apr_status_t rv;

    is->client = client;
    is->max_waiters = max_waiters;
    is->wait = 2 * timeout + apr_time_from_sec(1);   /* two GETs */
    rv = apr_thread_mutex_create(&is->lock, APR_THREAD_MUTEX_DEFAULT, p);
    if (rv == APR_SUCCESS)
        rv = apr_thread_cond_create(&is->fetched, p);
    *out = rv == APR_SUCCESS ? is : NULL;
    return rv;
}

/* One GET, counted; the body in r's pool, or NULL (logged). */
static const char *get(k8ssa_issuer *is, request_rec *r, const char *path, size_t *len)
{
    k8ssa_api_response resp;

    k8ssa_apiclient_get(is->client, r->pool, path, &resp);
    if (resp.status != K8SSA_API_OK) {
        k8ssa_count(&k8ssa_slot->issuer_key_fetches_error);
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, K8LOG(058)
                      "AuthK8sSignatureCheck: GET %s failed: %s%s", path, resp.error,
                      resp.status == K8SSA_API_CREDENTIALS
                          ? " (the module's credential needs the ClusterRole "
                            "system:service-account-issuer-discovery)" : "");
        return NULL;
    }
    k8ssa_count(&k8ssa_slot->issuer_key_fetches_ok);
    *len = resp.body_len;
    return resp.body;
}

/* The discovery document and the key set, as a new generation; NULL when
 * either cannot be had (a failed discovery document is no key set). */
static keyset *fetch(k8ssa_issuer *is, request_rec *r)
{
    const char *doc, *why = NULL, *issuer;
    size_t len = 0;
    apr_pool_t *pool;
    keyset *ks;

    doc = get(is, r, K8SSA_DISCOVERY_PATH, &len);
    if (doc == NULL)
        return NULL;
    issuer = k8ssa_discovery_issuer(r->pool, doc, len, &why);
    if (issuer == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, K8LOG(051)
                      "AuthK8sSignatureCheck: unusable %s: %s", K8SSA_DISCOVERY_PATH, why);
        return NULL;
    }
    doc = get(is, r, K8SSA_JWKS_PATH, &len);
    if (doc == NULL)
        return NULL;
    /* Not a subpool of the child's pool, which other threads use: this
     * generation is freed on its own, when the last request lets go. */
    if (apr_pool_create_unmanaged_ex(&pool, NULL, NULL) != APR_SUCCESS)
        return NULL;
    ks = apr_pcalloc(pool, sizeof(*ks));
    ks->pool = pool;
    ks->issuer = apr_pstrdup(pool, issuer);
    ks->keys = k8ssa_jwks_parse(pool, doc, len, &why);
    if (ks->keys == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, K8LOG(052)
                      "AuthK8sSignatureCheck: unusable %s: %s", K8SSA_JWKS_PATH, why);
        apr_pool_destroy(pool);
        return NULL;
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, K8LOG(053)
                  "AuthK8sSignatureCheck: %lu key%s of issuer %s (%lu skipped)",
                  (unsigned long)ks->keys->nkeys, ks->keys->nkeys == 1 ? "" : "s",
                  ks->issuer, (unsigned long)ks->keys->skipped);
    return ks;
}

/* Under the lock. */
static void let_go(keyset *ks)
{
    if (--ks->refs == 0 && ks->retired)
        apr_pool_destroy(ks->pool);
}

/* Waits for the fetch another thread makes, holding a review slot: threads
 * waiting for keys and reviews together never take more of the child than
 * AuthK8sReviewConcurrency, so cached verdicts keep being served. 0 when no
 * slot was free or the fetch outlasted the wait. Under the lock. */
static int wait_for_fetch(k8ssa_issuer *is)
{
    unsigned long gen = is->generation;
    apr_time_t deadline = apr_time_now() + is->wait;

    if (!k8ssa_shield_take_slot(is->max_waiters))
        return 0;
    while (is->fetching && is->generation == gen) {
        apr_interval_time_t left = deadline - apr_time_now();
        if (left <= 0)
            break;
        apr_thread_cond_timedwait(is->fetched, is->lock, left);
    }
    k8ssa_shield_leave();
    return !(is->fetching && is->generation == gen);
}

static int too_old(const k8ssa_issuer *is, apr_time_t now)
{
    return now - is->fetched_at > 3 * K8SSA_ISSUER_REFRESH;
}

/*
 * The current generation, with a reference, fetched first when there is
 * none, it is 10 minutes old, or (for_kid) a token named a kid it lacks.
 * NULL with *busy 0 when none could be had, or the one there is too old to
 * trust (30 minutes); NULL with *busy 1 when a fetch is under way and this
 * thread may not wait for it. *fresh_for_kid: the set returned was fetched
 * within the last 10 s and no fetch failed since, so a kid it lacks is
 * really unknown.
 */
static keyset *take(k8ssa_issuer *is, request_rec *r, int for_kid, int *fresh_for_kid,
                    int *busy)
{
    apr_time_t now = apr_time_now();
    keyset *ks;
    int need, usable;

    *busy = 0;
    apr_thread_mutex_lock(is->lock);
    usable = is->current != NULL && !too_old(is, now);
    need = !usable || now - is->fetched_at >= K8SSA_ISSUER_REFRESH
           || (for_kid && now - is->last_kid_fetch >= K8SSA_ISSUER_RETRY);
    if (need && !is->fetching && now >= is->next_attempt
        && (!for_kid || now - is->last_kid_fetch >= K8SSA_ISSUER_RETRY)) {
        keyset *fetched;
        is->fetching = 1;
        if (for_kid)
            is->last_kid_fetch = now;
        apr_thread_mutex_unlock(is->lock);
        fetched = fetch(is, r);
        apr_thread_mutex_lock(is->lock);
        is->fetching = 0;
        is->generation++;
        is->last_fetch_failed = fetched == NULL;
        if (fetched != NULL) {
            if (is->current != NULL) {
                is->current->retired = 1;
                is->current->refs++;
                let_go(is->current);
            }
            is->current = fetched;
            is->fetched_at = apr_time_now();
        } else {
            is->next_attempt = apr_time_now() + K8SSA_ISSUER_RETRY;
        }
        apr_thread_cond_broadcast(is->fetched);
    } else if (is->fetching && (!usable || for_kid)) {
        /* A fetch is under way in another thread: its set decides. */
        if (!wait_for_fetch(is)) {
            apr_thread_mutex_unlock(is->lock);
            *busy = 1;
            return NULL;
        }
    }
    ks = is->current;
    if (ks != NULL && too_old(is, apr_time_now()))
        ks = NULL;
    if (ks != NULL)
        ks->refs++;
    if (fresh_for_kid != NULL)
        *fresh_for_kid = ks != NULL && !is->last_fetch_failed
                         && apr_time_now() - is->fetched_at < K8SSA_ISSUER_RETRY;
    apr_thread_mutex_unlock(is->lock);
    return ks;
}

static void give_back(k8ssa_issuer *is, keyset *ks)
{
    apr_thread_mutex_lock(is->lock);
    let_go(ks);
    apr_thread_mutex_unlock(is->lock);
}

k8ssa_issuer_verdict k8ssa_issuer_check(k8ssa_issuer *is, request_rec *r, const k8ssa_jws *t,
                                        const char **why)
{
    k8ssa_jws_status st;
    int fresh = 0, busy = 0;
    keyset *ks = take(is, r, 0, NULL, &busy);

    if (ks == NULL)
        return busy ? K8SSA_ISSUER_BUSY : K8SSA_ISSUER_UNAVAILABLE;
    if (t == NULL || t->iss == NULL || strcmp(t->iss, ks->issuer) != 0) {
        give_back(is, ks);
        return K8SSA_ISSUER_OTHER;
    }
    st = k8ssa_jws_verify(t, ks->keys);
    if (st == K8SSA_JWS_UNKNOWN_KID) {
        /* Maybe a key rotated in since the last fetch. */
        give_back(is, ks);
        ks = take(is, r, 1, &fresh, &busy);
        if (ks == NULL)
            return busy ? K8SSA_ISSUER_BUSY : K8SSA_ISSUER_UNAVAILABLE;
        st = strcmp(t->iss, ks->issuer) == 0 ? k8ssa_jws_verify(t, ks->keys)
                                             : K8SSA_JWS_UNKNOWN_KID;
        if (st == K8SSA_JWS_UNKNOWN_KID && !fresh) {
            /* The set could not be refreshed (a failed fetch): it may be
             * the set that is out of date, not the token. */
            give_back(is, ks);
            return K8SSA_ISSUER_UNAVAILABLE;
        }
    }
    give_back(is, ks);
    *why = k8ssa_jws_status_reason(st);
    if (st == K8SSA_JWS_TOO_MANY_KEYS)
        return K8SSA_ISSUER_UNAVAILABLE;
    return st == K8SSA_JWS_VALID ? K8SSA_ISSUER_SIGNED : K8SSA_ISSUER_FORGED;
}
