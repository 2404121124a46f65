/*
 * authn.c - authentication of one request: the Bearer token taken (header,
 * WebSocket entry, or the request this one derives from), its verdict found
 * (cache, a concurrent review, or a TokenReview of its own), the identity
 * handed to identity_headers.c, the challenge written; and the forward-auth
 * handler and response-headers filter.
 */
#include "module.h"
#include "conf.h"

#include "http_core.h"
#include "http_protocol.h"
#include "http_request.h"
#include "apr_strings.h"

#include "bearer.h"
#include "entry.h"
#include "headers.h"
#include "jwt.h"
#include "tokenkey.h"
#include "tokenreview.h"
#include "websocket.h"

#include <string.h>

static const char *review_context(apr_pool_t *p, const char *url, const k8ssa_dir_conf *d)
{
    size_t n, i;
    const char *const *a = audiences(d, &n);
    const char *ctx = url;

    for (i = 0; i < n; i++)
        ctx = apr_pstrcat(p, ctx, "\n", a[i], NULL);
    return ctx;
}

/* What one token is called in the cache and in log lines. */
typedef struct {
    unsigned char key[K8SSA_TOKENKEY_LEN];
    const char *fp;
} token_name;

static int name_token(request_rec *r, const k8ssa_server_conf *sc, const k8ssa_dir_conf *d,
                      const char *token, token_name *tn)
{
    size_t n;
    const char *const *a = audiences(d, &n);

    if (k8ssa_tokenkey(sc->secret, sc->secret_len, sc->api.server_url, a, n, token,
                       strlen(token), tn->key) != 0) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, K8LOG(026) "libcrypto cannot compute HMAC");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    tn->fp = k8ssa_tokenkey_fingerprint(r->pool, tn->key);
    return OK;
}

/* The request holds the client's token, and so does the answer (the API
 * server echoes spec); request pools are reused without being cleared. */
static void wipe_bodies(char *request, k8ssa_api_response *resp)
{
    memset(request, 0, strlen(request));
    if (resp->body != NULL)
        memset((char *)resp->body, 0, resp->body_len);
}

/* One TokenReview. OK with *res AUTHENTICATED or REJECTED; otherwise the
 * status of the failure, logged: an error is never an identity. */
static int send_review(request_rec *r, k8ssa_server_conf *sc, const k8ssa_dir_conf *d,
                       const char *token, const char *fp, k8ssa_review_result *res)
{
    size_t naud;
    const char *const *aud = audiences(d, &naud);
    k8ssa_api_response resp;
    char *body;

    body = k8ssa_tokenreview_request(r->pool, token, strlen(token), aud, naud);
    k8ssa_apiclient_post(sc->client, r->pool, K8SSA_TOKENREVIEW_PATH, body, &resp);
    if (resp.status != K8SSA_API_OK)
        wipe_bodies(body, &resp);
    switch (resp.status) {
    case K8SSA_API_OK:
        break;
    case K8SSA_API_UNAVAILABLE:
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, K8LOG(020)
                      "TokenReview for token %s failed: API server %s unavailable (%s, "
                      "%u attempt%s)", fp, sc->api.server_url, resp.error, resp.attempts,
                      resp.attempts == 1 ? "" : "s");
        return HTTP_SERVICE_UNAVAILABLE;
    case K8SSA_API_CREDENTIALS:
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, K8LOG(021)
                      "API server %s refused the module's own credentials (%s): check "
                      "AuthK8sTokenFile / AuthK8sClientCertificate, and grant RBAC create on "
                      "tokenreviews.authentication.k8s.io (e.g. a ClusterRoleBinding to "
                      "ClusterRole system:auth-delegator)", sc->api.server_url, resp.error);
        return HTTP_INTERNAL_SERVER_ERROR;
    case K8SSA_API_UNEXPECTED:
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, K8LOG(022)
                      "TokenReview at %s: %s; is AuthK8sAPIServer the API server's base "
                      "URL?", sc->api.server_url, resp.error);
        return HTTP_INTERNAL_SERVER_ERROR;
    }

    k8ssa_tokenreview_parse(r->pool, resp.body, resp.body_len, aud, naud, res);
    wipe_bodies(body, &resp);
    switch (res->outcome) {
    case K8SSA_REVIEW_AUTHENTICATED:
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, K8LOG(023)
                      "token %s is %s", fp, res->id->username);
        return OK;
    case K8SSA_REVIEW_REJECTED:
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, K8LOG(024)
                      "token %s rejected: %s", fp, res->detail);
        return OK;
    case K8SSA_REVIEW_UNPARSEABLE:
        break;
    }
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, K8LOG(025)
                  "unusable TokenReview answer from %s (HTTP %ld): %s",
                  sc->api.server_url, resp.http_code, res->detail);
    return HTTP_SERVICE_UNAVAILABLE;
}

