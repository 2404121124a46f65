/*
 * authn.c - authentication of one request: the Bearer token taken (header,
 * WebSocket entry, or the request this one derives from), its verdict asked
 * of the review pipeline (review.c), the identity handed to
 * identity_headers.c, the challenge written; and the forward-auth handler
 * and response-headers filter.
 */
#include "module.h"
#include "conf.h"

#include "http_core.h"
#include "http_protocol.h"
#include "http_request.h"
#include "apr_strings.h"

#include "review.h"
#include "tokenkey.h"
#include "counters.h"

#include "bearer.h"
#include "headers.h"
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

/* Applies a verdict, fresh from the API server, from the cache or from
 * another request's review. */
static int use_verdict(request_rec *r, k8ssa_request_state *st, const k8ssa_verdict *v)
{
    if (v->positive && v->id != NULL) {
        st->id = v->id;
        return OK;
    }
    st->failure = K8SSA_FAIL_INVALID;
    ap_note_auth_failure(r);
    return HTTP_UNAUTHORIZED;
}

/* The verdict on a token, from the review pipeline (review.c). */
static int authenticate_token(request_rec *r, k8ssa_server_conf *sc, const k8ssa_dir_conf *d,
                              k8ssa_request_state *st, const char *token)
{
    k8ssa_review rv;
    k8ssa_verdict v;
    int rc;

    rc = k8ssa_review_of_token(r, sc, d, token, &rv);
    if (rc != OK)
        return rc;
    /* %{k8ssa-token}n: how the logs name a token, never the token */
    k8ssa_note(r, "k8ssa-token", k8ssa_tokenkey_fingerprint(r->pool, rv.key));
    rc = k8ssa_review_decide(r, sc, &rv, &v);
    return rc == OK ? use_verdict(r, st, &v) : rc;
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

static int authenticate(request_rec *r)
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
    if (bs == K8SSA_BEARER_OK && header[off + len] == '\0') {
        token = header + off;   /* the header's own bytes: no copy to wipe */
    } else if (bs == K8SSA_BEARER_OK) {
        token = apr_pstrmemdup(r->pool, header + off, len);     /* trailing blanks */
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
        rc = authenticate_token(r, sc, d, st, token);
        if (rc != OK)
            return rc;
    }
    r->user = apr_pstrdup(r->pool, st->id->username);
    st->user = r->user;
    return k8ssa_identity_export(r);
}

/* What the access log tells of a request (%{k8ssa-outcome}n), as the
 * metrics will count it: authenticated, rejected, malformed, missing, error. */
static k8ssa_outcome outcome_of(request_rec *r, int rc)
{
    const k8ssa_request_state *st = k8ssa_request_state_of(r);

    if (rc == OK)
        return K8SSA_OUTCOME_AUTHENTICATED;
    if (rc == HTTP_BAD_REQUEST)
        return K8SSA_OUTCOME_MALFORMED;
    if (rc == HTTP_UNAUTHORIZED && st != NULL)
        return st->failure == K8SSA_FAIL_MISSING ? K8SSA_OUTCOME_MISSING
                                                 : K8SSA_OUTCOME_REJECTED;
    return K8SSA_OUTCOME_ERROR;
}

/* The client's request that r serves (r itself, or the first of its
 * redirects and sub-requests). */
static request_rec *client_request(request_rec *r)
{
    while (r->prev != NULL || r->main != NULL)
        r = r->prev != NULL ? r->prev : r->main;
    return r;
}

void k8ssa_note(request_rec *r, const char *key, const char *value)
{
    request_rec *c = client_request(r);

    apr_table_setn(r->notes, key, value);
    /* A sub-request's pool ends before the access log reads the client's
     * notes: its values are copied. */
    if (c != r && apr_table_get(c->notes, key) == NULL)
        apr_table_setn(c->notes, key, c->pool == r->pool ? value : apr_pstrdup(c->pool, value));
}

int k8ssa_check_authn(request_rec *r)
{
    int rc = authenticate(r);
    k8ssa_outcome o;

    if (rc == DECLINED)
        return rc;
    o = outcome_of(r, rc);
    /* One per client request: an ErrorDocument, a redirect or a sub-request
     * that authenticates again is not another request. */
    if (apr_table_get(client_request(r)->notes, "k8ssa-outcome") == NULL)
        k8ssa_count(&k8ssa_slot->requests[o]);
    k8ssa_note(r, "k8ssa-outcome", k8ssa_outcome_label(o));
    return rc;
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
