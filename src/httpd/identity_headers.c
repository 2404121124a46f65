/*
 * identity_headers.c - what the backend of a request learns of its identity,
 * on every path a request takes inside httpd.
 *
 * In a location with this AuthType the identity headers and the K8S_*
 * variables are the module's alone. k8ssa_identity_apply() removes whatever
 * stands under those names (sent by the client, or left by the request this
 * one derives from), takes them out of the Connection header, then puts the
 * identity this module authenticated for this request, if any, under this
 * location's names. It runs
 *  - in post_perdir_config, for every request httpd processes (main request,
 *    sub-request, internal redirect) as soon as its configuration is known,
 *    before any access, authentication or authorization hook sees it;
 *  - in check_authn, right after a verdict, so that Require (expr) and
 *    mod_rewrite see the identity (k8ssa_identity_export: the scrub of
 *    post_perdir_config still holds there);
 *  - in fixups, last: httpd skips authentication for a sub-request or a
 *    redirect under the configuration of the request it derives from (it
 *    copies r->user), and mod_dir's index lookup swaps the main request's
 *    configuration for a sub-request's; what the handler sees is settled here.
 */
#include "module.h"
#include "conf.h"

#include "http_core.h"
#include "http_request.h"
#include "apr_strings.h"
#include "apr_lib.h"

#include "bearer.h"
#include "headers.h"
#include "websocket.h"

#include <string.h>

/* What the module exports besides the headers (see INTERFACE.md). */
static const char *const identity_variables[] = {
    "REMOTE_USER", "K8S_USER", "K8S_UID", "K8S_GROUPS", "K8S_NAMESPACE", "K8S_SERVICEACCOUNT"
};

/* Any spelling of them: tables fold case. */
static int is_identity_variable_name(const char *name)
{
    size_t i;

    if (apr_tolower(name[0]) != 'r' && apr_tolower(name[0]) != 'k')
        return 0;               /* REMOTE_USER, K8S_*: most go at the first letter */
    for (i = 0; i < sizeof(identity_variables) / sizeof(identity_variables[0]); i++)
        if (ap_cstr_casecmp(name, identity_variables[i]) == 0)
            return 1;
    return 0;
}

k8ssa_request_state *k8ssa_request_state_of(request_rec *r)
{
    return ap_get_module_config(r->request_config, &auth_k8ssa_module);
}

/* The request r derives from: the one it redirects (prev) first, as a
 * redirect made inside a sub-request has both: prev, the sub-request that
 * holds the state, and main, the parent. */
static request_rec *origin_of(const request_rec *r)
{
    return r->prev ? r->prev : r->main;
}

/* The state of the request this one derives from (sub-request, redirect). */
k8ssa_request_state *k8ssa_inherited_state(request_rec *r)
{
    request_rec *o;

    for (o = origin_of(r); o != NULL; o = origin_of(o)) {
        k8ssa_request_state *st = k8ssa_request_state_of(o);
        if (st != NULL)
            return st;
    }
    return NULL;
}

/* Asked several times per request: the spelling of the documentation is
 * matched by one (vectorized) strcmp, any other by the case-folding one. */
int k8ssa_is_our_auth_type(request_rec *r)
{
    const char *type = ap_auth_type(r);
    return type != NULL && (strcmp(type, K8SSA_AUTH_TYPE) == 0
                            || ap_cstr_casecmp(type, K8SSA_AUTH_TYPE) == 0);
}

/* r->user is this module's only when it is the very string check_authn set,
 * here or in a request of the chain (httpd copies the pointer when it skips
 * authentication): another module's user of the same name is not. */
const k8ssa_identity *k8ssa_identity_of(request_rec *r)
{
    request_rec *o;

    if (r->user == NULL || !k8ssa_is_our_auth_type(r))
        return NULL;
    for (o = r; o != NULL; o = origin_of(o)) {
        k8ssa_request_state *st = k8ssa_request_state_of(o);
        if (st != NULL && st->id != NULL && st->user == r->user)
            return st->id;
    }
    return NULL;
}

static k8ssa_header_names names_of(const k8ssa_dir_conf *d)
{
    k8ssa_header_names n;

    n.user = user_header(d);
    n.groups = groups_header(d);
    n.extra_prefix = extra_prefix(d);
    return n;
}

