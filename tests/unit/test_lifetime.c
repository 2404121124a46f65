/* Unit tests of src/lib/lifetime.c: freshness and keep-until of cached reviews. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "unit.h"

#include "lifetime.h"

#define S(n) apr_time_from_sec(n)
/* reviewed at T0 (seconds), with a sub-second part so nothing is aligned by luck */
#define T0_SEC INT64_C(1800000000)
#define T0 (S(T0_SEC) + 250000)

static const k8ssa_identity id = { "u", "", NULL, 0, NULL, 0, NULL, 0 };

static k8ssa_entry positive(int64_t token_exp)
{
    k8ssa_entry e = { 1, T0, token_exp, &id, K8SSA_ENTRY_TOKEN };
    return e;
}

static k8ssa_entry negative(void)
{
    k8ssa_entry e = { 0, T0, 0, NULL, K8SSA_ENTRY_TOKEN };
    return e;
}

static k8ssa_lifetimes lt(int64_t ttl, int64_t negative_ttl, int64_t stale_if_error)
{
    k8ssa_lifetimes l = { S(ttl), S(negative_ttl), S(stale_if_error) };
    return l;
}

static void test_positive_fresh_then_expired(void **state)
{
    k8ssa_entry e = positive(0);
    k8ssa_lifetimes l = lt(300, 30, 0);
    (void)state;
    assert_int_equal(k8ssa_freshness_of(&e, T0, &l), K8SSA_FRESH);
    assert_int_equal(k8ssa_freshness_of(&e, T0 + S(1), &l), K8SSA_FRESH);
    assert_int_equal(k8ssa_freshness_of(&e, T0 + S(300) - 1, &l), K8SSA_FRESH);
    assert_int_equal(k8ssa_freshness_of(&e, T0 + S(300), &l), K8SSA_EXPIRED);
    assert_int_equal(k8ssa_freshness_of(&e, T0 + S(300) + 1, &l), K8SSA_EXPIRED);
    assert_int_equal(k8ssa_freshness_of(&e, T0 + S(86400), &l), K8SSA_EXPIRED);
    /* a clock that went back a little: still fresh (reviewed "in the future") */
    assert_int_equal(k8ssa_freshness_of(&e, T0 - S(1), &l), K8SSA_FRESH);
    assert_int_equal(k8ssa_freshness_of(&e, T0 - K8SSA_CLOCK_SKEW, &l), K8SSA_FRESH);
}

/* A host sharing the cache whose clock runs ahead must not stretch TTLs:
 * beyond the allowed skew its entries are not used. */
static void test_entry_from_the_future(void **state)
{
    k8ssa_entry p = positive(0), n = negative();
    k8ssa_lifetimes l = lt(300, 30, 600);
    (void)state;
    assert_int_equal(k8ssa_freshness_of(&p, T0 - K8SSA_CLOCK_SKEW - 1, &l), K8SSA_EXPIRED);
    assert_int_equal(k8ssa_freshness_of(&p, T0 - S(3600), &l), K8SSA_EXPIRED);
    assert_int_equal(k8ssa_freshness_of(&n, T0 - K8SSA_CLOCK_SKEW - 1, &l), K8SSA_EXPIRED);
}

static void test_positive_ttl_zero(void **state)
{
    k8ssa_entry e = positive(0);
    k8ssa_lifetimes l = lt(0, 30, 0);
    (void)state;
    assert_int_equal(k8ssa_freshness_of(&e, T0, &l), K8SSA_EXPIRED);
    l = lt(0, 30, 60);
    assert_int_equal(k8ssa_freshness_of(&e, T0, &l), K8SSA_STALE);
    assert_int_equal(k8ssa_freshness_of(&e, T0 + S(60), &l), K8SSA_EXPIRED);
}

static void test_token_exp_caps_freshness(void **state)
{
    /* the token expires 100 s after the review, the TTL would be 300 s */
    k8ssa_entry e = positive(T0_SEC + 100);
    k8ssa_lifetimes l = lt(300, 30, 0);
    apr_time_t exp = S(T0_SEC + 100);
    (void)state;
    assert_int_equal(k8ssa_freshness_of(&e, T0, &l), K8SSA_FRESH);
    assert_int_equal(k8ssa_freshness_of(&e, exp - 1, &l), K8SSA_FRESH);
    assert_int_equal(k8ssa_freshness_of(&e, exp, &l), K8SSA_EXPIRED);
    assert_int_equal(k8ssa_freshness_of(&e, exp + 1, &l), K8SSA_EXPIRED);
    /* at or past exp never stale, however long stale_if_error is */
    l = lt(300, 30, 3600);
    assert_int_equal(k8ssa_freshness_of(&e, exp - 1, &l), K8SSA_FRESH);
    assert_int_equal(k8ssa_freshness_of(&e, exp, &l), K8SSA_EXPIRED);
    assert_int_equal(k8ssa_freshness_of(&e, T0 + S(300), &l), K8SSA_EXPIRED);
    assert_int_equal(k8ssa_freshness_of(&e, T0 + S(301), &l), K8SSA_EXPIRED);
}