/* Applies a verdict, fresh from the API server, from the cache or from
 * another request's review. */
static int use_verdict(request_rec *r, k8ssa_request_state *st, const k8ssa_identity *id)
{
    if (id != NULL) {
        st->id = id;
        return OK;
    }
    st->failure = K8SSA_FAIL_INVALID;
    ap_note_auth_failure(r);
    return HTTP_UNAUTHORIZED;
}

/* The cached entry of a token, verified and decoded; 0 on a miss. A bad
 * entry is a miss with a warning, never an identity. */
static int cache_lookup(request_rec *r, k8ssa_server_conf *sc, const token_name *tn,
                        k8ssa_entry *e)
{
    unsigned char buf[K8SSA_ENTRY_MAX];
    unsigned int len = sizeof(buf);
    k8ssa_entry_status es;
    apr_status_t rv;

    rv = k8ssa_cache_get(sc->cache, r->server, tn->key, buf, &len, r->pool);
    if (rv != APR_SUCCESS) {
        if (!APR_STATUS_IS_NOTFOUND(rv))
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, rv, r, K8LOG(027)
                          "AuthK8sCache %s lookup failed; reviewing token %s",
                          k8ssa_cache_spec(sc->cache), tn->fp);
        return 0;
    }
    es = k8ssa_entry_decode(r->pool, sc->secret, sc->secret_len, tn->key, K8SSA_ENTRY_TOKEN,
                            buf, len, e);
    if (es != K8SSA_ENTRY_OK) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, K8LOG(028)
                      "ignoring the AuthK8sCache %s entry of token %s: %s",
                      k8ssa_cache_spec(sc->cache), tn->fp, k8ssa_entry_status_reason(es));
        return 0;
    }
    return 1;
}

/* The verdict of a review as an entry (MAC included), stored in the cache
 * when it is worth keeping; NULL when the identity is too large to cache. */
static unsigned char *remember(request_rec *r, k8ssa_server_conf *sc, const token_name *tn,
                               const char *token, const k8ssa_review_result *res,
                               size_t *len)
{
    unsigned char *buf = apr_palloc(r->pool, K8SSA_ENTRY_MAX);
    k8ssa_entry e;
    int64_t exp = 0;
    apr_time_t keep;
    apr_status_t rv;

    memset(&e, 0, sizeof(e));
    e.kind = K8SSA_ENTRY_TOKEN;
    e.positive = res->outcome == K8SSA_REVIEW_AUTHENTICATED;
    e.id = res->id;
    e.reviewed_at = apr_time_now();
    /* Unverified, and only ever used to shorten a positive entry's life. */
    if (k8ssa_jwt_exp(token, strlen(token), &exp))
        e.token_exp = exp;
    if (k8ssa_entry_encode(sc->secret, sc->secret_len, tn->key, &e, buf, K8SSA_ENTRY_MAX, len)
        != K8SSA_ENTRY_OK) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, K8LOG(029)
                      "the identity of token %s (%s) is larger than a cache entry (%d "
                      "bytes): it is served uncached", tn->fp,
                      res->id ? res->id->username : "rejected", K8SSA_ENTRY_MAX);
        return NULL;
    }
    keep = k8ssa_keep_until(&e, e.reviewed_at, &k8ssa_longest);
    rv = APR_NOTFOUND;
    if (sc->cache != NULL && keep != 0) {
        rv = k8ssa_cache_put(sc->cache, r->server, tn->key, keep, buf, (unsigned int)*len,
                             r->pool);
        if (rv != APR_SUCCESS)
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, rv, r, K8LOG(034)
                          "AuthK8sCache %s could not store the review of token %s",
                          k8ssa_cache_spec(sc->cache), tn->fp);
    }
    /* A rejection that is not stored must still end an earlier positive
     * entry: stale-if-error would otherwise bring a revoked token back. */
    if (sc->cache != NULL && !e.positive && rv != APR_SUCCESS)
        k8ssa_cache_remove(sc->cache, r->server, tn->key, r->pool);
    return buf;
}

/* While the API server fails, a positive review past its TTL but within
 * AuthK8sStaleIfError stands in, with a warning. */
