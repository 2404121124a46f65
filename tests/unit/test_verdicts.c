/* Unit tests of src/lib/verdicts.c (a child's decoded verdicts) and of
 * k8ssa_identity_flatten, which it copies identities with. */
#include "unit.h"

#include <string.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>

#include "verdicts.h"

static uint64_t counters[64];
static k8ssa_epochs epochs = { counters, 64 };

static void key_of(unsigned char k[K8SSA_TOKENKEY_LEN], unsigned seed)
{
    size_t i;
    for (i = 0; i < K8SSA_TOKENKEY_LEN; i++)
        k[i] = (unsigned char)(seed * 131 + i * 7 + (seed >> 8));
}

static const char *groups[] = { "system:serviceaccounts", "system:serviceaccounts:team-a" };
static const char *values[] = { "pod-1" };
static const char *auds[] = { "https://kubernetes.default.svc" };

static k8ssa_identity sample_identity(const char *username)
{
    static k8ssa_extra extra[1];
    k8ssa_identity id;

    extra[0].key = "authentication.kubernetes.io/pod-name";
    extra[0].values = values;
    extra[0].nvalues = 1;
    memset(&id, 0, sizeof(id));
    id.username = username;
    id.uid = "uid-1";
    id.groups = groups;
    id.ngroups = 2;
    id.extra = extra;
    id.nextra = 1;
    id.audiences = auds;
    id.naudiences = 1;
    return id;
}

static k8ssa_entry positive(const k8ssa_identity *id, apr_time_t at)
{
    k8ssa_entry e;

    memset(&e, 0, sizeof(e));
    e.kind = K8SSA_ENTRY_TOKEN;
    e.positive = 1;
    e.reviewed_at = at;
    e.token_exp = 1234;
    e.id = id;
    return e;
}

static k8ssa_verdicts *make(apr_pool_t *p, size_t slots)
{
    k8ssa_verdicts *c = NULL;

    memset(counters, 0, sizeof(counters));
    assert_int_equal(k8ssa_verdicts_create(p, slots, &epochs, &c), APR_SUCCESS);
    return c;
}

/* ---------------------------------------------------------------- flatten */

static void test_flatten_is_a_deep_copy(void **state)
{
    apr_pool_t *p = *state;
    char *name = apr_pstrdup(p, "system:serviceaccount:team-a:runner");
    k8ssa_identity id = sample_identity(name), *copy;
    size_t n = k8ssa_identity_flat_size(&id);
    char *buf = apr_palloc(p, n + 16), *end = buf + n;

    memset(buf + n, 0x5a, 16);
    copy = k8ssa_identity_flatten(&id, buf);
    name[0] = 'X';              /* the original changes: the copy does not */
    assert_string_equal(copy->username, "system:serviceaccount:team-a:runner");
    assert_string_equal(copy->uid, "uid-1");
    assert_int_equal(copy->ngroups, 2);
    assert_string_equal(copy->groups[1], "system:serviceaccounts:team-a");
    assert_int_equal(copy->nextra, 1);
    assert_string_equal(copy->extra[0].key, "authentication.kubernetes.io/pod-name");
    assert_string_equal(copy->extra[0].values[0], "pod-1");
    assert_string_equal(copy->audiences[0], "https://kubernetes.default.svc");
    /* every pointer inside the block, nothing written past it */
    assert_true((char *)copy->groups >= buf && (char *)copy->groups < end);
    assert_true(copy->extra[0].values[0] >= buf && copy->extra[0].values[0] < end);
    assert_true(copy->audiences[0] + strlen(copy->audiences[0]) < end);
    for (n = 0; n < 16; n++)
        assert_int_equal((unsigned char)end[n], 0x5a);
}

