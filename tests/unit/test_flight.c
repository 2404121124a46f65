/* Unit tests of src/lib/flight.c: request coalescing across threads. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "unit.h"

#include <string.h>
#include <apr_thread_proc.h>
#include <apr_time.h>

#include "flight.h"

#define NWAITERS 20

static void key_of(unsigned char k[K8SSA_TOKENKEY_LEN], unsigned char seed)
{
    size_t i;
    for (i = 0; i < K8SSA_TOKENKEY_LEN; i++)
        k[i] = (unsigned char)(seed + i);
}

typedef struct {
    k8ssa_flights *fs;
    const unsigned char *key;
    apr_interval_time_t wait;
    apr_pool_t *p;          /* the waiter's own pool, made by the main thread */
    k8ssa_flight_role role;
    k8ssa_flight *flight;
    int outcome;
    const unsigned char *data;
    size_t len;
    apr_interval_time_t took;
} joiner;

static void *APR_THREAD_FUNC join_thread(apr_thread_t *t, void *arg)
{
    joiner *j = arg;
    apr_time_t start = apr_time_now();
    (void)t;
    k8ssa_flight_role role = k8ssa_flight_join(j->fs, j->key, j->wait, j->p, &j->flight,
                                               &j->outcome, &j->data, &j->len);
    j->took = apr_time_now() - start;
    __atomic_store_n(&j->role, role, __ATOMIC_RELEASE);
    return NULL;
}

static void init_joiner(joiner *j, k8ssa_flights *fs, const unsigned char *key,
                        apr_interval_time_t wait, apr_pool_t *parent)
{
    memset(j, 0, sizeof(*j));
    j->fs = fs;
    j->key = key;
    j->wait = wait;
    assert_int_equal(apr_pool_create(&j->p, parent), APR_SUCCESS);
    /* poison what join fills in */
    j->role = (k8ssa_flight_role)-1;
    j->outcome = -999;
    j->data = (const unsigned char *)"poison";
    j->len = 12345;
}

/* The role of a joiner that may still be running: -1 while it waits. */
static int role_now(joiner *j)
{
    return (int)__atomic_load_n(&j->role, __ATOMIC_ACQUIRE);
}

/* Waits (up to 10 s) until the table counts `n` waiters. */
static void await_waits(k8ssa_flights *fs, unsigned long n)
{
    apr_time_t deadline = apr_time_now() + apr_time_from_sec(10);
    while (k8ssa_flights_waits(fs) < n && apr_time_now() < deadline)
        apr_sleep(1000);
    assert_int_equal(k8ssa_flights_waits(fs), n);
}

static void test_first_joiner_leads(void **state)
{
    apr_pool_t *p = *state;
    k8ssa_flights *fs;
    k8ssa_flight *f = NULL;
    unsigned char k[K8SSA_TOKENKEY_LEN];
    const unsigned char *data = NULL;
    size_t len = 0;
    int outcome = 0;

    key_of(k, 1);
    assert_int_equal(k8ssa_flights_create(p, &fs), APR_SUCCESS);
    assert_int_equal(k8ssa_flights_waits(fs), 0);
    assert_int_equal(k8ssa_flight_join(fs, k, apr_time_from_sec(1), p, &f, &outcome, &data, &len),
                     K8SSA_FLIGHT_LEAD);
    assert_non_null(f);
    k8ssa_flight_land(fs, f, 1, (const unsigned char *)"x", 1);
    assert_int_equal(k8ssa_flights_waits(fs), 0);
}

