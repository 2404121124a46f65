/*
 * review.c - the review pipeline (see review.h): cache, flight, exchange,
 * entry, stale serving, for every kind of review. The kinds at the bottom
 * are the only place where TokenReviews and SubjectAccessReviews differ.
 */
#include "module.h"
#include "review.h"

#include "http_protocol.h"
#include "apr_strings.h"

#include "shield.h"

#include "counters.h"
#include "entry.h"
#include "jwt.h"
#include "tokenreview.h"

#define REVIEW_SHED K8SSA_REVIEW_SHED

#include <string.h>

struct k8ssa_review_kind {
    k8ssa_entry_kind entry_kind;
    const char *name;               /* the API object, for log lines */
    const char *path;
    /* The permission the module's own credential needs, for the fix. */
    const char *permission;
    const char *yes, *no;           /* what a verdict is called in log lines */
    char *(*body)(apr_pool_t *p, const k8ssa_review *rv);
    /* 1 with *v set, or 0 (answer unusable) with *detail; *detail may be
     * set on a verdict too (why not). */
    int (*parse)(apr_pool_t *p, const char *body, size_t len, const k8ssa_review *rv,
                 k8ssa_verdict *v, const char **detail);
    /* The token's JWT exp (seconds), 0: none; it shortens a positive entry. */
    int64_t (*expiry)(const k8ssa_review *rv);
    const char *(*subject)(apr_pool_t *p, const k8ssa_review *rv);
    const k8ssa_lifetimes *longest;  /* what the cache keeps entries for */
    /* Request notes for the access log: how the verdict came, how long the
     * review took (milliseconds). */
    const char *cache_note, *latency_note;
    k8ssa_review_kind_label label;   /* in the metrics */
    /* After a cache miss, before a review: OK to review, DONE for a local
     * refusal (a negative verdict, not cached), or the status of a failure.
     * NULL: always review. */
    int (*before_review)(request_rec *r, k8ssa_server_conf *sc, k8ssa_review *rv);
};

const char *k8ssa_review_subject(request_rec *r, const k8ssa_review *rv)
{
    return rv->kind->subject(r->pool, rv);
}

/* The request holds the client's token, and so does the answer (the API
 * server echoes spec); request pools are reused without being cleared. */
static void wipe_bodies(char *request, k8ssa_api_response *resp)
{
    memset(request, 0, strlen(request));
    if (resp->body != NULL)
        memset((char *)resp->body, 0, resp->body_len);
}

/* One exchange with the API server. OK with *v; otherwise the status of the
 * failure, logged: an error is never a verdict. */
static int send_review(request_rec *r, k8ssa_server_conf *sc, const k8ssa_review *rv,
                       k8ssa_verdict *v)
{
    const k8ssa_review_kind *k = rv->kind;
    const char *detail = NULL;
    k8ssa_api_response resp;
    char *body;
    int usable;
    apr_time_t started;
    long ms;

    if (sc->client == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, K8LOG(033) "cannot send a %s: %s", k->name,
                      sc->client_error ? sc->client_error : "no API client");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (!k8ssa_shield_enter(r, sc))
        return REVIEW_SHED;
    body = k->body(r->pool, rv);
    started = apr_time_now();
    k8ssa_apiclient_post(sc->client, r->pool, k->path, body, &resp);
    k8ssa_shield_leave();
    {
        apr_interval_time_t took = apr_time_now() - started;
        if (took < 0)
            took = 0;   /* the clock stepped back */
        unsigned i;
        ms = (long)apr_time_as_msec(took);
        k8ssa_count_duration(k->label, (apr_uint64_t)took);
        for (i = 0; i < resp.ncodes; i++)
            k8ssa_count_review_code(k->label, resp.codes[i]);
    }
    k8ssa_note(r, k->latency_note, apr_ltoa(r->pool, ms));
    switch (resp.status) {
    case K8SSA_API_OK:
        break;
    case K8SSA_API_UNAVAILABLE:
        wipe_bodies(body, &resp);
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, K8LOG(020)
                      "%s for %s failed: API server %s unavailable (%s, %u attempt%s)",
                      k->name, k->subject(r->pool, rv), sc->api.server_url, resp.error,
                      resp.attempts, resp.attempts == 1 ? "" : "s");
        return HTTP_SERVICE_UNAVAILABLE;
    case K8SSA_API_CREDENTIALS:
        wipe_bodies(body, &resp);
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, K8LOG(021)
                      "API server %s refused the module's own credentials for a %s (%s): "
                      "check AuthK8sTokenFile / AuthK8sClientCertificate, and grant RBAC "
                      "create on %s (e.g. a ClusterRoleBinding to ClusterRole "
                      "system:auth-delegator)", sc->api.server_url, k->name, resp.error,
                      k->permission);
        return HTTP_INTERNAL_SERVER_ERROR;
    case K8SSA_API_UNEXPECTED:
        wipe_bodies(body, &resp);
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, K8LOG(022)
                      "%s at %s: %s; is AuthK8sAPIServer the API server's base URL?",
                      k->name, sc->api.server_url, resp.error);
        return HTTP_INTERNAL_SERVER_ERROR;
    }

    memset(v, 0, sizeof(*v));
    usable = k->parse(r->pool, resp.body, resp.body_len, rv, v, &detail);
    wipe_bodies(body, &resp);
    if (!usable) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, K8LOG(025)
                      "unusable %s answer from %s (HTTP %ld) for %s: %s", k->name,
                      sc->api.server_url, resp.http_code, k->subject(r->pool, rv),
                      detail ? detail : "no detail");
        return HTTP_SERVICE_UNAVAILABLE;
    }
    /* One line per review (never per cache hit). */
    if (v->positive)
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, K8LOG(023) "%s: %s %s%s%s (%ld ms)",
                      k->name, k->subject(r->pool, rv), k->yes, v->id ? " " : "",
                      v->id ? v->id->username : "", ms);
    else
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, K8LOG(024) "%s: %s %s: %s (%ld ms)",
                      k->name, k->subject(r->pool, rv), k->no,
                      detail ? detail : "no reason given", ms);
    return OK;
}