static void test_flatten_empty_lists(void **state)
{
    apr_pool_t *p = *state;
    k8ssa_identity id, *copy;

    memset(&id, 0, sizeof(id));
    id.username = "alice";
    id.uid = "";
    copy = k8ssa_identity_flatten(&id, apr_palloc(p, k8ssa_identity_flat_size(&id)));
    assert_string_equal(copy->username, "alice");
    assert_string_equal(copy->uid, "");
    assert_null(copy->groups);
    assert_null(copy->extra);
    assert_null(copy->audiences);
}

/* ------------------------------------------------------------------ cache */

static void test_put_get_copy(void **state)
{
    apr_pool_t *p = *state;
    k8ssa_verdicts *c = make(p, 16);
    char *name = apr_pstrdup(p, "system:serviceaccount:team-a:runner");
    k8ssa_identity id = sample_identity(name);
    k8ssa_entry e = positive(&id, 42), got;
    unsigned char k[32];

    key_of(k, 1);
    assert_int_equal(k8ssa_verdicts_get(c, k, K8SSA_ENTRY_TOKEN, &got, p), 0);
    assert_int_equal(k8ssa_verdicts_put(c, k, &e, k8ssa_epoch_of(&epochs, k)), 1);
    name[0] = 'X';
    assert_int_equal(k8ssa_verdicts_get(c, k, K8SSA_ENTRY_TOKEN, &got, p), 1);
    assert_int_equal(got.positive, 1);
    assert_int_equal(got.reviewed_at, 42);
    assert_int_equal(got.token_exp, 1234);
    assert_string_equal(got.id->username, "system:serviceaccount:team-a:runner");
    assert_int_equal(k8ssa_verdicts_count(c), 1);
}

/* What one request does to its copy (a module writing into a header value)
 * never reaches the next request's. */
static void test_each_get_is_a_private_copy(void **state)
{
    apr_pool_t *p = *state;
    k8ssa_verdicts *c = make(p, 16);
    k8ssa_identity id = sample_identity("system:serviceaccount:team-a:victim");
    k8ssa_entry e = positive(&id, 1), got;
    unsigned char k[32];

    key_of(k, 7);
    k8ssa_verdicts_put(c, k, &e, 0);
    assert_int_equal(k8ssa_verdicts_get(c, k, K8SSA_ENTRY_TOKEN, &got, p), 1);
    ((char *)got.id->username)[0] = 'X';
    ((char *)got.id->groups[0])[0] = 'X';
    assert_int_equal(k8ssa_verdicts_get(c, k, K8SSA_ENTRY_TOKEN, &got, p), 1);
    assert_string_equal(got.id->username, "system:serviceaccount:team-a:victim");
    assert_string_equal(got.id->groups[0], "system:serviceaccounts");
}

static void test_kind_is_part_of_the_question(void **state)
{
    apr_pool_t *p = *state;
    k8ssa_verdicts *c = make(p, 16);
    k8ssa_identity id = sample_identity("alice");
    k8ssa_entry e = positive(&id, 1), got;
    unsigned char k[32];

    key_of(k, 2);
    k8ssa_verdicts_put(c, k, &e, 0);
    assert_int_equal(k8ssa_verdicts_get(c, k, K8SSA_ENTRY_ACCESS, &got, p), 0);
    assert_int_equal(k8ssa_verdicts_get(c, k, K8SSA_ENTRY_TOKEN, &got, p), 1);
}

/* A store or removal anywhere (a bump) ends the copy at once, also one that
 * was taken before the bump and put after it. */