static void test_waiters_get_the_result(void **state)
{
    apr_pool_t *p = *state;
    k8ssa_flights *fs;
    k8ssa_flight *f = NULL;
    unsigned char k[K8SSA_TOKENKEY_LEN], payload[1000], expect[1000];
    joiner j[NWAITERS];
    apr_thread_t *t[NWAITERS];
    const unsigned char *data = NULL;
    size_t len = 0, i;
    int outcome = 0;
    apr_time_t landed_at;

    key_of(k, 2);
    for (i = 0; i < sizeof(payload); i++)
        payload[i] = (unsigned char)(i * 7 + 3);
    payload[17] = 0;   /* binary, not a string */
    memcpy(expect, payload, sizeof(payload));
    assert_int_equal(k8ssa_flights_create(p, &fs), APR_SUCCESS);
    assert_int_equal(k8ssa_flight_join(fs, k, apr_time_from_sec(1), p, &f, &outcome, &data, &len),
                     K8SSA_FLIGHT_LEAD);
    assert_non_null(f);

    for (i = 0; i < NWAITERS; i++)
        init_joiner(&j[i], fs, k, apr_time_from_sec(10), p);
    for (i = 0; i < NWAITERS; i++)
        assert_int_equal(apr_thread_create(&t[i], NULL, join_thread, &j[i], p), APR_SUCCESS);
    /* every thread has joined as a waiter before the leader lands */
    await_waits(fs, NWAITERS);
    apr_sleep(apr_time_from_msec(100));
    for (i = 0; i < NWAITERS; i++)
        assert_int_equal(role_now(&j[i]), -1);   /* all still waiting */

    landed_at = apr_time_now();
    k8ssa_flight_land(fs, f, 42, payload, sizeof(payload));
    memset(payload, 0xee, sizeof(payload));   /* the waiters have copies */

    for (i = 0; i < NWAITERS; i++) {
        apr_status_t rv;
        assert_int_equal(apr_thread_join(&rv, t[i]), APR_SUCCESS);
    }
    for (i = 0; i < NWAITERS; i++) {
        assert_int_equal(j[i].role, K8SSA_FLIGHT_LANDED);
        assert_null(j[i].flight);
        assert_int_equal(j[i].outcome, 42);
        assert_int_equal(j[i].len, sizeof(expect));
        assert_non_null(j[i].data);
        assert_memory_equal(j[i].data, expect, sizeof(expect));
        assert_ptr_not_equal(j[i].data, payload);
        if (i)
            assert_ptr_not_equal(j[i].data, j[i - 1].data);
        /* they waited for the leader, not for their own timeout */
        assert_true(j[i].took >= apr_time_from_msec(90));
        assert_true(j[i].took < apr_time_from_sec(5));
    }
    assert_true(apr_time_now() - landed_at < apr_time_from_sec(5));
    assert_int_equal(k8ssa_flights_waits(fs), NWAITERS);
}

static void test_keys_are_independent(void **state)
{
    apr_pool_t *p = *state;
    k8ssa_flights *fs;
    k8ssa_flight *fa = NULL, *fb = NULL;
    unsigned char ka[K8SSA_TOKENKEY_LEN], kb[K8SSA_TOKENKEY_LEN];
    const unsigned char *data = NULL;
    size_t len = 0;
    int outcome = 0;
    joiner w;
    apr_thread_t *t;
    apr_status_t rv;

    key_of(ka, 3);
    memcpy(kb, ka, sizeof(kb));
    kb[K8SSA_TOKENKEY_LEN - 1] ^= 0x80;   /* differs in the last byte only */
    assert_int_equal(k8ssa_flights_create(p, &fs), APR_SUCCESS);
    assert_int_equal(k8ssa_flight_join(fs, ka, apr_time_from_sec(1), p, &fa, &outcome, &data, &len),
                     K8SSA_FLIGHT_LEAD);
    /* B leads at once while A is in the air */
    assert_int_equal(k8ssa_flight_join(fs, kb, apr_time_from_sec(1), p, &fb, &outcome, &data, &len),
                     K8SSA_FLIGHT_LEAD);
    assert_non_null(fa);
    assert_non_null(fb);
    assert_ptr_not_equal(fa, fb);
    assert_int_equal(k8ssa_flights_waits(fs), 0);

    /* a waiter on B gets B's result, not A's */
    init_joiner(&w, fs, kb, apr_time_from_sec(10), p);
    assert_int_equal(apr_thread_create(&t, NULL, join_thread, &w, p), APR_SUCCESS);
    await_waits(fs, 1);
    k8ssa_flight_land(fs, fa, 1, (const unsigned char *)"A", 1);
    apr_sleep(apr_time_from_msec(20));
    assert_int_equal(role_now(&w), -1);   /* A landing does not release B's waiter */
    k8ssa_flight_land(fs, fb, 2, (const unsigned char *)"B", 1);
    assert_int_equal(apr_thread_join(&rv, t), APR_SUCCESS);
    assert_int_equal(w.role, K8SSA_FLIGHT_LANDED);
    assert_int_equal(w.outcome, 2);
    assert_int_equal(w.len, 1);
    assert_memory_equal(w.data, "B", 1);
}