static void verdict_of_entry(const k8ssa_entry *e, k8ssa_verdict *v)
{
    v->positive = e->positive;
    v->id = e->positive ? e->id : NULL;
}

/* The cached entry of rv, verified and decoded; 0 on a miss. A bad entry is
 * a miss with a warning, never a verdict. The child's own copy first; what
 * the socache gives is copied there for the next request. */
static int cache_lookup(request_rec *r, k8ssa_server_conf *sc, const k8ssa_review *rv,
                        k8ssa_entry *e)
{
    unsigned char buf[K8SSA_ENTRY_MAX];
    unsigned int len = sizeof(buf);
    k8ssa_entry_status es;
    apr_uint64_t epoch;
    apr_status_t st;

    /* A copy is used no longer than the socache keeps its entry: an
     * .htaccess TTL is cut to the server's longest, as the socache's expiry
     * cuts it. */
    if (k8ssa_cache_kept(sc->cache, rv->key, rv->kind->entry_kind, e, r->pool)
        && k8ssa_keep_until(e, apr_time_now(), rv->kind->longest) != 0) {
        ap_log_rerror(APLOG_MARK, APLOG_TRACE1, 0, r, "the verdict on %s from this child's "
                      "copy", rv->kind->subject(r->pool, rv));
        return 1;
    }
    epoch = k8ssa_cache_epoch(rv->key);
    st = k8ssa_cache_get(sc->cache, r->server, rv->key, buf, &len, r->pool);
    if (st != APR_SUCCESS) {
        if (!APR_STATUS_IS_NOTFOUND(st))
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, st, r, K8LOG(027)
                          "AuthK8sCache %s lookup failed; asking the API server for %s",
                          k8ssa_cache_spec(sc->cache), rv->kind->subject(r->pool, rv));
        return 0;
    }
    es = k8ssa_entry_decode_keyed(r->pool, sc->key_secret, rv->key, rv->kind->entry_kind,
                                  buf, len, e);
    if (es != K8SSA_ENTRY_OK) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, K8LOG(028)
                      "ignoring the AuthK8sCache %s entry of %s: %s",
                      k8ssa_cache_spec(sc->cache), rv->kind->subject(r->pool, rv),
                      k8ssa_entry_status_reason(es));
        return 0;
    }
    k8ssa_cache_keep(sc->cache, rv->key, e, epoch);
    return 1;
}

/* The verdict as an entry (MAC included), stored in the cache when it is
 * worth keeping; NULL when the identity is too large to cache. */