static int serve_stale(request_rec *r, k8ssa_request_state *st, const k8ssa_entry *stale,
                       const char *fp, int status)
{
    if (status != HTTP_SERVICE_UNAVAILABLE || stale == NULL)
        return status;
    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, K8LOG(035)
                  "API server unavailable: serving the review of token %s (%s) from %ld s "
                  "ago (AuthK8sStaleIfError)", fp, stale->id->username,
                  (long)apr_time_sec(apr_time_now() - stale->reviewed_at));
    return use_verdict(r, st, stale->id);
}

/* A review of its own, outside any flight: the identity of a token too large
 * to cache cannot be handed to waiting requests either. */
static int authenticate_uncached(request_rec *r, k8ssa_server_conf *sc,
                                 const k8ssa_dir_conf *d, k8ssa_request_state *st,
                                 const char *token, const token_name *tn)
{
    k8ssa_review_result res;
    int rc = send_review(r, sc, d, token, tn->fp, &res);

    if (rc != OK)
        return rc;
    return use_verdict(r, st, res.outcome == K8SSA_REVIEW_AUTHENTICATED ? res.id : NULL);
}

/* The verdict on a token: from the cache, from a concurrent request's review,
 * or from a review of its own. */
static int authenticate_token(request_rec *r, k8ssa_server_conf *sc, const k8ssa_dir_conf *d,
                              k8ssa_request_state *st, const char *token)
{
    k8ssa_lifetimes lt = lifetimes(d);
    k8ssa_entry cached, *stale = NULL;
    k8ssa_review_result res;
    k8ssa_flight *flight = NULL;
    k8ssa_flight_role role = K8SSA_FLIGHT_LEAD;
    const unsigned char *shared;
    unsigned char *encoded;
    size_t len = 0;
    token_name tn;
    int rc, outcome = 0;

    rc = name_token(r, sc, d, token, &tn);
    if (rc != OK)
        return rc;
    if (sc->cache != NULL && cache_lookup(r, sc, &tn, &cached)) {
        switch (k8ssa_freshness_of(&cached, apr_time_now(), &lt)) {
        case K8SSA_FRESH:
            return use_verdict(r, st, cached.positive ? cached.id : NULL);
        case K8SSA_STALE:
            stale = &cached;
            break;
        case K8SSA_EXPIRED:
            break;
        }
    }

    /* Wait for a review of the same token already under way in this child,
     * a little longer than that review may take. */
    if (k8ssa_flights_table != NULL)
        role = k8ssa_flight_join(k8ssa_flights_table, tn.key,
                                 sc->api.timeout + apr_time_from_sec(1), r->pool, &flight,
                                 &outcome, &shared, &len);
    if (role == K8SSA_FLIGHT_LANDED) {
        k8ssa_entry e;
        if (shared == NULL)
            return outcome == OK ? authenticate_uncached(r, sc, d, st, token, &tn)
                                 : serve_stale(r, st, stale, tn.fp, outcome);
        if (k8ssa_entry_decode(r->pool, sc->secret, sc->secret_len, tn.key, K8SSA_ENTRY_TOKEN,
                               shared, len, &e) == K8SSA_ENTRY_OK)
            return use_verdict(r, st, e.positive ? e.id : NULL);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (role == K8SSA_FLIGHT_TIMEOUT) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, K8LOG(036)
                      "waited too long for the review of token %s by another request",
                      tn.fp);
        return serve_stale(r, st, stale, tn.fp, HTTP_SERVICE_UNAVAILABLE);
    }

    rc = send_review(r, sc, d, token, tn.fp, &res);
    if (rc != OK) {
        /* The waiters learn of the failure too; it is never cached. */
        k8ssa_flight_land(k8ssa_flights_table, flight, rc, NULL, 0);
        return serve_stale(r, st, stale, tn.fp, rc);
    }
    encoded = remember(r, sc, &tn, token, &res, &len);
    k8ssa_flight_land(k8ssa_flights_table, flight, OK, encoded, len);
    return use_verdict(r, st, res.outcome == K8SSA_REVIEW_AUTHENTICATED ? res.id : NULL);
}

/* Request pools are reused without being cleared: the token goes with it. */
apr_status_t k8ssa_wipe_token_copy(void *token)
{
    memset(token, 0, strlen(token));
    return APR_SUCCESS;
}

/* As Kubernetes: the entry is a credential only on a WebSocket upgrade. */
int k8ssa_is_websocket_upgrade(request_rec *r)
{
    const char *upgrade = apr_table_get(r->headers_in, "Upgrade");
    return upgrade != NULL && ap_find_token(r->pool, upgrade, "websocket");
}