static void test_waiter_times_out(void **state)
{
    apr_pool_t *p = *state;
    k8ssa_flights *fs;
    k8ssa_flight *f = NULL, *g = NULL;
    unsigned char k[K8SSA_TOKENKEY_LEN];
    const unsigned char *data = NULL;
    size_t len = 0;
    int outcome = 0;
    joiner w;
    apr_thread_t *t;
    apr_status_t rv;

    key_of(k, 4);
    assert_int_equal(k8ssa_flights_create(p, &fs), APR_SUCCESS);
    assert_int_equal(k8ssa_flight_join(fs, k, apr_time_from_sec(1), p, &f, &outcome, &data, &len),
                     K8SSA_FLIGHT_LEAD);
    /* a waiter with 50 ms while the leader takes longer */
    init_joiner(&w, fs, k, apr_time_from_msec(50), p);
    assert_int_equal(apr_thread_create(&t, NULL, join_thread, &w, p), APR_SUCCESS);
    assert_int_equal(apr_thread_join(&rv, t), APR_SUCCESS);
    assert_int_equal(w.role, K8SSA_FLIGHT_TIMEOUT);
    assert_null(w.flight);
    assert_true(w.took >= apr_time_from_msec(45));
    assert_true(w.took < apr_time_from_sec(5));
    assert_int_equal(k8ssa_flights_waits(fs), 1);

    /* the flight is still in the air: another joiner waits (and times out), never leads */
    assert_int_equal(k8ssa_flight_join(fs, k, 0, p, &g, &outcome, &data, &len),
                     K8SSA_FLIGHT_TIMEOUT);
    assert_null(g);
    assert_int_equal(k8ssa_flight_join(fs, k, apr_time_from_msec(10), p, &g, &outcome, &data, &len),
                     K8SSA_FLIGHT_TIMEOUT);
    assert_int_equal(k8ssa_flights_waits(fs), 3);

    /* the late leader still lands cleanly, with nobody waiting */
    k8ssa_flight_land(fs, f, 1, (const unsigned char *)"late", 4);
}

static void test_lead_again_after_landing(void **state)
{
    apr_pool_t *p = *state;
    k8ssa_flights *fs;
    k8ssa_flight *f = NULL;
    unsigned char k[K8SSA_TOKENKEY_LEN];
    const unsigned char *data = NULL;
    size_t len = 0;
    int outcome = 0, round;
    joiner w;
    apr_thread_t *t;
    apr_status_t rv;

    key_of(k, 5);
    assert_int_equal(k8ssa_flights_create(p, &fs), APR_SUCCESS);
    for (round = 0; round < 3; round++) {
        assert_int_equal(k8ssa_flight_join(fs, k, apr_time_from_sec(1), p, &f, &outcome, &data,
                                           &len),
                         K8SSA_FLIGHT_LEAD);
        assert_non_null(f);
        init_joiner(&w, fs, k, apr_time_from_sec(10), p);
        assert_int_equal(apr_thread_create(&t, NULL, join_thread, &w, p), APR_SUCCESS);
        await_waits(fs, (unsigned long)round + 1);
        k8ssa_flight_land(fs, f, 100 + round, (const unsigned char *)"r", 1);
        assert_int_equal(apr_thread_join(&rv, t), APR_SUCCESS);
        assert_int_equal(w.role, K8SSA_FLIGHT_LANDED);
        assert_int_equal(w.outcome, 100 + round);   /* this round's result, not an old one */
    }
    /* landed and nobody waiting: the next one leads without delay */
    assert_int_equal(k8ssa_flight_join(fs, k, apr_time_from_sec(10), p, &f, &outcome, &data, &len),
                     K8SSA_FLIGHT_LEAD);
    k8ssa_flight_land(fs, f, 0, NULL, 0);
}