static unsigned char *remember(request_rec *r, k8ssa_server_conf *sc, const k8ssa_review *rv,
                               const k8ssa_verdict *v, size_t *len)
{
    unsigned char *buf = apr_palloc(r->pool, K8SSA_ENTRY_MAX);
    k8ssa_entry e;
    apr_time_t keep;
    apr_uint64_t epoch = 0;
    apr_status_t st;

    memset(&e, 0, sizeof(e));
    e.kind = rv->kind->entry_kind;
    e.positive = v->positive;
    e.id = v->id;
    e.reviewed_at = apr_time_now();
    e.token_exp = rv->kind->expiry(rv);
    if (k8ssa_entry_encode_keyed(sc->key_secret, rv->key, &e, buf, K8SSA_ENTRY_MAX, len)
        != K8SSA_ENTRY_OK) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, K8LOG(029)
                      "the verdict on %s (%s) is larger than a cache entry (%d bytes): it "
                      "is served uncached", rv->kind->subject(r->pool, rv),
                      v->id ? v->id->username : rv->kind->no, K8SSA_ENTRY_MAX);
        return NULL;
    }
    keep = k8ssa_keep_until(&e, e.reviewed_at, rv->kind->longest);
    st = APR_NOTFOUND;
    if (sc->cache != NULL && keep != 0) {
        st = k8ssa_cache_put(sc->cache, r->server, rv->key, keep, buf, (unsigned int)*len,
                             r->pool, &epoch);
        if (st != APR_SUCCESS)
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, st, r, K8LOG(034)
                          "AuthK8sCache %s could not store the verdict on %s",
                          k8ssa_cache_spec(sc->cache), rv->kind->subject(r->pool, rv));
        else
            ap_log_rerror(APLOG_MARK, APLOG_TRACE1, 0, r, "stored the verdict on %s: %lu "
                          "bytes and its %d-byte key in AuthK8sCache %s",
                          rv->kind->subject(r->pool, rv), (unsigned long)*len,
                          K8SSA_TOKENKEY_LEN, k8ssa_cache_spec(sc->cache));
    }
    /* A negative verdict that is not stored must still end an earlier
     * positive entry: stale-if-error would otherwise bring a revoked token
     * back, and a revoked permission would outlive its revocation. */
    if (sc->cache != NULL && !e.positive && st != APR_SUCCESS)
        k8ssa_cache_remove(sc->cache, r->server, rv->key, r->pool, &epoch);
    /* The child's copy of what the socache took, under the epoch of this
     * very write: a later write by anyone ends it. Nothing the socache did
     * not take: the child would know more than the cache. */
    if (sc->cache != NULL && st == APR_SUCCESS && epoch != 0)
        k8ssa_cache_keep(sc->cache, rv->key, &e, epoch);
    return buf;
}

/* While the API server fails, a positive verdict past its TTL but within
 * its stale window (AuthK8sStaleIfError, token reviews only) stands in. */
static int serve_stale(request_rec *r, const k8ssa_review *rv, const k8ssa_entry *stale,
                       int status, k8ssa_verdict *out)
{
    /* Not on a shed review: a client can fill the cap with made-up tokens,
     * and would so choose when a revoked token's old review is used. */
    if (status != HTTP_SERVICE_UNAVAILABLE || stale == NULL)
        return status;
    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, K8LOG(035)
                  "API server unavailable: serving the verdict on %s (%s) from %ld s ago "
                  "(AuthK8sStaleIfError)", rv->kind->subject(r->pool, rv),
                  stale->id ? stale->id->username : rv->kind->yes,
                  (long)apr_time_sec(apr_time_now() - stale->reviewed_at));
    k8ssa_note(r, rv->kind->cache_note, "stale");
    k8ssa_count(&k8ssa_slot->cache_lookups[rv->kind->label][K8SSA_LOOKUP_STALE]);
    verdict_of_entry(stale, out);
    return OK;
}

