/* metrics.c - Prometheus text exposition of the counters (see metrics.h). */
#include "metrics.h"

#include <apr_strings.h>
#include <apr_tables.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

/* Counters survive graceful restarts (the shared memory is kept); a full
 * stop and start begins again from zero. */
#define KEPT " Counted since httpd started, kept across graceful restarts."

typedef struct {
    apr_pool_t *p;
    apr_array_header_t *lines;
} out;

static void line(out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void line(out *o, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    APR_ARRAY_PUSH(o->lines, const char *) = apr_pvsprintf(o->p, fmt, ap);
    va_end(ap);
}

static void family(out *o, const char *name, const char *type, const char *help)
{
    line(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The sum over the slots of the counter at byte offset off. */
static apr_uint64_t sum(k8ssa_counters *const *slots, size_t n, size_t off)
{
    apr_uint64_t total = 0;
    size_t i;

    for (i = 0; i < n; i++)
        total += apr_atomic_read64((volatile apr_uint64_t *)((char *)slots[i] + off));
    return total;
}

#define SUM(field) sum(slots, n, offsetof(k8ssa_counters, field))

/* The buckets' upper bounds as Prometheus writes them (APR's %g drops the
 * leading zero). */
static const char *const le_labels[K8SSA_DURATION_BUCKETS] = {
    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10"
};

char *k8ssa_metrics_text(apr_pool_t *p, k8ssa_counters *const *slots, size_t n)
{
    out o = { p, apr_array_make(p, 128, sizeof(const char *)) };
    int i, k, c;

    family(&o, "k8ssa_requests_total", "counter",
           "Requests to locations with AuthType KubernetesServiceAccount, by the outcome of "
           "their authentication." KEPT);
    for (i = 0; i < K8SSA_OUTCOMES; i++)
        line(&o, "k8ssa_requests_total{outcome=\"%s\"} %" APR_UINT64_T_FMT "\n",
             k8ssa_outcome_label((k8ssa_outcome)i), SUM(requests[i]));

    family(&o, "k8ssa_cache_lookups_total", "counter",
           "Verdicts looked up in the cache: hit, miss, or stale (served by "
           "AuthK8sStaleIfError)." KEPT);
    for (k = 0; k < K8SSA_KINDS; k++)
        for (i = 0; i < K8SSA_LOOKUP_RESULTS; i++)
            line(&o, "k8ssa_cache_lookups_total{kind=\"%s\",result=\"%s\"} %" APR_UINT64_T_FMT
                 "\n", k8ssa_kind_label((k8ssa_review_kind_label)k),
                 k8ssa_lookup_label((k8ssa_lookup_result)i), SUM(cache_lookups[k][i]));

    family(&o, "k8ssa_reviews_total", "counter",
           "HTTP exchanges of TokenReviews and SubjectAccessReviews with the API server, "
           "retries included, by its status code, or error when no answer came." KEPT);
    for (k = 0; k < K8SSA_KINDS; k++)
        for (c = 0; c < K8SSA_CODES; c++) {
            apr_uint64_t v = SUM(reviews[k][c]);
            if (v == 0 && c != 0)
                continue;
            line(&o, "k8ssa_reviews_total{kind=\"%s\",code=\"%s\"} %" APR_UINT64_T_FMT "\n",
                 k8ssa_kind_label((k8ssa_review_kind_label)k),
                 c == 0 ? "error" : apr_itoa(p, c), v);
        }

    family(&o, "k8ssa_review_duration_seconds", "histogram",
           "How long reviews took, retries included." KEPT);
    for (k = 0; k < K8SSA_KINDS; k++) {
        const char *kind = k8ssa_kind_label((k8ssa_review_kind_label)k);
        apr_uint64_t cumulative = 0, count = SUM(duration_count[k]);
        for (i = 0; i < K8SSA_DURATION_BUCKETS; i++) {
            cumulative += SUM(duration_buckets[k][i]);
            line(&o, "k8ssa_review_duration_seconds_bucket{kind=\"%s\",le=\"%s\"} %"
                 APR_UINT64_T_FMT "\n", kind, le_labels[i], cumulative);
        }
        line(&o, "k8ssa_review_duration_seconds_bucket{kind=\"%s\",le=\"+Inf\"} %"
             APR_UINT64_T_FMT "\n", kind, count);
        {
            apr_uint64_t us = SUM(duration_sum_us[k]);
            line(&o, "k8ssa_review_duration_seconds_sum{kind=\"%s\"} %" APR_UINT64_T_FMT
                 ".%06" APR_UINT64_T_FMT "\n", kind, us / 1000000, us % 1000000);
        }
        line(&o, "k8ssa_review_duration_seconds_count{kind=\"%s\"} %" APR_UINT64_T_FMT "\n",
             kind, count);
    }

    family(&o, "k8ssa_coalesced_waits_total", "counter",
           "Requests that waited for another request's review instead of sending their "
           "own." KEPT);
    line(&o, "k8ssa_coalesced_waits_total %" APR_UINT64_T_FMT "\n", SUM(coalesced_waits));
    family(&o, "k8ssa_api_connections_total", "counter",
           "Connections opened to the API server." KEPT);
    line(&o, "k8ssa_api_connections_total %" APR_UINT64_T_FMT "\n", SUM(api_connections));
    family(&o, "k8ssa_credential_reloads_total", "counter",
           "Times a child read the module's own token file again because it changed (each "
           "child that sees a rotated token counts it once)." KEPT);
    line(&o, "k8ssa_credential_reloads_total %" APR_UINT64_T_FMT "\n",
         SUM(credential_reloads));
    family(&o, "k8ssa_local_rejections_total", "counter",
           "Tokens refused without a review (AuthK8sTokenPrecheck, AuthK8sSignatureCheck); "
           "also counted as rejected requests." KEPT);
    for (i = 0; i < K8SSA_REJECT_REASONS; i++)
        line(&o, "k8ssa_local_rejections_total{reason=\"%s\"} %" APR_UINT64_T_FMT "\n",
             k8ssa_reject_reason_label((k8ssa_reject_reason)i), SUM(local_rejections[i]));
    family(&o, "k8ssa_reviews_shed_total", "counter",
           "Requests answered 503 by AuthK8sReviewConcurrency." KEPT);
    line(&o, "k8ssa_reviews_shed_total %" APR_UINT64_T_FMT "\n", SUM(reviews_shed));
    family(&o, "k8ssa_issuer_key_fetches_total", "counter",
           "HTTP GETs of the issuer's discovery document and key set." KEPT);
    line(&o, "k8ssa_issuer_key_fetches_total{result=\"ok\"} %" APR_UINT64_T_FMT "\n",
         SUM(issuer_key_fetches_ok));
    line(&o, "k8ssa_issuer_key_fetches_total{result=\"error\"} %" APR_UINT64_T_FMT "\n",
         SUM(issuer_key_fetches_error));
    return apr_array_pstrcat(p, o.lines, '\0');
}