static void test_land_without_data(void **state)
{
    apr_pool_t *p = *state;
    k8ssa_flights *fs;
    k8ssa_flight *f = NULL;
    unsigned char k[K8SSA_TOKENKEY_LEN];
    const unsigned char *data = NULL;
    size_t len = 0;
    int outcome = 0;
    joiner w[2];
    apr_thread_t *t[2];
    apr_status_t rv;

    key_of(k, 6);
    assert_int_equal(k8ssa_flights_create(p, &fs), APR_SUCCESS);
    assert_int_equal(k8ssa_flight_join(fs, k, apr_time_from_sec(1), p, &f, &outcome, &data, &len),
                     K8SSA_FLIGHT_LEAD);
    init_joiner(&w[0], fs, k, apr_time_from_sec(10), p);
    init_joiner(&w[1], fs, k, apr_time_from_sec(10), p);
    assert_int_equal(apr_thread_create(&t[0], NULL, join_thread, &w[0], p), APR_SUCCESS);
    assert_int_equal(apr_thread_create(&t[1], NULL, join_thread, &w[1], p), APR_SUCCESS);
    await_waits(fs, 2);
    k8ssa_flight_land(fs, f, -7, NULL, 0);
    assert_int_equal(apr_thread_join(&rv, t[0]), APR_SUCCESS);
    assert_int_equal(apr_thread_join(&rv, t[1]), APR_SUCCESS);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(w[i].role, K8SSA_FLIGHT_LANDED);
        assert_int_equal(w[i].outcome, -7);
        assert_null(w[i].data);
        assert_int_equal(w[i].len, 0);
    }
    /* NULL data with a non-zero length is still "none" */
    assert_int_equal(k8ssa_flight_join(fs, k, apr_time_from_sec(1), p, &f, &outcome, &data, &len),
                     K8SSA_FLIGHT_LEAD);
    init_joiner(&w[0], fs, k, apr_time_from_sec(10), p);
    assert_int_equal(apr_thread_create(&t[0], NULL, join_thread, &w[0], p), APR_SUCCESS);
    await_waits(fs, 3);
    k8ssa_flight_land(fs, f, 5, NULL, 99);
    assert_int_equal(apr_thread_join(&rv, t[0]), APR_SUCCESS);
    assert_int_equal(w[0].role, K8SSA_FLIGHT_LANDED);
    assert_null(w[0].data);
    assert_int_equal(w[0].len, 0);
}

/* Many keys, many threads, in rounds: every waiter gets its own key's result. */
typedef struct {
    k8ssa_flights *fs;
    apr_pool_t *p;
    unsigned seed;
    int errors;
} worker;

static void *APR_THREAD_FUNC work_thread(apr_thread_t *t, void *arg)
{
    worker *w = arg;
    unsigned char k[K8SSA_TOKENKEY_LEN];
    int n;
    (void)t;
    for (n = 0; n < 200; n++) {
        unsigned char which = (unsigned char)((w->seed * 31u + (unsigned)n) % 4);
        k8ssa_flight *f = NULL;
        const unsigned char *data = NULL;
        size_t len = 0;
        int outcome = -1;
        key_of(k, (unsigned char)(0x80 + which));
        switch (k8ssa_flight_join(w->fs, k, apr_time_from_sec(5), w->p, &f, &outcome, &data,
                                  &len)) {
        case K8SSA_FLIGHT_LEAD:
            if (f == NULL)
                w->errors++;
            if (n % 3 == 0)
                apr_sleep(200);
            k8ssa_flight_land(w->fs, f, which, k, sizeof(k));
            break;
        case K8SSA_FLIGHT_LANDED:
            if (outcome != which || len != sizeof(k) || data == NULL || memcmp(data, k, len) != 0)
                w->errors++;
            break;
        case K8SSA_FLIGHT_TIMEOUT:
            w->errors++;
            break;
        }
        apr_pool_clear(w->p);
    }
    return NULL;
}

static void test_concurrent_keys(void **state)
{
    apr_pool_t *p = *state;
    k8ssa_flights *fs;
    worker w[16];
    apr_thread_t *t[16];
    apr_status_t rv;
    size_t i;

    assert_int_equal(k8ssa_flights_create(p, &fs), APR_SUCCESS);
    for (i = 0; i < 16; i++) {
        w[i].fs = fs;
        w[i].seed = (unsigned)i;
        w[i].errors = 0;
        assert_int_equal(apr_pool_create(&w[i].p, p), APR_SUCCESS);
    }
    for (i = 0; i < 16; i++)
        assert_int_equal(apr_thread_create(&t[i], NULL, work_thread, &w[i], p), APR_SUCCESS);
    for (i = 0; i < 16; i++)
        assert_int_equal(apr_thread_join(&rv, t[i]), APR_SUCCESS);
    for (i = 0; i < 16; i++)
        assert_int_equal(w[i].errors, 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, pool_setup, pool_teardown)
    const struct CMUnitTest tests[] = {
        T(test_first_joiner_leads),
        T(test_waiters_get_the_result),
        T(test_keys_are_independent),
        T(test_waiter_times_out),
        T(test_lead_again_after_landing),
        T(test_land_without_data),
        T(test_concurrent_keys),
    };
#undef T
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