typedef struct {
    apr_pool_t *pool;
    const k8ssa_header_names *names;
    apr_array_header_t *found;      /* NULL until something matches */
} header_scan;

/* The array is made on the first match only: the common request has none. */
static void found(header_scan *scan, const char *key)
{
    if (scan->found == NULL)
        scan->found = apr_array_make(scan->pool, 2, sizeof(const char *));
    APR_ARRAY_PUSH(scan->found, const char *) = key;
}

static int collect_identity_headers(void *rec, const char *key, const char *value)
{
    header_scan *scan = rec;
    (void)value;
    if (k8ssa_is_identity_header(scan->names, key, strlen(key)))
        found(scan, key);
    return 1;
}

/* Removes the fields of t named like identity headers; log: as client-sent. */
static void remove_named(request_rec *r, apr_table_t *t, const k8ssa_header_names *names,
                         int log)
{
    header_scan scan;
    int j;

    scan.pool = r->pool;
    scan.names = names;
    scan.found = NULL;
    apr_table_do(collect_identity_headers, &scan, t, NULL);
    for (j = 0; scan.found != NULL && j < scan.found->nelts; j++) {
        const char *name = APR_ARRAY_IDX(scan.found, j, const char *);
        if (log)
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, K8LOG(010)
                          "removed client-sent identity header %s", name);
        apr_table_unset(t, name);
    }
}

/* The values of the fields a table holds under one name. */
static int collect_values(void *rec, const char *key, const char *value)
{
    apr_array_header_t *values = rec;
    (void)key;
    APR_ARRAY_PUSH(values, const char *) = value;
    return 1;
}

/* The Connection options that name identity headers go: mod_proxy would
 * otherwise remove the headers the module sets as hop-by-hop. */
static void clean_connection(request_rec *r, const k8ssa_header_names *names, int log)
{
    apr_array_header_t *values;
    const char *joined, *kept;
    size_t removed = 0;

    if (apr_table_get(r->headers_in, "Connection") == NULL)
        return;
    values = apr_array_make(r->pool, 1, sizeof(const char *));
    apr_table_do(collect_values, values, r->headers_in, "Connection", NULL);
    joined = apr_array_pstrcat(r->pool, values, ',');
    kept = k8ssa_connection_without_identity(r->pool, joined, names, &removed);
    if (removed == 0)
        return;
    if (log)
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, K8LOG(014)
                      "removed %lu identity header name%s from the client's Connection "
                      "header", (unsigned long)removed, removed == 1 ? "" : "s");
    if (kept != NULL)
        apr_table_setn(r->headers_in, "Connection", kept);
    else
        apr_table_unset(r->headers_in, "Connection");
}

/* The CGI form of a header (HTTP_X_REMOTE_USER), also as an internal
 * redirect renames it (REDIRECT_HTTP_...): a parent request that ran
 * mod_include or a CGI put the client's headers in subprocess_env, which its
 * sub-requests copy. */
static int collect_identity_variables(void *rec, const char *key, const char *value)
{
    header_scan *scan = rec;
    const char *name = key;
    (void)value;
    while (ap_cstr_casecmpn(name, "REDIRECT_", 9) == 0)
        name += 9;
    if (ap_cstr_casecmpn(name, "HTTP_", 5) == 0
        && k8ssa_is_identity_header(scan->names, name + 5, strlen(name + 5)))
        found(scan, key);
    return 1;
}

static void scrub(request_rec *r, const k8ssa_dir_conf *d, int from_client)
{
    k8ssa_header_names names = names_of(d);
    header_scan scan;
    size_t i;
    int j;

    remove_named(r, r->headers_in, &names, from_client);
    clean_connection(r, &names, from_client);

    scan.pool = r->pool;
    scan.names = &names;
    scan.found = NULL;
    apr_table_do(collect_identity_variables, &scan, r->subprocess_env, NULL);
    for (j = 0; scan.found != NULL && j < scan.found->nelts; j++)
        apr_table_unset(r->subprocess_env, APR_ARRAY_IDX(scan.found, j, const char *));
    for (i = 0; i < sizeof(identity_variables) / sizeof(identity_variables[0]); i++)
        apr_table_unset(r->subprocess_env, identity_variables[i]);
}