int k8ssa_check_authn(request_rec *r)
{
    k8ssa_server_conf *sc;
    k8ssa_dir_conf *d;
    k8ssa_request_state *st, *prior;
    const char *header, *token = NULL, *ws, *ws_token = NULL;
    size_t off = 0, len = 0;
    k8ssa_bearer_status bs;
    k8ssa_ws_status wss;
    int rc;

    if (!k8ssa_is_our_auth_type(r))
        return DECLINED;
    sc = ap_get_module_config(r->server->module_config, &auth_k8ssa_module);
    d = ap_get_module_config(r->per_dir_config, &auth_k8ssa_module);

    /* post_perdir_config scrubbed the identity headers already. */
    r->ap_auth_type = (char *)K8SSA_AUTH_TYPE;
    st = apr_pcalloc(r->pool, sizeof(*st));
    ap_set_module_config(r->request_config, &auth_k8ssa_module, st);

    if (ap_auth_name(r) == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, K8LOG(030)
                      "AuthType " K8SSA_AUTH_TYPE " needs an AuthName (the realm of the "
                      "challenge) for %s", r->uri);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (sc->api.server_url == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, K8LOG(031)
                      "AuthType " K8SSA_AUTH_TYPE " for %s but no API server is known: set "
                      "AuthK8sAPIServer in the server configuration", r->uri);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    st->review_context = review_context(r->pool, sc->api.server_url, d);

    /* The WebSocket entry is a credential: it never reaches the backend. */
    ws = apr_table_get(r->headers_in, "Sec-WebSocket-Protocol");
    if (ws != NULL) {
        const char *others = NULL;
        wss = k8ssa_ws_bearer(r->pool, ws, &ws_token, &others);
        if (wss != K8SSA_WS_ABSENT) {
            if (others != NULL)
                apr_table_setn(r->headers_in, "Sec-WebSocket-Protocol", others);
            else
                apr_table_unset(r->headers_in, "Sec-WebSocket-Protocol");
        }
        if (wss == K8SSA_WS_MALFORMED) {
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, K8LOG(037)
                          "malformed Sec-WebSocket-Protocol bearer entry (it must appear "
                          "once and hold an unpadded base64url token)");
            st->failure = K8SSA_FAIL_MALFORMED;
            ap_note_auth_failure(r);
            return HTTP_BAD_REQUEST;
        }
    }

    header = apr_table_get(r->headers_in, "Authorization");
    bs = k8ssa_bearer_parse(header, &off, &len);
    prior = k8ssa_inherited_state(r);
    if (bs == K8SSA_BEARER_OK) {
        token = apr_pstrmemdup(r->pool, header + off, len);
        apr_pool_cleanup_register(r->pool, token, k8ssa_wipe_token_copy, apr_pool_cleanup_null);
    } else if (bs == K8SSA_BEARER_ABSENT && header == NULL && ws_token != NULL
               && k8ssa_is_websocket_upgrade(r)) {
        token = ws_token;
        apr_pool_cleanup_register(r->pool, token, k8ssa_wipe_token_copy, apr_pool_cleanup_null);
        bs = K8SSA_BEARER_OK;
    } else if (bs == K8SSA_BEARER_ABSENT && header == NULL && prior && prior->token) {
        /* A sub-request or redirect after AuthK8sForwardToken Off. */
        token = prior->token;
        bs = K8SSA_BEARER_OK;
    }
    switch (bs) {
    case K8SSA_BEARER_OK:
        break;
    case K8SSA_BEARER_ABSENT:
        st->failure = K8SSA_FAIL_MISSING;
        ap_note_auth_failure(r);
        return HTTP_UNAUTHORIZED;
    default:
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, K8LOG(032)
                      "malformed Authorization header: %s", k8ssa_bearer_status_reason(bs));
        st->failure = K8SSA_FAIL_MALFORMED;
        ap_note_auth_failure(r);
        return HTTP_BAD_REQUEST;
    }
    st->token = token;

    if (prior && prior->id && prior->token && strcmp(prior->token, token) == 0
        && strcmp(prior->review_context, st->review_context) == 0) {
        st->id = prior->id;  /* the same review already answered for this token */
    } else {
        if (sc->client == NULL) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, K8LOG(033) "cannot review tokens: %s",
                          sc->client_error ? sc->client_error : "no API client");
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        rc = authenticate_token(r, sc, d, st, token);
        if (rc != OK)
            return rc;
    }
    r->user = apr_pstrdup(r->pool, st->id->username);
    st->user = r->user;
    return k8ssa_identity_export(r);
}