static void test_a_bump_ends_the_copy(void **state)
{
    apr_pool_t *p = *state;
    k8ssa_verdicts *c = make(p, 16);
    k8ssa_identity id = sample_identity("alice");
    k8ssa_entry e = positive(&id, 1), got;
    unsigned char k[32], other[32];
    uint64_t before;

    key_of(k, 3);
    key_of(other, 4);
    k8ssa_verdicts_put(c, k, &e, k8ssa_epoch_of(&epochs, k));
    k8ssa_verdicts_put(c, other, &e, k8ssa_epoch_of(&epochs, other));
    assert_true(k8ssa_epoch_bump(&epochs, k) > 0);
    assert_int_equal(k8ssa_verdicts_get(c, k, K8SSA_ENTRY_TOKEN, &got, p), 0);
    /* the stale copy is gone, not only hidden */
    assert_int_equal(k8ssa_verdicts_count(c), 1);
    /* another key (another epoch bucket) is untouched */
    if ((other[8] & 63) != (k[8] & 63)) {
        assert_int_equal(k8ssa_verdicts_get(c, other, K8SSA_ENTRY_TOKEN, &got, p), 1);
    }
    /* read before a writer's bump, put after it: never served */
    before = k8ssa_epoch_of(&epochs, k);
    k8ssa_epoch_bump(&epochs, k);
    k8ssa_verdicts_put(c, k, &e, before);
    assert_int_equal(k8ssa_verdicts_get(c, k, K8SSA_ENTRY_TOKEN, &got, p), 0);
    /* what the writer itself keeps, under its bump, stands */
    k8ssa_verdicts_put(c, k, &e, k8ssa_epoch_bump(&epochs, k));
    assert_int_equal(k8ssa_verdicts_get(c, k, K8SSA_ENTRY_TOKEN, &got, p), 1);
}

/* A newer verdict replaces the older; one too large to keep removes it. */
static void test_replace_and_too_large(void **state)
{
    apr_pool_t *p = *state;
    k8ssa_verdicts *c = make(p, 16);
    k8ssa_identity id = sample_identity("alice"), big;
    k8ssa_entry e = positive(&id, 1), neg, got;
    unsigned char k[32];
    char *huge = apr_palloc(p, K8SSA_VERDICT_MAX_BYTES);

    key_of(k, 5);
    k8ssa_verdicts_put(c, k, &e, 0);
    memset(&neg, 0, sizeof(neg));
    neg.kind = K8SSA_ENTRY_TOKEN;
    neg.reviewed_at = 2;
    assert_int_equal(k8ssa_verdicts_put(c, k, &neg, 0), 1);
    assert_int_equal(k8ssa_verdicts_get(c, k, K8SSA_ENTRY_TOKEN, &got, p), 1);
    assert_int_equal(got.positive, 0);
    assert_null(got.id);
    assert_int_equal(k8ssa_verdicts_count(c), 1);

    memset(huge, 'a', K8SSA_VERDICT_MAX_BYTES - 1);
    huge[K8SSA_VERDICT_MAX_BYTES - 1] = '\0';
    big = sample_identity(huge);
    e = positive(&big, 3);
    assert_int_equal(k8ssa_verdicts_put(c, k, &e, 0), 0);
    assert_int_equal(k8ssa_verdicts_get(c, k, K8SSA_ENTRY_TOKEN, &got, p), 0);
    assert_int_equal(k8ssa_verdicts_count(c), 0);
}

/* Never more entries than slots; a request's copy outlives the eviction. */
static void test_bounded_and_held_values_survive_eviction(void **state)
{
    apr_pool_t *p = *state;
    k8ssa_verdicts *c = make(p, 8);
    k8ssa_identity id = sample_identity("system:serviceaccount:a:b");
    k8ssa_entry e = positive(&id, 1), got, again;
    unsigned char k[32];
    unsigned i;

    assert_int_equal(k8ssa_verdicts_capacity(c), 8);
    key_of(k, 1000);
    k8ssa_verdicts_put(c, k, &e, 0);
    assert_int_equal(k8ssa_verdicts_get(c, k, K8SSA_ENTRY_TOKEN, &got, p), 1);
    for (i = 0; i < 500; i++) {
        unsigned char other[32];
        key_of(other, i);
        k8ssa_verdicts_put(c, other, &e, 0);
        assert_true(k8ssa_verdicts_count(c) <= 8);
    }
    /* evicted or not, what the request holds is intact (ASan: not freed) */
    assert_string_equal(got.id->username, "system:serviceaccount:a:b");
    assert_string_equal(got.id->extra[0].values[0], "pod-1");
    if (k8ssa_verdicts_get(c, k, K8SSA_ENTRY_TOKEN, &again, p))
        assert_string_equal(again.id->username, "system:serviceaccount:a:b");
}