/* What the identity of a request becomes under a location's names, worked
 * out once per request: the identity is exported up to four times (check_authn,
 * fixups, and again for mod_dir's index sub-request). */
struct k8ssa_export {
    const k8ssa_identity *id;
    /* copies of the location's settings it was made for */
    const char *user_header, *groups_header, *extra_prefix, *user_prefix, *separator;
    int separator_set;
    int status;                 /* OK, or 500: the identity cannot be written */
    const char *user;           /* with AuthK8sUserPrefix */
    const char *joined;         /* the groups under AuthK8sGroupsSeparator, or NULL */
    const char **extra_names;   /* a header name per extra key; NULL: prefix none */
    const char *groups_env, *ns, *sa;
    int is_sa;
};

/* By content: an .htaccess configuration lives in a (sub-)request's pool,
 * and another one may later stand at the same address. */
static int same_string(const char *a, const char *b)
{
    return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static int export_fits(const k8ssa_export *x, const k8ssa_dir_conf *d, const k8ssa_identity *id)
{
    return x != NULL && x->id == id && same_string(x->user_header, user_header(d))
           && same_string(x->groups_header, groups_header(d))
           && same_string(x->extra_prefix, extra_prefix(d))
           && same_string(x->user_prefix, d->user_prefix)
           && same_string(x->separator, d->groups_separator)
           && x->separator_set == d->groups_separator_set;
}

/* An extra key must not write the user or groups header: with a prefix that
 * overlaps them (X-Remote- and X-Remote-User), key "user" would. */
static int extra_collides(request_rec *r, const k8ssa_export *x)
{
    const char *u = x->user_header, *g = x->groups_header;
    size_t i;

    for (i = 0; x->extra_names != NULL && i < x->id->nextra; i++) {
        const char *h = x->extra_names[i];
        if ((*u && k8ssa_header_name_equals(h, u)) || (*g && k8ssa_header_name_equals(h, g))) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, K8LOG(017)
                          "the extra key \"%s\" of %s would be written as header %s, which "
                          "is AuthK8sUserHeader or AuthK8sGroupsHeader: give "
                          "AuthK8sExtraHeaderPrefix a prefix they do not start with, for %s",
                          x->id->extra[i].key, x->id->username, h, r->uri);
            return 1;
        }
    }
    return 0;
}

static void prepare_export(request_rec *r, apr_pool_t *p, const k8ssa_dir_conf *d,
                           const k8ssa_identity *id, k8ssa_export *x)
{
    size_t i;

    memset(x, 0, sizeof(*x));
    x->id = id;
    /* Copies in p, which outlives every request the export serves. */
    x->user_header = apr_pstrdup(p, user_header(d));
    x->groups_header = apr_pstrdup(p, groups_header(d));
    x->extra_prefix = apr_pstrdup(p, extra_prefix(d));
    x->user_prefix = d->user_prefix ? apr_pstrdup(p, d->user_prefix) : NULL;
    x->separator = d->groups_separator ? apr_pstrdup(p, d->groups_separator) : NULL;
    x->separator_set = d->groups_separator_set;
    x->user = d->user_prefix ? apr_pstrcat(p, d->user_prefix, id->username, NULL)
                             : id->username;
    if (*x->extra_prefix && id->nextra > 0) {
        x->extra_names = apr_palloc(p, id->nextra * sizeof(*x->extra_names));
        for (i = 0; i < id->nextra; i++)
            x->extra_names[i] = apr_pstrcat(p, x->extra_prefix,
                                            k8ssa_extra_key_encode(p, id->extra[i].key),
                                            NULL);
    }
    x->groups_env = k8ssa_identity_groups_env(p, id);
    x->is_sa = k8ssa_identity_serviceaccount(p, id->username, &x->ns, &x->sa);
    if (extra_collides(r, x)) {
        x->status = HTTP_INTERNAL_SERVER_ERROR;
        return;
    }
    if (*x->groups_header && id->ngroups > 0 && d->groups_separator_set) {
        x->joined = k8ssa_identity_join_groups(p, id, d->groups_separator);
        if (x->joined == NULL) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, K8LOG(015)
                          "a group of %s contains AuthK8sGroupsSeparator \"%s\", so the %s "
                          "header cannot list the groups unambiguously: unset "
                          "AuthK8sGroupsSeparator (one header field per group) for %s",
                          id->username, d->groups_separator, x->groups_header, r->uri);
            x->status = HTTP_INTERNAL_SERVER_ERROR;
            return;
        }
    }
    x->status = OK;
}