static void test_token_exp_later_than_ttl(void **state)
{
    /* exp far away: the TTL decides */
    k8ssa_entry e = positive(T0_SEC + 86400);
    k8ssa_lifetimes l = lt(300, 30, 0);
    (void)state;
    assert_int_equal(k8ssa_freshness_of(&e, T0 + S(300) - 1, &l), K8SSA_FRESH);
    assert_int_equal(k8ssa_freshness_of(&e, T0 + S(300), &l), K8SSA_EXPIRED);
}

static void test_token_already_expired(void **state)
{
    /* reviewed after its exp (clock skew with the API server): never usable */
    k8ssa_entry e = positive(T0_SEC - 10);
    k8ssa_lifetimes l = lt(300, 30, 3600);
    (void)state;
    assert_int_equal(k8ssa_freshness_of(&e, T0, &l), K8SSA_EXPIRED);
    assert_int_equal(k8ssa_freshness_of(&e, T0 + S(1), &l), K8SSA_EXPIRED);
}

static void test_stale_window(void **state)
{
    k8ssa_entry e = positive(0);
    k8ssa_lifetimes l = lt(300, 30, 600);
    (void)state;
    assert_int_equal(k8ssa_freshness_of(&e, T0 + S(300) - 1, &l), K8SSA_FRESH);
    assert_int_equal(k8ssa_freshness_of(&e, T0 + S(300), &l), K8SSA_STALE);
    assert_int_equal(k8ssa_freshness_of(&e, T0 + S(899), &l), K8SSA_STALE);
    assert_int_equal(k8ssa_freshness_of(&e, T0 + S(900) - 1, &l), K8SSA_STALE);
    assert_int_equal(k8ssa_freshness_of(&e, T0 + S(900), &l), K8SSA_EXPIRED);
    /* the stale window ends at exp */
    e = positive(T0_SEC + 500);
    assert_int_equal(k8ssa_freshness_of(&e, T0 + S(300), &l), K8SSA_STALE);
    assert_int_equal(k8ssa_freshness_of(&e, S(T0_SEC + 500) - 1, &l), K8SSA_STALE);
    assert_int_equal(k8ssa_freshness_of(&e, S(T0_SEC + 500), &l), K8SSA_EXPIRED);
    assert_int_equal(k8ssa_freshness_of(&e, T0 + S(899), &l), K8SSA_EXPIRED);
}

static void test_stale_if_error_zero_never_stale(void **state)
{
    k8ssa_entry e = positive(0);
    k8ssa_lifetimes l = lt(300, 30, 0);
    int64_t t;
    (void)state;
    for (t = 300; t < 5000; t += 7)
        assert_int_equal(k8ssa_freshness_of(&e, T0 + S(t), &l), K8SSA_EXPIRED);
}

static void test_negative(void **state)
{
    k8ssa_entry e = negative();
    k8ssa_lifetimes l = lt(300, 30, 600);
    int64_t t;
    (void)state;
    assert_int_equal(k8ssa_freshness_of(&e, T0, &l), K8SSA_FRESH);
    assert_int_equal(k8ssa_freshness_of(&e, T0 + S(30) - 1, &l), K8SSA_FRESH);
    assert_int_equal(k8ssa_freshness_of(&e, T0 + S(30), &l), K8SSA_EXPIRED);
    /* never stale, whatever stale_if_error is */
    for (t = 30; t < 2000; t += 7)
        assert_int_equal(k8ssa_freshness_of(&e, T0 + S(t), &l), K8SSA_EXPIRED);
    /* the positive TTL does not apply */
    l = lt(5, 30, 0);
    assert_int_equal(k8ssa_freshness_of(&e, T0 + S(10), &l), K8SSA_FRESH);
    /* negative caching off */
    l = lt(300, 0, 600);
    assert_int_equal(k8ssa_freshness_of(&e, T0, &l), K8SSA_EXPIRED);
    assert_int_equal(k8ssa_freshness_of(&e, T0 + 1, &l), K8SSA_EXPIRED);
}