static int decide(request_rec *r, k8ssa_server_conf *sc, k8ssa_review *rv,
                  k8ssa_verdict *out)
{
    k8ssa_entry cached, *stale = NULL;
    k8ssa_flight *flight = NULL;
    k8ssa_flight_role role = K8SSA_FLIGHT_LEAD;
    const unsigned char *shared;
    unsigned char *encoded;
    size_t len = 0;
    int rc, outcome = 0;

    if (sc->cache != NULL && cache_lookup(r, sc, rv, &cached)) {
        switch (k8ssa_freshness_of(&cached, apr_time_now(), &rv->lifetimes)) {
        case K8SSA_FRESH:
            k8ssa_count(&k8ssa_slot->cache_lookups[rv->kind->label][K8SSA_LOOKUP_HIT]);
            k8ssa_note(r, rv->kind->cache_note, "hit");
            verdict_of_entry(&cached, out);
            return OK;
        case K8SSA_STALE:
            stale = &cached;
            break;
        case K8SSA_EXPIRED:
            break;
        }
    }

    k8ssa_note(r, rv->kind->cache_note, "miss");
    if (rv->kind->before_review != NULL) {
        rc = rv->kind->before_review(r, sc, rv);
        if (rc == DONE) {
            out->positive = 0;
            out->id = NULL;
            return OK;
        }
        if (rc != OK)
            return serve_stale(r, rv, stale, rc, out);
    }

    /* Wait for a review of the same key already under way in this child, a
     * little longer than that review may take. */
    if (k8ssa_flights_table != NULL)
        role = k8ssa_flight_join(k8ssa_flights_table, rv->key,
                                 sc->api.timeout + apr_time_from_sec(1), r->pool, &flight,
                                 &outcome, &shared, &len);
    if (role == K8SSA_FLIGHT_LANDED) {
        k8ssa_note(r, rv->kind->cache_note, "coalesced");
        k8ssa_count(&k8ssa_slot->coalesced_waits);
    }
    if (role == K8SSA_FLIGHT_LANDED) {
        k8ssa_entry e;
        if (shared == NULL) {
            /* The leader failed (and so do we), or its verdict was too large
             * to travel: ask on our own, outside any flight. */
            if (outcome != OK)
                return serve_stale(r, rv, stale, outcome, out);
            rc = send_review(r, sc, rv, out);
            return serve_stale(r, rv, stale, rc, out);
        }
        k8ssa_entry_status es = k8ssa_entry_decode_keyed(r->pool, sc->key_secret, rv->key,
                                                         rv->kind->entry_kind, shared, len,
                                                         &e);
        if (es != K8SSA_ENTRY_OK) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, K8LOG(039)
                          "the verdict on %s that another request obtained cannot be read "
                          "back: %s", rv->kind->subject(r->pool, rv),
                          k8ssa_entry_status_reason(es));
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        verdict_of_entry(&e, out);
        return OK;
    }
    if (role == K8SSA_FLIGHT_TIMEOUT) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, K8LOG(036)
                      "waited too long for the %s of %s by another request", rv->kind->name,
                      rv->kind->subject(r->pool, rv));
        return serve_stale(r, rv, stale, HTTP_SERVICE_UNAVAILABLE, out);
    }

    rc = send_review(r, sc, rv, out);
    if (rc != OK) {
        /* The waiters learn of the failure too; it is never cached. */
        k8ssa_flight_land(k8ssa_flights_table, flight, rc, NULL, 0);
        return serve_stale(r, rv, stale, rc, out);
    }
    encoded = remember(r, sc, rv, out, &len);
    k8ssa_flight_land(k8ssa_flights_table, flight, OK, encoded, encoded ? len : 0);
    return OK;
}

int k8ssa_review_decide(request_rec *r, k8ssa_server_conf *sc, k8ssa_review *rv,
                        k8ssa_verdict *out)
{
    int rc = decide(r, sc, rv, out);
    const char *how = apr_table_get(r->notes, rv->kind->cache_note);
    request_rec *o;

    /* One result per lookup: hit and stale are counted where they happen. */
    if (sc->cache != NULL && how != NULL
        && (strcmp(how, "miss") == 0 || strcmp(how, "coalesced") == 0))
        k8ssa_count(&k8ssa_slot->cache_lookups[rv->kind->label][K8SSA_LOOKUP_MISS]);
    if (rc != REVIEW_SHED)
        return rc;
    /* Also on the request a sub-request serves, whose answer the client gets. */
    for (o = r; o != NULL; o = o->main)
        apr_table_setn(o->err_headers_out, "Retry-After", "1");
    return HTTP_SERVICE_UNAVAILABLE;
}

/* ---------------------------------------------------------------------------
 * TokenReview: the token under the location's audiences.
 */

static char *token_body(apr_pool_t *p, const k8ssa_review *rv)
{
    return k8ssa_tokenreview_request(p, rv->token, strlen(rv->token), rv->audiences,
                                     rv->naudiences);
}

static int token_parse(apr_pool_t *p, const char *body, size_t len, const k8ssa_review *rv,
                       k8ssa_verdict *v, const char **detail)
{
    k8ssa_review_result res;

    k8ssa_tokenreview_parse(p, body, len, rv->audiences, rv->naudiences, &res);
    *detail = res.detail;
    if (res.outcome == K8SSA_REVIEW_UNPARSEABLE)
        return 0;
    v->positive = res.outcome == K8SSA_REVIEW_AUTHENTICATED;
    v->id = v->positive ? res.id : NULL;
    return 1;
}