static void test_create_refuses_nonsense(void **state)
{
    apr_pool_t *p = *state;
    k8ssa_verdicts *c = NULL;
    k8ssa_epochs odd = { counters, 63 }, none = { NULL, 64 };

    assert_int_equal(k8ssa_verdicts_create(p, 0, &epochs, &c), APR_EINVAL);
    assert_int_equal(k8ssa_verdicts_create(p, 8, &odd, &c), APR_EINVAL);
    assert_int_equal(k8ssa_verdicts_create(p, 8, &none, &c), APR_EINVAL);
    assert_int_equal(k8ssa_verdicts_create(p, 8, NULL, &c), APR_EINVAL);
    assert_int_equal(k8ssa_verdicts_create(p, 5, &epochs, &c), APR_SUCCESS);
    assert_int_equal(k8ssa_verdicts_capacity(c), 8);   /* whole sets */
}

/* Threads putting, getting, bumping and releasing the same few keys: under
 * ASan, evictions racing with readers would show as a use after free. */
typedef struct {
    k8ssa_verdicts *c;
    apr_pool_t *p;          /* the thread's own, made by the main thread */
    unsigned seed;
    unsigned hits;
} worker;

static void *APR_THREAD_FUNC hammer(apr_thread_t *t, void *arg)
{
    worker *w = arg;
    k8ssa_identity id = sample_identity("system:serviceaccount:team-a:runner");
    k8ssa_entry e = positive(&id, 1), got;
    unsigned i;

    for (i = 0; i < 20000; i++) {
        unsigned char k[32];
        if (i % 256 == 0)
            apr_pool_clear(w->p);
        key_of(k, (w->seed + i) % 24);
        switch (i % 5) {
        case 0:
            k8ssa_verdicts_put(w->c, k, &e, k8ssa_epoch_of(&epochs, k));
            break;
        case 1:
            k8ssa_epoch_bump(&epochs, k);
            break;
        default:
            if (k8ssa_verdicts_get(w->c, k, K8SSA_ENTRY_TOKEN, &got, w->p)) {
                w->hits += strcmp(got.id->username,
                                  "system:serviceaccount:team-a:runner") == 0;
            }
        }
    }
    /* a plain return, not apr_thread_exit(): pthread_exit() would leave
     * this frame's scopes poisoned for ASan as the thread ends */
    (void)t;
    return NULL;
}

static void test_threads(void **state)
{
    apr_pool_t *p = *state;
    k8ssa_verdicts *c = make(p, 16);
    apr_thread_t *t[4];
    worker w[4];
    apr_status_t rv;
    unsigned i, hits = 0;

    for (i = 0; i < 4; i++) {
        w[i].c = c;
        assert_int_equal(apr_pool_create(&w[i].p, p), APR_SUCCESS);
        w[i].seed = i * 5;
        w[i].hits = 0;
        assert_int_equal(apr_thread_create(&t[i], NULL, hammer, &w[i], p), APR_SUCCESS);
    }
    for (i = 0; i < 4; i++) {
        apr_thread_join(&rv, t[i]);
        hits += w[i].hits;
    }
    assert_true(hits > 0);
    assert_true(k8ssa_verdicts_count(c) <= 16);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_flatten_is_a_deep_copy, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_flatten_empty_lists, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_put_get_copy, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_each_get_is_a_private_copy, pool_setup,
                                        pool_teardown),
        cmocka_unit_test_setup_teardown(test_kind_is_part_of_the_question, pool_setup,
                                        pool_teardown),
        cmocka_unit_test_setup_teardown(test_a_bump_ends_the_copy, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_replace_and_too_large, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_bounded_and_held_values_survive_eviction,
                                        pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_create_refuses_nonsense, pool_setup,
                                        pool_teardown),
        cmocka_unit_test_setup_teardown(test_threads, pool_setup, pool_teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