static void test_keep_until_positive(void **state)
{
    k8ssa_entry e = positive(0);
    k8ssa_lifetimes l = lt(300, 30, 600);
    (void)state;
    /* the longest use: ttl + stale_if_error */
    assert_int_equal(k8ssa_keep_until(&e, T0, &l), T0 + S(900));
    assert_int_equal(k8ssa_keep_until(&e, T0 + S(899), &l), T0 + S(900));
    assert_int_equal(k8ssa_keep_until(&e, T0 + S(900), &l), 0);
    assert_int_equal(k8ssa_keep_until(&e, T0 + S(901), &l), 0);
    l = lt(300, 30, 0);
    assert_int_equal(k8ssa_keep_until(&e, T0, &l), T0 + S(300));
    /* capped at exp */
    e = positive(T0_SEC + 100);
    l = lt(300, 30, 600);
    assert_int_equal(k8ssa_keep_until(&e, T0, &l), S(T0_SEC + 100));
    assert_int_equal(k8ssa_keep_until(&e, S(T0_SEC + 100) - 1, &l), S(T0_SEC + 100));
    assert_int_equal(k8ssa_keep_until(&e, S(T0_SEC + 100), &l), 0);
    /* exp after the lifetimes: not a cap */
    e = positive(T0_SEC + 86400);
    assert_int_equal(k8ssa_keep_until(&e, T0, &l), T0 + S(900));
    /* exp already past */
    e = positive(T0_SEC - 1);
    assert_int_equal(k8ssa_keep_until(&e, T0, &l), 0);
    /* nothing positive is kept when no lifetime is configured */
    e = positive(0);
    l = lt(0, 30, 0);
    assert_int_equal(k8ssa_keep_until(&e, T0, &l), 0);
}

static void test_keep_until_negative(void **state)
{
    k8ssa_entry e = negative();
    k8ssa_lifetimes l = lt(300, 30, 600);
    (void)state;
    assert_int_equal(k8ssa_keep_until(&e, T0, &l), T0 + S(30));
    assert_int_equal(k8ssa_keep_until(&e, T0 + S(30) - 1, &l), T0 + S(30));
    assert_int_equal(k8ssa_keep_until(&e, T0 + S(30), &l), 0);
    /* negative caching off everywhere */
    l = lt(300, 0, 600);
    assert_int_equal(k8ssa_keep_until(&e, T0, &l), 0);
    /* a negative entry ignores any exp */
    e.token_exp = T0_SEC + 1;
    l = lt(300, 30, 600);
    assert_int_equal(k8ssa_keep_until(&e, T0, &l), T0 + S(30));
}

/* Whatever keep_until says, no location with shorter lifetimes finds the
 * entry usable after it. */
static void test_keep_until_covers_every_use(void **state)
{
    static const int64_t exps[] = { 0, T0_SEC - 1, T0_SEC + 50, T0_SEC + 400, T0_SEC + 2000 };
    k8ssa_lifetimes longest = lt(600, 60, 900);
    size_t i;
    int64_t ttl, sie, t;
    (void)state;
    for (i = 0; i < sizeof(exps) / sizeof(exps[0]); i++) {
        k8ssa_entry e = positive(exps[i]);
        apr_time_t until = k8ssa_keep_until(&e, T0, &longest);
        for (ttl = 0; ttl <= 600; ttl += 150)
            for (sie = 0; sie <= 900; sie += 300) {
                k8ssa_lifetimes l = lt(ttl, 60, sie);
                for (t = 0; t < 2000; t += 25) {
                    apr_time_t now = T0 + S(t);
                    if (until == 0 || now >= until)
                        assert_int_equal(k8ssa_freshness_of(&e, now, &l), K8SSA_EXPIRED);
                }
            }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_positive_fresh_then_expired),
        cmocka_unit_test(test_entry_from_the_future),
        cmocka_unit_test(test_positive_ttl_zero),
        cmocka_unit_test(test_token_exp_caps_freshness),
        cmocka_unit_test(test_token_exp_later_than_ttl),
        cmocka_unit_test(test_token_already_expired),
        cmocka_unit_test(test_stale_window),
        cmocka_unit_test(test_stale_if_error_zero_never_stale),
        cmocka_unit_test(test_negative),
        cmocka_unit_test(test_keep_until_positive),
        cmocka_unit_test(test_keep_until_negative),
        cmocka_unit_test(test_keep_until_covers_every_use),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
