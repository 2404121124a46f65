/* verdicts.c - a child's cache of decoded verdicts (see verdicts.h). */
#include "verdicts.h"

#include <apr_thread_mutex.h>
#include <stdlib.h>
#include <string.h>

/* Locks are striped over the sets: two requests contend only when their
 * keys fall in sets of the same stripe. */
#define STRIPES 64

typedef struct {
    volatile uint32_t refs;         /* the table's, and each copy being made */
    uint64_t epoch;                 /* the key's epoch the copy was taken under */
    unsigned char key[K8SSA_TOKENKEY_LEN];
    size_t id_bytes;                /* of the identity's one-block copy; 0: none */
    k8ssa_entry entry;              /* entry.id points after this header */
} k8ssa_held_verdict;

typedef struct {
    k8ssa_held_verdict *value;      /* NULL: free */
    uint64_t stamp;                 /* when it was filled: the oldest goes first */
} slot;

struct k8ssa_verdicts {
    const k8ssa_epochs *ep;
    size_t nsets;                   /* a power of two */
    slot *slots;                    /* nsets * K8SSA_VERDICT_WAYS */
    apr_thread_mutex_t *locks[STRIPES];
    volatile uint64_t clock;
};

/* Keys are HMAC outputs: any of their bytes are as good as a hash. */
static uint64_t key_bits(const unsigned char *key, size_t at)
{
    uint64_t v;
    memcpy(&v, key + at, sizeof(v));
    return v;
}

static size_t epoch_index(const k8ssa_epochs *ep, const unsigned char *key)
{
    return (size_t)(key_bits(key, 8) & (ep->n - 1));
}

uint64_t k8ssa_epoch_of(const k8ssa_epochs *ep, const unsigned char key[K8SSA_TOKENKEY_LEN])
{
    return __atomic_load_n(&ep->counters[epoch_index(ep, key)], __ATOMIC_ACQUIRE);
}

uint64_t k8ssa_epoch_bump(const k8ssa_epochs *ep, const unsigned char key[K8SSA_TOKENKEY_LEN])
{
    return __atomic_add_fetch(&ep->counters[epoch_index(ep, key)], 1, __ATOMIC_ACQ_REL);
}

static size_t set_of(const k8ssa_verdicts *c, const unsigned char *key)
{
    return (size_t)(key_bits(key, 0) & (c->nsets - 1));
}

static apr_thread_mutex_t *lock_of(const k8ssa_verdicts *c, size_t set)
{
    return c->locks[set & (STRIPES - 1)];
}

static void release(k8ssa_held_verdict *held)
{
    if (held != NULL && __atomic_sub_fetch(&held->refs, 1, __ATOMIC_ACQ_REL) == 0)
        free(held);
}

static apr_status_t destroy(void *data)
{
    k8ssa_verdicts *c = data;
    size_t i;

    for (i = 0; i < c->nsets * K8SSA_VERDICT_WAYS; i++) {
        release(c->slots[i].value);
        c->slots[i].value = NULL;
    }
    free(c->slots);
    c->slots = NULL;
    return APR_SUCCESS;
}

apr_status_t k8ssa_verdicts_create(apr_pool_t *p, size_t slots, const k8ssa_epochs *ep,
                                   k8ssa_verdicts **out)
{
    k8ssa_verdicts *c;
    size_t nsets = 1, i;
    apr_status_t rv;

    if (slots == 0 || ep == NULL || ep->counters == NULL || ep->n == 0
        || (ep->n & (ep->n - 1)) != 0)
        return APR_EINVAL;
    while (nsets * K8SSA_VERDICT_WAYS < slots)
        nsets <<= 1;
    c = apr_pcalloc(p, sizeof(*c));
    c->ep = ep;
    c->nsets = nsets;
    for (i = 0; i < STRIPES; i++) {
        rv = apr_thread_mutex_create(&c->locks[i], APR_THREAD_MUTEX_DEFAULT, p);
        if (rv != APR_SUCCESS)
            return rv;
    }
    c->slots = calloc(nsets * K8SSA_VERDICT_WAYS, sizeof(slot));
    if (c->slots == NULL)
        return APR_ENOMEM;
    /* registered after the mutexes: runs before they are destroyed */
    apr_pool_cleanup_register(p, c, destroy, apr_pool_cleanup_null);
    *out = c;
    return APR_SUCCESS;
}

/* The slot of key in its set, or NULL. Under the set's lock. */
static slot *find(k8ssa_verdicts *c, size_t set, const unsigned char *key)
{
    slot *s = &c->slots[set * K8SSA_VERDICT_WAYS];
    int w;

    for (w = 0; w < K8SSA_VERDICT_WAYS; w++)
        if (s[w].value != NULL && memcmp(s[w].value->key, key, K8SSA_TOKENKEY_LEN) == 0)
            return &s[w];
    return NULL;
}