/* RFC 6750 section 3 challenge; the error tells the client what went wrong. */
int k8ssa_note_auth_failure(request_rec *r, const char *auth_type)
{
    k8ssa_request_state *st;
    const char *realm, *error = NULL, *challenge;

    if (ap_cstr_casecmp(auth_type, K8SSA_AUTH_TYPE) != 0)
        return DECLINED;
    st = k8ssa_request_state_of(r);
    if (st == NULL || st->failure == K8SSA_FAIL_NONE)
        error = r->user ? "insufficient_scope" : NULL;
    else if (st->failure == K8SSA_FAIL_MALFORMED)
        error = "invalid_request";
    else if (st->failure == K8SSA_FAIL_INVALID)
        error = "invalid_token";
    realm = ap_auth_name(r) ? ap_escape_quotes(r->pool, ap_auth_name(r)) : "";
    challenge = error ? apr_psprintf(r->pool, "Bearer realm=\"%s\", error=\"%s\"", realm, error)
                      : apr_psprintf(r->pool, "Bearer realm=\"%s\"", realm);
    apr_table_setn(r->err_headers_out, "WWW-Authenticate", challenge);
    return OK;
}


int k8ssa_check_handler(request_rec *r)
{

    if (r->handler == NULL || strcmp(r->handler, K8SSA_CHECK_HANDLER) != 0)
        return DECLINED;
    /* Without our authentication the endpoint would say yes to anybody; an
     * r->user from another module (SSLUserName, ...) is not ours. */
    if (k8ssa_identity_of(r) == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, K8LOG(038)
                      "SetHandler " K8SSA_CHECK_HANDLER " at %s needs AuthType "
                      K8SSA_AUTH_TYPE " and a Require that authenticates (valid-user, "
                      "k8s-*)", r->uri);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    ap_discard_request_body(r);
    ap_set_content_length(r, 0);
    return OK;
}

/* ---------------------------------------------------------------------------
 * AuthK8sResponseHeaders: the identity on the answer, for forward-auth.
 *
 * Added by an output filter, when the answer is final: only a 2xx answer
 * carries them. Setting them while authenticating would leak them onto the
 * 403/404 of a local ErrorDocument, whose internal redirect authenticates
 * again with a success of its own.
 */

#define K8SSA_RESPONSE_FILTER "K8SSA_RESPONSE_HEADERS"

static int answer_is_success(request_rec *r)
{
    request_rec *p;

    if (r->status < 200 || r->status >= 300)
        return 0;
    for (p = r->prev; p != NULL; p = p->prev)
        if (p->status >= 300)
            return 0;  /* an ErrorDocument (or redirect) for an earlier failure */
    return 1;
}

/* A request of r's redirect chain (r, the one it redirects, ...) whose
 * location answers with the identity (AuthK8sResponseHeaders On). */
static int answers_with_identity(request_rec *o)
{
    const k8ssa_dir_conf *d = ap_get_module_config(o->per_dir_config, &auth_k8ssa_module);
    return d->response_headers == 1 && k8ssa_is_our_auth_type(o);
}

/* In forward-auth mode the response headers are the identity a gateway
 * trusts: whatever a handler or backend put under those names goes from every
 * answer, also where a local redirect (a CGI's Location:, an ErrorDocument)
 * carried its err_headers_out to another location; the module's identity
 * comes on a 2xx answer only. */
static apr_status_t response_headers_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    request_rec *r = f->r, *o;
    const k8ssa_identity *id = k8ssa_identity_of(r);

    for (o = r; o != NULL; o = o->prev) {
        if (answers_with_identity(o)) {
            const k8ssa_dir_conf *d = ap_get_module_config(o->per_dir_config,
                                                           &auth_k8ssa_module);
            k8ssa_remove_identity_headers(r, r->headers_out, d);
            k8ssa_remove_identity_headers(r, r->err_headers_out, d);
        }
    }
    /* A group holding the separator failed the request in check_authn. */
    if (id != NULL && answers_with_identity(r) && answer_is_success(r))
        k8ssa_put_identity_headers(r, r->headers_out,
                                   ap_get_module_config(r->per_dir_config, &auth_k8ssa_module),
                                   id);
    ap_remove_output_filter(f);
    return ap_pass_brigade(f->next, bb);
}

void k8ssa_insert_filter(request_rec *r)
{
    request_rec *o;

    for (o = r; o != NULL; o = o->prev) {
        if (answers_with_identity(o)) {
            ap_add_output_filter(K8SSA_RESPONSE_FILTER, NULL, r, r->connection);
            return;
        }
    }
}

void k8ssa_register_filters(void)
{
    /* Before the protocol filters write the header. */
    ap_register_output_filter(K8SSA_RESPONSE_FILTER, response_headers_filter, NULL,
                              AP_FTYPE_CONTENT_SET);
}
