/*
 * test_metrics.c - unit tests of src/lib/counters.c and src/lib/metrics.c:
 * slots summed, histogram buckets cumulative with +Inf equal to the count,
 * status codes as labels, every family with HELP and TYPE.
 */
#include "unit.h"

#include <stdio.h>
#include <string.h>

#include "counters.h"
#include "metrics.h"

static void test_sums_and_labels(void **state)
{
    apr_pool_t *p = *state;
    static k8ssa_counters slots[2];
    const char *text;

    memset(slots, 0, sizeof(slots));
    k8ssa_slot = &slots[0];
    k8ssa_count(&k8ssa_slot->requests[K8SSA_OUTCOME_AUTHENTICATED]);
    k8ssa_count_review_code(K8SSA_KIND_TOKEN, 201);
    k8ssa_count_review_code(K8SSA_KIND_TOKEN, 0);
    k8ssa_count_review_code(K8SSA_KIND_ACCESS, 99);     /* out of range: error */
    k8ssa_count_duration(K8SSA_KIND_TOKEN, 3000);        /* 3 ms */
    k8ssa_slot = &slots[1];
    k8ssa_count(&k8ssa_slot->requests[K8SSA_OUTCOME_AUTHENTICATED]);
    k8ssa_count_review_code(K8SSA_KIND_TOKEN, 201);
    k8ssa_count_duration(K8SSA_KIND_TOKEN, 20000000);    /* 20 s: only +Inf */
    k8ssa_count_add(&k8ssa_slot->api_connections, 3);

    {
        k8ssa_counters *const ptrs[2] = { &slots[0], &slots[1] };
        text = k8ssa_metrics_text(p, ptrs, 2);
    }
    assert_non_null(strstr(text, "k8ssa_requests_total{outcome=\"authenticated\"} 2\n"));
    assert_non_null(strstr(text, "k8ssa_requests_total{outcome=\"missing\"} 0\n"));
    assert_non_null(strstr(text, "k8ssa_reviews_total{kind=\"token\",code=\"201\"} 2\n"));
    assert_non_null(strstr(text, "k8ssa_reviews_total{kind=\"token\",code=\"error\"} 1\n"));
    assert_non_null(strstr(text, "k8ssa_reviews_total{kind=\"access\",code=\"error\"} 1\n"));
    assert_null(strstr(text, "code=\"404\""));
    assert_non_null(strstr(text, "k8ssa_review_duration_seconds_bucket{kind=\"token\",le=\"0.005\"} 1\n"));
    assert_non_null(strstr(text, "k8ssa_review_duration_seconds_bucket{kind=\"token\",le=\"10\"} 1\n"));
    assert_non_null(strstr(text, "k8ssa_review_duration_seconds_bucket{kind=\"token\",le=\"+Inf\"} 2\n"));
    assert_non_null(strstr(text, "k8ssa_review_duration_seconds_count{kind=\"token\"} 2\n"));
    assert_non_null(strstr(text, "k8ssa_review_duration_seconds_sum{kind=\"token\"} 20.003000\n"));
    assert_non_null(strstr(text, "k8ssa_api_connections_total 3\n"));
    assert_non_null(strstr(text, "# TYPE k8ssa_review_duration_seconds histogram\n"));
    assert_non_null(strstr(text, "k8ssa_local_rejections_total{reason=\"not_yet_valid\"} 0\n"));
    assert_non_null(strstr(text, "k8ssa_issuer_key_fetches_total{result=\"error\"} 0\n"));
}

static void test_every_family_has_help_and_type(void **state)
{
    apr_pool_t *p = *state;
    static k8ssa_counters slot;
    static const char *const families[] = {
        "k8ssa_requests_total", "k8ssa_cache_lookups_total", "k8ssa_reviews_total",
        "k8ssa_review_duration_seconds", "k8ssa_coalesced_waits_total",
        "k8ssa_api_connections_total", "k8ssa_credential_reloads_total",
        "k8ssa_local_rejections_total", "k8ssa_reviews_shed_total",
        "k8ssa_issuer_key_fetches_total",
    };
    k8ssa_counters *const ptrs[1] = { &slot };
    const char *text = k8ssa_metrics_text(p, ptrs, 1);
    size_t i;

    for (i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
        char help[128], type[128];
        snprintf(help, sizeof(help), "# HELP %s ", families[i]);
        snprintf(type, sizeof(type), "# TYPE %s ", families[i]);
        assert_non_null(strstr(text, help));
        assert_non_null(strstr(text, type));
    }
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, pool_setup, pool_teardown)
    const struct CMUnitTest tests[] = {
        T(test_sums_and_labels),
        T(test_every_family_has_help_and_type),
    };
#undef T
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