/* The export of id under d, kept with the state of the request that
 * authenticated id (and in its pool: a sub-request's pool ends first). */
static const k8ssa_export *export_of(request_rec *r, const k8ssa_dir_conf *d,
                                     const k8ssa_identity *id)
{
    request_rec *o;
    k8ssa_request_state *st = NULL;

    for (o = r; o != NULL; o = origin_of(o)) {
        st = k8ssa_request_state_of(o);
        if (st != NULL && st->id == id)
            break;
    }
    if (o == NULL) {            /* not ours: made for this call alone */
        k8ssa_export *x = apr_palloc(r->pool, sizeof(*x));
        prepare_export(r, r->pool, d, id, x);
        return x;
    }
    if (!export_fits(st->export, d, id)) {
        if (st->export == NULL)
            st->export = apr_palloc(o->pool, sizeof(*st->export));
        prepare_export(r, o->pool, d, id, st->export);
    }
    return st->export;
}

void k8ssa_remove_identity_headers(request_rec *r, apr_table_t *t, const k8ssa_dir_conf *d)
{
    k8ssa_header_names names = names_of(d);
    remove_named(r, t, &names, 0);
}

int k8ssa_put_identity_headers(request_rec *r, apr_table_t *t, const k8ssa_dir_conf *d,
                               const k8ssa_identity *id)
{
    const k8ssa_export *x = export_of(r, d, id);
    size_t i, j;

    if (x->status != OK)
        return x->status;
    if (*x->user_header)
        apr_table_setn(t, x->user_header, x->user);
    if (x->joined != NULL)
        apr_table_setn(t, x->groups_header, x->joined);
    else if (*x->groups_header)
        for (i = 0; i < id->ngroups; i++)
            apr_table_addn(t, x->groups_header, id->groups[i]);
    for (i = 0; x->extra_names != NULL && i < id->nextra; i++)
        for (j = 0; j < id->extra[i].nvalues; j++)
            apr_table_addn(t, x->extra_names[i], id->extra[i].values[j]);
    return OK;
}

/* ---------------------------------------------------------------------------
 * Settled already? fixups scrubs and exports again, for what happened since
 * check_authn (another module's hooks, mod_dir's configuration swap). When
 * the request's tables still hold exactly what the module put, field for
 * field (the very key and value strings), and nothing else under those
 * names, the scrub and export would give the same tables: they are skipped.
 */

/* What put_identity() wrote into r's own tables. */
static void remember_put(request_rec *r, const k8ssa_export *x)
{
    k8ssa_request_state *st = k8ssa_request_state_of(r);

    if (st == NULL || st->export != x)
        return;                 /* the state of another request: not recorded */
    st->put_headers = r->headers_in;
    st->put_env = r->subprocess_env;
    st->put_connection = apr_table_get(r->headers_in, "Connection");
    st->put_user = r->user;
}

static int is_one_of(const char *v, const char *const *list, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (v == list[i])
            return 1;
    return 0;
}

/* 1 when the identity-named field k: v is one the module put for x. */
static int is_our_field(const k8ssa_export *x, const char *k, const char *v)
{
    const k8ssa_identity *id = x->id;
    size_t i;

    if (k == x->user_header)
        return v == x->user;
    if (k == x->groups_header)
        return x->joined != NULL ? v == x->joined : is_one_of(v, id->groups, id->ngroups);
    for (i = 0; x->extra_names != NULL && i < id->nextra; i++)
        if (k == x->extra_names[i])
            return is_one_of(v, id->extra[i].values, id->extra[i].nvalues);
    return 0;
}

