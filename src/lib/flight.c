/*
 * flight.c - per-child request coalescing (see flight.h).
 *
 * One mutex and one condition variable serve every flight: waits are rare
 * and short, and a broadcast that wakes a waiter of another key only costs it
 * a re-check.
 */
#include "flight.h"

#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>
#include <stdlib.h>
#include <string.h>

struct k8ssa_flight {
    unsigned char key[K8SSA_TOKENKEY_LEN];
    int landed;
    int outcome;
    unsigned char *data;    /* malloc'd */
    size_t len;
    unsigned refs;          /* the leader and its waiters */
};

struct k8ssa_flights {
    apr_thread_mutex_t *lock;
    apr_thread_cond_t *landed;
    apr_hash_t *open;       /* key -> flight still in the air */
    unsigned long waits;
};

apr_status_t k8ssa_flights_create(apr_pool_t *p, k8ssa_flights **out)
{
    k8ssa_flights *fs = apr_pcalloc(p, sizeof(*fs));
    apr_status_t rv;

    rv = apr_thread_mutex_create(&fs->lock, APR_THREAD_MUTEX_DEFAULT, p);
    if (rv == APR_SUCCESS)
        rv = apr_thread_cond_create(&fs->landed, p);
    if (rv != APR_SUCCESS)
        return rv;
    fs->open = apr_hash_make(p);
    *out = fs;
    return APR_SUCCESS;
}

/* Lock held. */
static void release(k8ssa_flight *f)
{
    if (--f->refs == 0) {
        free(f->data);
        free(f);
    }
}

k8ssa_flight_role k8ssa_flight_join(k8ssa_flights *fs,
                                    const unsigned char key[K8SSA_TOKENKEY_LEN],
                                    apr_interval_time_t wait, apr_pool_t *p,
                                    k8ssa_flight **flight, int *outcome,
                                    const unsigned char **data, size_t *len)
{
    apr_time_t deadline = apr_time_now() + wait;
    k8ssa_flight *f;
    k8ssa_flight_role role;

    apr_thread_mutex_lock(fs->lock);
    f = apr_hash_get(fs->open, key, K8SSA_TOKENKEY_LEN);
    if (f == NULL) {
        f = calloc(1, sizeof(*f));
        if (f == NULL) {  /* no coalescing, but the request still works */
            apr_thread_mutex_unlock(fs->lock);
            *flight = NULL;
            return K8SSA_FLIGHT_LEAD;
        }
        memcpy(f->key, key, K8SSA_TOKENKEY_LEN);
        f->refs = 1;
        apr_hash_set(fs->open, f->key, K8SSA_TOKENKEY_LEN, f);
        apr_thread_mutex_unlock(fs->lock);
        *flight = f;
        return K8SSA_FLIGHT_LEAD;
    }
    f->refs++;
    fs->waits++;
    while (!f->landed) {
        apr_interval_time_t left = deadline - apr_time_now();
        if (left <= 0)
            break;
        apr_thread_cond_timedwait(fs->landed, fs->lock, left);
    }
    if (f->landed) {
        role = K8SSA_FLIGHT_LANDED;
        *outcome = f->outcome;
        *data = f->data ? apr_pmemdup(p, f->data, f->len) : NULL;
        *len = f->data ? f->len : 0;
    } else {
        role = K8SSA_FLIGHT_TIMEOUT;
    }
    release(f);
    apr_thread_mutex_unlock(fs->lock);
    *flight = NULL;
    return role;
}

void k8ssa_flight_land(k8ssa_flights *fs, k8ssa_flight *f, int outcome,
                       const unsigned char *data, size_t len)
{
    if (f == NULL)
        return;
    apr_thread_mutex_lock(fs->lock);
    f->outcome = outcome;
    if (data != NULL && (f->data = malloc(len ? len : 1)) != NULL) {
        memcpy(f->data, data, len);
        f->len = len;
    }
    f->landed = 1;
    apr_hash_set(fs->open, f->key, K8SSA_TOKENKEY_LEN, NULL);
    apr_thread_cond_broadcast(fs->landed);
    release(f);
    apr_thread_mutex_unlock(fs->lock);
}

unsigned long k8ssa_flights_waits(k8ssa_flights *fs)
{
    unsigned long n;

    apr_thread_mutex_lock(fs->lock);
    n = fs->waits;
    apr_thread_mutex_unlock(fs->lock);
    return n;
}