int k8ssa_verdicts_get(k8ssa_verdicts *c, const unsigned char key[K8SSA_TOKENKEY_LEN],
                       k8ssa_entry_kind kind, k8ssa_entry *e, apr_pool_t *p)
{
    uint64_t epoch = k8ssa_epoch_of(c->ep, key);
    size_t set = set_of(c, key);
    k8ssa_held_verdict *v = NULL, *gone = NULL;
    slot *s;

    apr_thread_mutex_lock(lock_of(c, set));
    s = find(c, set, key);
    if (s != NULL) {
        if (s->value->epoch < epoch) {
            gone = s->value;    /* somebody stored or removed the key since */
            s->value = NULL;
        } else if (s->value->epoch == epoch && s->value->entry.kind == kind) {
            v = s->value;
            __atomic_add_fetch(&v->refs, 1, __ATOMIC_RELAXED);
        }
    }
    apr_thread_mutex_unlock(lock_of(c, set));
    release(gone);
    if (v == NULL)
        return 0;
    /* Copied out of the lock; the reference keeps it from an eviction. */
    *e = v->entry;
    if (v->entry.id != NULL)
        e->id = k8ssa_identity_flatten(v->entry.id, apr_palloc(p, v->id_bytes));
    release(v);
    return 1;
}

/* The header rounded up so that the identity after it is pointer-aligned. */
static size_t header_bytes(void)
{
    size_t a = sizeof(void *);
    return (sizeof(k8ssa_held_verdict) + a - 1) / a * a;
}

static k8ssa_held_verdict *make_value(const unsigned char *key, const k8ssa_entry *e,
                                      uint64_t epoch)
{
    size_t id_bytes = e->id != NULL ? k8ssa_identity_flat_size(e->id) : 0;
    size_t bytes = header_bytes() + id_bytes;
    k8ssa_held_verdict *v;

    if (bytes > K8SSA_VERDICT_MAX_BYTES || (v = malloc(bytes)) == NULL)
        return NULL;
    v->refs = 1;
    v->id_bytes = id_bytes;
    v->epoch = epoch;
    memcpy(v->key, key, K8SSA_TOKENKEY_LEN);
    v->entry = *e;
    v->entry.id = e->id != NULL ? k8ssa_identity_flatten(e->id, (char *)v + header_bytes())
                                : NULL;
    return v;
}

/* Where a new value of key goes: its own slot, a free one, or the oldest. */
static slot *place(k8ssa_verdicts *c, size_t set, const unsigned char *key)
{
    slot *s = find(c, set, key), *first = &c->slots[set * K8SSA_VERDICT_WAYS];
    int w;

    if (s != NULL)
        return s;
    s = first;
    for (w = 0; w < K8SSA_VERDICT_WAYS; w++) {
        if (first[w].value == NULL)
            return &first[w];
        if (first[w].stamp < s->stamp)
            s = &first[w];
    }
    return s;
}

int k8ssa_verdicts_put(k8ssa_verdicts *c, const unsigned char key[K8SSA_TOKENKEY_LEN],
                       const k8ssa_entry *e, uint64_t epoch)
{
    k8ssa_held_verdict *v = make_value(key, e, epoch), *old = NULL;
    size_t set = set_of(c, key);
    slot *s;

    apr_thread_mutex_lock(lock_of(c, set));
    if (v != NULL) {
        s = place(c, set, key);
        old = s->value;
        s->value = v;
        s->stamp = __atomic_add_fetch(&c->clock, 1, __ATOMIC_RELAXED);
    } else if ((s = find(c, set, key)) != NULL) {
        /* not kept: the key's older copy must not stand in for it */
        old = s->value;
        s->value = NULL;
    }
    apr_thread_mutex_unlock(lock_of(c, set));
    release(old);
    return v != NULL;
}

size_t k8ssa_verdicts_count(k8ssa_verdicts *c)
{
    size_t set, n = 0;
    int w;

    for (set = 0; set < c->nsets; set++) {
        apr_thread_mutex_lock(lock_of(c, set));
        for (w = 0; w < K8SSA_VERDICT_WAYS; w++)
            n += c->slots[set * K8SSA_VERDICT_WAYS + w].value != NULL;
        apr_thread_mutex_unlock(lock_of(c, set));
    }
    return n;
}

size_t k8ssa_verdicts_capacity(const k8ssa_verdicts *c)
{
    return c->nsets * K8SSA_VERDICT_WAYS;
}