static size_t fields_put(const k8ssa_export *x)
{
    size_t i, n = *x->user_header ? 1 : 0;

    if (*x->groups_header)
        n += x->joined != NULL ? 1 : x->id->ngroups;
    for (i = 0; x->extra_names != NULL && i < x->id->nextra; i++)
        n += x->id->extra[i].nvalues;
    return n;
}

/* The value the module puts under an identity variable, NULL: none. */
static const char *our_variable(request_rec *r, const k8ssa_export *x, const char *name)
{
    if (strcmp(name, "REMOTE_USER") == 0)
        return r->user;
    if (strcmp(name, "K8S_USER") == 0)
        return x->id->username;
    if (strcmp(name, "K8S_UID") == 0)
        return x->id->uid;
    if (strcmp(name, "K8S_GROUPS") == 0)
        return x->groups_env;
    if (strcmp(name, "K8S_NAMESPACE") == 0)
        return x->is_sa ? x->ns : NULL;
    if (strcmp(name, "K8S_SERVICEACCOUNT") == 0)
        return x->is_sa ? x->sa : NULL;
    return NULL;
}

static int settled(request_rec *r, const k8ssa_dir_conf *d, const k8ssa_identity *id)
{
    const k8ssa_request_state *st = k8ssa_request_state_of(r);
    const k8ssa_export *x = st != NULL ? st->export : NULL;
    k8ssa_header_names names;
    const apr_array_header_t *a;
    const apr_table_entry_t *e;
    size_t fields = 0, vars = 0;
    int i;

    if (id == NULL || x == NULL || st->put_headers != r->headers_in
        || st->put_env != r->subprocess_env || st->put_user != r->user
        || !export_fits(x, d, id) || x->status != OK
        || apr_table_get(r->headers_in, "Connection") != st->put_connection)
        return 0;
    names = names_of(d);
    a = apr_table_elts(r->headers_in);
    e = (const apr_table_entry_t *)a->elts;
    for (i = 0; i < a->nelts; i++) {
        if (e[i].key == NULL || !k8ssa_is_identity_header(&names, e[i].key, strlen(e[i].key)))
            continue;
        if (!is_our_field(x, e[i].key, e[i].val))
            return 0;
        fields++;
    }
    if (fields != fields_put(x))
        return 0;
    a = apr_table_elts(r->subprocess_env);
    e = (const apr_table_entry_t *)a->elts;
    for (i = 0; i < a->nelts; i++) {
        const char *ours;
        if (e[i].key == NULL)
            continue;
        /* the CGI forms of identity headers come only from elsewhere */
        if (ap_cstr_casecmpn(e[i].key, "HTTP_", 5) == 0
            || ap_cstr_casecmpn(e[i].key, "REDIRECT_", 9) == 0) {
            header_scan scan = { r->pool, &names, NULL };
            collect_identity_variables(&scan, e[i].key, e[i].val);
            if (scan.found != NULL)
                return 0;
            continue;
        }
        ours = our_variable(r, x, e[i].key);
        if (ours != NULL) {
            if (e[i].val != ours)
                return 0;
            vars++;
        } else if (is_identity_variable_name(e[i].key)) {
            return 0;           /* an identity variable under another spelling */
        }
    }
    return vars == (x->is_sa ? 6u : 4u);
}

static int put_identity(request_rec *r, const k8ssa_dir_conf *d, const k8ssa_identity *id)
{
    const k8ssa_export *x;
    int rc = k8ssa_put_identity_headers(r, r->headers_in, d, id);

    if (rc != OK)
        return rc;
    x = export_of(r, d, id);
    apr_table_setn(r->subprocess_env, "REMOTE_USER", r->user);
    apr_table_setn(r->subprocess_env, "K8S_USER", id->username);
    apr_table_setn(r->subprocess_env, "K8S_UID", id->uid);
    apr_table_setn(r->subprocess_env, "K8S_GROUPS", x->groups_env);
    if (x->is_sa) {
        apr_table_setn(r->subprocess_env, "K8S_NAMESPACE", x->ns);
        apr_table_setn(r->subprocess_env, "K8S_SERVICEACCOUNT", x->sa);
    }
    if (d->forward_token == 0)
        apr_table_unset(r->headers_in, "Authorization");
    remember_put(r, x);
    return OK;
}