static int64_t token_expiry(const k8ssa_review *rv)
{
    int64_t exp = 0;

    /* Unverified, and only ever used to shorten a positive entry's life. */
    if (rv->claims_read)
        return rv->exp;         /* the shield read it: no second decode */
    if (k8ssa_jwt_exp(rv->token, strlen(rv->token), &exp))
        return exp;
    return 0;
}

static const char *token_subject(apr_pool_t *p, const k8ssa_review *rv)
{
    return apr_pstrcat(p, "token ", k8ssa_tokenkey_fingerprint(p, rv->key), NULL);
}

static const k8ssa_review_kind token_review = {
    K8SSA_ENTRY_TOKEN, "TokenReview", K8SSA_TOKENREVIEW_PATH,
    "tokenreviews.authentication.k8s.io", "is", "rejected",
    token_body, token_parse, token_expiry, token_subject, &k8ssa_longest,
    "k8ssa-cache", "k8ssa-review-ms", K8SSA_KIND_TOKEN, k8ssa_shield_token
};

int k8ssa_review_of_token(request_rec *r, const k8ssa_server_conf *sc,
                          const k8ssa_dir_conf *d, const char *token, k8ssa_review *out)
{
    memset(out, 0, sizeof(*out));
    out->kind = &token_review;
    out->token = token;
    out->audiences = audiences(d, &out->naudiences);
    out->precheck = d->token_precheck != 0;
    out->lifetimes = lifetimes(d);
    if (k8ssa_tokenkey(sc->key_secret, sc->api.server_url, out->audiences,
                       out->naudiences, token, strlen(token), out->key) != 0) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, K8LOG(026) "libcrypto cannot compute HMAC");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

/* ---------------------------------------------------------------------------
 * SubjectAccessReview: the identity as its token review gave it, and the
 * attributes of a Require k8s-can line.
 */

static char *access_body(apr_pool_t *p, const k8ssa_review *rv)
{
    return k8ssa_accessreview_request(p, rv->id, rv->attributes);
}

static int access_parse(apr_pool_t *p, const char *body, size_t len, const k8ssa_review *rv,
                        k8ssa_verdict *v, const char **detail)
{
    k8ssa_access_result res;
    (void)rv;

    k8ssa_accessreview_parse(p, body, len, &res);
    *detail = res.detail;
    if (res.outcome == K8SSA_ACCESS_UNPARSEABLE)
        return 0;
    v->positive = res.outcome == K8SSA_ACCESS_ALLOWED;
    v->id = NULL;
    return 1;
}

static int64_t access_expiry(const k8ssa_review *rv)
{
    (void)rv;
    return 0;
}

static int is_set(const char *s)
{
    return s != NULL && *s != '\0';
}

static const char *access_subject(apr_pool_t *p, const k8ssa_review *rv)
{
    const k8ssa_access_attributes *a = rv->attributes;
    const char *what, *where;

    if (is_set(a->path))
        return apr_psprintf(p, "%s to %s %s", rv->id->username, a->verb, a->path);
    what = apr_pstrcat(p, a->resource, is_set(a->group) ? "." : "", is_set(a->group) ? a->group : "",
                       is_set(a->subresource) ? "/" : "", is_set(a->subresource) ? a->subresource : "",
                       is_set(a->name) ? " named " : "", is_set(a->name) ? a->name : "", NULL);
    where = is_set(a->ns) ? apr_pstrcat(p, "in namespace ", a->ns, NULL) : "cluster-wide";
    return apr_psprintf(p, "%s to %s %s %s", rv->id->username, a->verb, what, where);
}

static const k8ssa_review_kind access_review = {
    K8SSA_ENTRY_ACCESS, "SubjectAccessReview", K8SSA_ACCESSREVIEW_PATH,
    "subjectaccessreviews.authorization.k8s.io", "allowed", "denied",
    access_body, access_parse, access_expiry, access_subject, &k8ssa_longest_access,
    "k8ssa-access-cache", "k8ssa-access-review-ms", K8SSA_KIND_ACCESS, NULL
};

int k8ssa_review_of_access(request_rec *r, const k8ssa_server_conf *sc,
                           const k8ssa_dir_conf *d, const k8ssa_identity *id,
                           const k8ssa_access_attributes *a, k8ssa_review *out)
{
    memset(out, 0, sizeof(*out));
    out->kind = &access_review;
    out->id = id;
    out->attributes = a;
    out->lifetimes = access_lifetimes(d);
    if (k8ssa_accesskey(sc->key_secret, sc->api.server_url, id, a, out->key)
        != 0) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, K8LOG(026) "libcrypto cannot compute HMAC");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}