int k8ssa_identity_export(request_rec *r)
{
    const k8ssa_identity *id = k8ssa_identity_of(r);

    return id != NULL ? put_identity(r, ap_get_module_config(r->per_dir_config,
                                                             &auth_k8ssa_module), id)
                      : OK;
}

int k8ssa_identity_apply(request_rec *r, int from_client)
{
    const k8ssa_dir_conf *d;
    const k8ssa_identity *id;

    if (!k8ssa_is_our_auth_type(r))
        return OK;
    d = ap_get_module_config(r->per_dir_config, &auth_k8ssa_module);
    id = k8ssa_identity_of(r);
    if (!from_client && settled(r, d, id))
        return OK;
    scrub(r, d, from_client);
    return id != NULL ? put_identity(r, d, id) : OK;
}

int k8ssa_post_perdir_config(request_rec *r)
{
    /* Only the client's own request brings client-sent headers; a
     * sub-request or redirect also carries what the module exported. */
    return k8ssa_identity_apply(r, r->main == NULL && r->prev == NULL);
}

/* A token removed before the backend stays with the request, for a later
 * redirect or sub-request that needs it (they share or copy headers_in). */
static void keep_token(request_rec *r, const char *token, size_t len)
{
    k8ssa_request_state *st = k8ssa_request_state_of(r);
    char *copy;

    if (st == NULL) {
        st = apr_pcalloc(r->pool, sizeof(*st));
        ap_set_module_config(r->request_config, &auth_k8ssa_module, st);
    }
    if (st->token != NULL)
        return;
    copy = apr_pstrmemdup(r->pool, token, len);
    apr_pool_cleanup_register(r->pool, copy, k8ssa_wipe_token_copy, apr_pool_cleanup_null);
    st->token = copy;
}

/* Credentials the backend must not see, whether or not this request was
 * authenticated (Require ip may have let it through with a token): the
 * Authorization header under AuthK8sForwardToken Off, and WebSocket bearer
 * entries always. */
static void remove_credentials(request_rec *r, const k8ssa_dir_conf *d)
{
    apr_array_header_t *values;
    const char *authorization = apr_table_get(r->headers_in, "Authorization");
    const char *value, *others = NULL, *token = NULL;
    size_t off = 0, len = 0;

    if (d->forward_token == 0 && authorization != NULL) {
        const k8ssa_request_state *st = k8ssa_request_state_of(r);
        /* check_authn keeps the token it took: no second parse of it */
        if ((st == NULL || st->token == NULL)
            && k8ssa_bearer_parse(authorization, &off, &len) == K8SSA_BEARER_OK)
            keep_token(r, authorization + off, len);
        apr_table_unset(r->headers_in, "Authorization");
    }
    if (apr_table_get(r->headers_in, "Sec-WebSocket-Protocol") == NULL)
        return;
    values = apr_array_make(r->pool, 1, sizeof(const char *));
    apr_table_do(collect_values, values, r->headers_in, "Sec-WebSocket-Protocol", NULL);
    value = apr_array_pstrcat(r->pool, values, ',');
    switch (k8ssa_ws_bearer(r->pool, value, &token, &others)) {
    case K8SSA_WS_ABSENT:
        return;
    case K8SSA_WS_FOUND:
        /* what check_authn would take: the entry of an upgrade without
         * Authorization */
        if (authorization == NULL && k8ssa_is_websocket_upgrade(r))
            keep_token(r, token, strlen(token));
        memset((char *)token, 0, strlen(token));
        break;
    case K8SSA_WS_MALFORMED:
        break;
    }
    if (others != NULL)
        apr_table_setn(r->headers_in, "Sec-WebSocket-Protocol", others);
    else
        apr_table_unset(r->headers_in, "Sec-WebSocket-Protocol");
}

int k8ssa_fixups(request_rec *r)
{
    int rc = k8ssa_identity_apply(r, 0);

    if (rc != OK)
        return rc;
    if (k8ssa_is_our_auth_type(r))
        remove_credentials(r, ap_get_module_config(r->per_dir_config, &auth_k8ssa_module));
    return DECLINED;
}
