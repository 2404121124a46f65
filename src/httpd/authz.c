/*
 * authz.c - Require k8s-user, k8s-group, k8s-namespace, k8s-serviceaccount:
 * values compiled at startup as httpd string expressions, matched against
 * the identity this module authenticated; Require k8s-can, decided by the
 * cluster's RBAC through the review pipeline (review.c); and the
 * authorization hook that lets an undecidable k8s-can answer 503.
 */
#include "module.h"
#include "conf.h"

#include "http_core.h"
#include "http_request.h"
#include "mod_auth.h"
#include "ap_expr.h"
#include "apr_strings.h"

#include "canline.h"
#include "review.h"

#include <stdlib.h>
#include <string.h>

typedef int (*identity_matcher)(request_rec *r, const k8ssa_identity *id, const char *want);
/* 1 when a value is a name Kubernetes accepts for that provider. */
typedef int (*value_checker)(const char *value);

/* A Require k8s-user/group/namespace/serviceaccount line: its values, each
 * a literal or its own compiled expression, so that a value from the request
 * is always exactly one value (it is never split into more, and never
 * vanishes into none). */
typedef struct {
    int nvalues;
    const char **literal;     /* a value without an expression, or NULL */
    ap_expr_info_t **expr;    /* or its compiled expression */
} identity_line;

static authz_status refuse_request_value(request_rec *r);

/* ---------------------------------------------------------------------------
 * Require lines that read the request.
 *
 * httpd skips authentication and authorization of a sub-request or an
 * internal redirect whose configuration is the very one of the request it
 * derives from, and copies that request's user (request.c): the decision is
 * taken to depend on the configuration alone. A Require k8s-* line with an
 * expression depends on the request: a redirect from /ns/team-a/go to
 * /ns/kube-system/secret under one <LocationMatch> would be served on
 * team-a's decision, and a redirect to the same path with another query
 * string would keep an answer about the old one. Such lines mark their
 * section when they are parsed; a sub-request or redirect there gets a copy
 * of the configuration vector (the very same module records, another
 * pointer), so httpd checks it again. Cached verdicts and decisions keep
 * that cheap.
 */

static void note_computed_require(cmd_parms *cmd)
{
    k8ssa_dir_conf *d = ap_get_module_config(cmd->context, &auth_k8ssa_module);

    if (d == NULL) {
        d = k8ssa_create_dir_conf(cmd->pool, (char *)cmd->path);
        ap_set_module_config(cmd->context, &auth_k8ssa_module, d);
    }
    d->computed_require = 1;
}

int k8ssa_recheck_requires(request_rec *r)
{
    const k8ssa_dir_conf *d = ap_get_module_config(r->per_dir_config, &auth_k8ssa_module);

    if (!d->computed_require || !k8ssa_is_our_auth_type(r))
        return OK;
    if ((r->prev != NULL && r->prev->per_dir_config == r->per_dir_config)
        || (r->main != NULL && r->main->per_dir_config == r->per_dir_config))
        r->per_dir_config = ap_merge_per_dir_configs(r->pool, r->per_dir_config,
                                                     ap_create_per_dir_config(r->pool));
    return OK;
}

/* What a username or group the API server gives may be (identity.h): a
 * value no identity can have names nobody. */
static int is_identity_value(const char *s)
{
    return k8ssa_identity_value_ok(s, strlen(s), 0);
}

static int match_user(request_rec *r, const k8ssa_identity *id, const char *want)
{
    (void)r;
    return strcmp(id->username, want) == 0;
}

static int match_group(request_rec *r, const k8ssa_identity *id, const char *want)
{
    size_t i;
    (void)r;
    for (i = 0; i < id->ngroups; i++)
        if (strcmp(id->groups[i], want) == 0)
            return 1;
    return 0;
}

static int match_namespace(request_rec *r, const k8ssa_identity *id, const char *want)
{
    const char *ns, *name;
    return k8ssa_identity_serviceaccount(r->pool, id->username, &ns, &name)
        && strcmp(ns, want) == 0;
}

static int match_serviceaccount(request_rec *r, const k8ssa_identity *id, const char *want)
{
    const char *ns, *name;
    size_t nslen;
    return k8ssa_identity_serviceaccount(r->pool, id->username, &ns, &name)
        && (nslen = strlen(ns), strncmp(want, ns, nslen) == 0) && want[nslen] == ':'
        && strcmp(want + nslen + 1, name) == 0;
}

static authz_status check_identity(request_rec *r, const void *parsed,
                                   identity_matcher match, value_checker valid,
                                   const char *provider)
{
    const identity_line *il = parsed;
    const k8ssa_identity *id;
    const char *err = NULL, *want;
    int i;

    if (r->user == NULL)
        return AUTHZ_DENIED_NO_USER;
    id = k8ssa_identity_of(r);
    if (id == NULL) {
        /* An error, not a denial: `Require not k8s-...` would turn a denial
         * into a grant for a user this module never saw. */
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, K8LOG(040)
                      "Require %s for %s: the user %s was not authenticated by AuthType "
                      K8SSA_AUTH_TYPE "; use the k8s-* providers only with that AuthType",
                      provider, r->uri, r->user);
        return AUTHZ_GENERAL_ERROR;
    }
    for (i = 0; i < il->nvalues; i++) {
        if (il->expr[i] == NULL) {
            if (match(r, id, il->literal[i]))
                return AUTHZ_GRANTED;
            continue;
        }
        want = ap_expr_str_exec(r, il->expr[i], &err);
        if (err != NULL) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, K8LOG(041)
                          "Require %s: cannot evaluate the expression: %s", provider, err);
            return AUTHZ_GENERAL_ERROR;
        }
        /* A value from the request that names nobody (empty, or Team-A as
         * a namespace) would be a denial, which `not` turns into a pass. */
        if (*want == '\0' || !valid(want)) {
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, K8LOG(048)
                          "Require %s refuses %s for %s: the request gives '%s', not a "
                          "Kubernetes name", provider, r->user, r->uri,
                          ap_escape_logitem(r->pool, want));
            return refuse_request_value(r);
        }
        if (match(r, id, want))
            return AUTHZ_GRANTED;
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, K8LOG(042)
                  "Require %s denies %s for %s", provider, r->user, r->uri);
    return AUTHZ_DENIED;
}

static authz_status check_k8s_user(request_rec *r, const char *line, const void *parsed)
{
    (void)line;
    return check_identity(r, parsed, match_user, is_identity_value, "k8s-user");
}

static authz_status check_k8s_group(request_rec *r, const char *line, const void *parsed)
{
    (void)line;
    return check_identity(r, parsed, match_group, is_identity_value, "k8s-group");
}

static authz_status check_k8s_namespace(request_rec *r, const char *line, const void *parsed)
{
    (void)line;
    return check_identity(r, parsed, match_namespace, k8ssa_is_namespace, "k8s-namespace");
}

static authz_status check_k8s_serviceaccount(request_rec *r, const char *line,
                                             const void *parsed)
{
    (void)line;
    return check_identity(r, parsed, match_serviceaccount, k8ssa_is_serviceaccount_ref,
                          "k8s-serviceaccount");
}

/* Values are compiled once, at startup, each its own httpd string
 * expression. */
static const char *parse_require_line(cmd_parms *cmd, const char *line, const void **parsed)
{
    const char *err = NULL, *rest, *w;
    identity_line *il;
    int n = 0, computed = 0;

    if (line == NULL || *line == '\0')
        return "Require k8s-user, k8s-group, k8s-namespace and k8s-serviceaccount need at "
               "least one value";
    il = apr_pcalloc(cmd->pool, sizeof(*il));
    for (rest = line; *rest && (w = ap_getword_conf(cmd->temp_pool, &rest)) != NULL && *w;)
        n++;
    il->literal = apr_pcalloc(cmd->pool, (size_t)(n ? n : 1) * sizeof(*il->literal));
    il->expr = apr_pcalloc(cmd->pool, (size_t)(n ? n : 1) * sizeof(*il->expr));
    for (rest = line; *rest && (w = ap_getword_conf(cmd->pool, &rest)) != NULL && *w;) {
        if (strstr(w, "%{") != NULL) {
            il->expr[il->nvalues] = ap_expr_parse_cmd(cmd, w, AP_EXPR_FLAG_STRING_RESULT, &err,
                                                      NULL);
            if (err != NULL)
                return apr_psprintf(cmd->pool, "Require k8s-*: cannot parse '%s' as an httpd "
                                    "string expression: %s", w, err);
            computed = 1;
        } else {
            il->literal[il->nvalues] = w;
        }
        il->nvalues++;
    }
    if (il->nvalues == 0)
        return "Require k8s-user, k8s-group, k8s-namespace and k8s-serviceaccount need at "
               "least one value";
    if (computed)
        note_computed_require(cmd);
    *parsed = il;
    return NULL;
}

static const authz_provider authz_k8s_user = { check_k8s_user, parse_require_line };
static const authz_provider authz_k8s_group = { check_k8s_group, parse_require_line };
static const authz_provider authz_k8s_namespace = { check_k8s_namespace, parse_require_line };
static const authz_provider authz_k8s_serviceaccount = { check_k8s_serviceaccount,
                                                         parse_require_line };

/* ---------------------------------------------------------------------------
 * Require k8s-can VERB RESOURCE[.GROUP][/SUBRESOURCE] [NAMESPACE [NAME]]
 * Require k8s-can VERB /PATH
 *
 * Each word is its own httpd string expression, so a value from the request
 * (a namespace from the URL) is always one word: it can never add a name or
 * shift the namespace. Lines without expressions are checked whole at
 * startup; with expressions, the literal words are (with a valid stand-in
 * for each computed one), and the computed values are checked per request.
 */

#define CAN_MAX_WORDS 4

typedef struct {
    const char *line;                       /* as written, for log lines */
    int nwords;
    const char *literal[CAN_MAX_WORDS];     /* a word without an expression */
    ap_expr_info_t *expr[CAN_MAX_WORDS];    /* or its compiled expression */
    const k8ssa_access_attributes *fixed;   /* every word literal: decided at startup */
    int path_form;                          /* VERB /PATH */
} can_line;

/* Valid words for each position, standing in for computed ones at startup;
 * the second word of the /PATH form stands in with a path. */
static const char *const can_stand_ins[CAN_MAX_WORDS] = { "get", "pods", "default", "name" };
#define CAN_PATH_STAND_IN "/stand-in"

#define CAN_FORMS "the forms are VERB RESOURCE[.GROUP][/SUBRESOURCE] [NAMESPACE [NAME]] " \
                  "and VERB /PATH"

/* A computed second word is a /PATH when it begins with '/' or with one of
 * httpd's URL-path variables; a resource otherwise. */
static int names_a_path(const char *w)
{
    return w[0] == '/' || ap_cstr_casecmpn(w, "%{REQUEST_URI}", 14) == 0
        || ap_cstr_casecmpn(w, "%{DOCUMENT_URI}", 15) == 0;
}

static const char *parse_can_line(cmd_parms *cmd, const char *args,
                                  const void **parsed)
{
    can_line *cl = apr_pcalloc(cmd->pool, sizeof(*cl));
    const char *words[CAN_MAX_WORDS + 1], *rest = args, *why = NULL, *w;
    k8ssa_access_attributes *fixed = apr_pcalloc(cmd->pool, sizeof(*fixed));
    int n = 0, computed = 0;

    cl->line = args ? args : "";
    while (rest != NULL && *rest && (w = ap_getword_conf(cmd->pool, &rest)) != NULL && *w) {
        if (n == CAN_MAX_WORDS)
            return apr_psprintf(cmd->pool, "Require k8s-can %s: too many words; " CAN_FORMS,
                                cl->line);
        if (strstr(w, "%{") != NULL) {
            const char *err = NULL;
            cl->expr[n] = ap_expr_parse_cmd(cmd, w, AP_EXPR_FLAG_STRING_RESULT, &err, NULL);
            if (err != NULL)
                return apr_psprintf(cmd->pool, "Require k8s-can %s: cannot parse '%s' as "
                                    "an httpd string expression: %s", cl->line, w, err);
            /* The form is the line's, never the request's. */
            words[n] = n == 1 && names_a_path(w) ? CAN_PATH_STAND_IN : can_stand_ins[n];
            computed = 1;
        } else {
            cl->literal[n] = w;
            words[n] = w;
        }
        n++;
    }
    cl->nwords = n;
    if (!k8ssa_can_attributes(cmd->pool, words, (size_t)n, fixed, &why))
        return apr_psprintf(cmd->pool, "Require k8s-can %s: %s%s; " CAN_FORMS, cl->line, why,
                            computed ? " (with its expressions standing for valid values)"
                                     : "");
    cl->path_form = fixed->path != NULL;
    if (cl->expr[0] != NULL && ap_strcasestr(args, "REQUEST_METHOD") != NULL)
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, cmd->server, K8LOG(047)
                     "Require k8s-can %s (%s line %d): the verb comes from the request method, "
                     "so a client chooses it (LIST, WATCH, IMPERSONATE, HEAD as head); map "
                     "methods to verbs with SetEnvIf Request_Method instead", cl->line,
                     cmd->directive ? cmd->directive->filename : "?",
                     cmd->directive ? cmd->directive->line_num : 0);
    if (computed)
        note_computed_require(cmd);
    else
        cl->fixed = fixed;
    *parsed = cl;
    return NULL;
}

/* Records the status a line that could not be decided calls for (503: the
 * API server failed; 500: the configuration; 403: the request gave a value
 * Kubernetes refuses), for the authorization hook. */
static void note_access_failure(request_rec *r, int status)
{
    k8ssa_request_state *st = k8ssa_request_state_of(r);

    if (st == NULL) {
        st = apr_pcalloc(r->pool, sizeof(*st));
        ap_set_module_config(r->request_config, &auth_k8ssa_module, st);
    }
    if (st->access_failure != HTTP_INTERNAL_SERVER_ERROR)
        st->access_failure = status;   /* a 500 (configuration) outranks the others */
}

/* A value from the request that Kubernetes would refuse is a 403 wherever
 * the line stands: as a denial, `Require not`, <RequireNone> or a negated
 * AuthzProviderAlias would turn it into a pass. An error ends mod_authz_core's
 * evaluation; the authorization hook answers with the status recorded. */
static authz_status refuse_request_value(request_rec *r)
{
    note_access_failure(r, HTTP_FORBIDDEN);
    return AUTHZ_GENERAL_ERROR;
}

/* The line's attributes for this request; 0 (logged) when an expression
 * fails (*status 500) or gives a value Kubernetes would not accept (*status
 * 403, since request data chose it). */
static int can_attributes_of(request_rec *r, const can_line *cl,
                             const k8ssa_access_attributes **out, int *status)
{
    const char *words[CAN_MAX_WORDS], *why = NULL;
    k8ssa_access_attributes *a;
    int i;

    if (cl->fixed != NULL) {
        *out = cl->fixed;
        return 1;
    }
    for (i = 0; i < cl->nwords; i++) {
        const char *err = NULL;
        if (cl->expr[i] == NULL) {
            words[i] = cl->literal[i];
            continue;
        }
        words[i] = ap_expr_str_exec(r, cl->expr[i], &err);
        if (err != NULL) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, K8LOG(043)
                          "Require k8s-can %s: cannot evaluate the expression: %s",
                          cl->line, err);
            *status = HTTP_INTERNAL_SERVER_ERROR;
            return 0;
        }
    }
    a = apr_palloc(r->pool, sizeof(*a));
    /* The request fills in values; it never changes the form of the line. */
    if ((words[1][0] == '/') != cl->path_form)
        why = cl->path_form ? "the path does not begin with '/'"
                            : "a resource was expected, not a /path";
    else if (k8ssa_can_attributes(r->pool, words, (size_t)cl->nwords, a, &why))
        why = NULL;
    if (why != NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, K8LOG(044)
                      "Require k8s-can %s refuses %s for %s: with this request's values, %s",
                      cl->line, r->user, r->uri, why);
        *status = HTTP_FORBIDDEN;
        return 0;
    }
    *out = a;
    return 1;
}

static authz_status check_k8s_can(request_rec *r, const char *line, const void *parsed)
{
    const can_line *cl = parsed;
    const k8ssa_access_attributes *a;
    const k8ssa_identity *id;
    k8ssa_server_conf *sc;
    k8ssa_dir_conf *d;
    k8ssa_review rv;
    k8ssa_verdict v;
    int rc = 0;
    (void)line;

    /* No identity, no question: the API server never hears of anonymous
     * requests (mod_authz_core asks again after authentication). */
    if (r->user == NULL)
        return AUTHZ_DENIED_NO_USER;
    id = k8ssa_identity_of(r);
    if (id == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, K8LOG(040)
                      "Require k8s-can for %s: the user %s was not authenticated by AuthType "
                      K8SSA_AUTH_TYPE "; use the k8s-* providers only with that AuthType",
                      r->uri, r->user);
        return AUTHZ_GENERAL_ERROR;
    }
    if (!can_attributes_of(r, cl, &a, &rc)) {
        if (rc == HTTP_FORBIDDEN)
            return refuse_request_value(r);
        note_access_failure(r, rc);
        return AUTHZ_GENERAL_ERROR;
    }
    sc = ap_get_module_config(r->server->module_config, &auth_k8ssa_module);
    d = ap_get_module_config(r->per_dir_config, &auth_k8ssa_module);
    rc = k8ssa_review_of_access(r, sc, d, id, a, &rv);
    if (rc == OK)
        rc = k8ssa_review_decide(r, sc, &rv, &v);
    if (rc != OK) {
        note_access_failure(r, rc);
        return AUTHZ_GENERAL_ERROR;
    }
    if (v.positive)
        return AUTHZ_GRANTED;
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, K8LOG(045)
                  "Require k8s-can %s denies %s", cl->line, k8ssa_review_subject(r, &rv));
    return AUTHZ_DENIED;
}

static const authz_provider authz_k8s_can = { check_k8s_can, parse_can_line };

/* ---------------------------------------------------------------------------
 * The authorization hook.
 *
 * mod_authz_core answers every AUTHZ_GENERAL_ERROR of a provider with 500,
 * but a k8s-can line that could not be decided because the API server
 * failed is a 503 (the client may retry; nothing is wrong with the
 * configuration). This hook runs first and runs the rest of httpd's
 * authorization chain itself, exactly as httpd would (the first answer that
 * is not DECLINED), from the hook list httpd publishes for it; when that
 * answer is a 500 and a k8s-can line recorded why, the answer is that
 * status. Only in locations with this AuthType; elsewhere it declines at
 * once and httpd runs the chain as always.
 */

static int check_authz(request_rec *r);

static int run_rest_of_authz_chain(request_rec *r)
{
    apr_array_header_t *hooks = ap_hook_get_auth_checker();
    const ap_LINK_auth_checker_t *link;
    int i, after_us = 0, rc;

    if (hooks == NULL)
        return DECLINED;
    link = (const ap_LINK_auth_checker_t *)hooks->elts;
    for (i = 0; i < hooks->nelts; i++) {
        if (!after_us) {
            after_us = link[i].pFunc == check_authz;
            continue;
        }
        rc = link[i].pFunc(r);
        if (rc != DECLINED)
            return rc;
    }
    return DECLINED;
}

static int check_authz(request_rec *r)
{
    k8ssa_request_state *st;
    int rc;

    if (!k8ssa_is_our_auth_type(r))
        return DECLINED;
    rc = run_rest_of_authz_chain(r);
    if (rc == DECLINED) {
        /* Declining would make httpd run the chain a second time; it would
         * answer 500 after it (decl_die). */
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, K8LOG(046)
                      "no authorization module decided on %s: is mod_authz_core loaded?",
                      r->uri);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    st = k8ssa_request_state_of(r);
    if (rc == HTTP_INTERNAL_SERVER_ERROR && st != NULL && st->access_failure != 0)
        return st->access_failure;
    return rc;
}

void k8ssa_register_authz_hook(void)
{
    ap_hook_check_authz(check_authz, NULL, NULL, APR_HOOK_REALLY_FIRST,
                        AP_AUTH_INTERNAL_PER_CONF);
}

/* ---------------------------------------------------------------------------
 * The K8S_* variables in httpd expressions.
 *
 * They exist from authentication on, but mod_authz_core evaluates Require
 * lines once without a user first, and an unset variable reads as "":
 * "%{env:K8S_NAMESPACE} != 'kube-system'" would let anybody in. So in a
 * location with this AuthType:
 *  - a Require line that reads one while the request has no identity of
 *    this module gets an evaluation error (500), never "": also from .htaccess, an
 *    AuthzProviderAlias, or a name computed at run time (startup.c refuses
 *    the forms it can see);
 *  - they come from the module only, never from httpd's process environment
 *    (where a pod could have a K8S_NAMESPACE of its own).
 * Everywhere else env() and reqenv() answer exactly as httpd's own.
 */

typedef enum { READ_ENV, READ_REQENV } env_reader;
static const env_reader read_env_kind = READ_ENV, read_reqenv_kind = READ_REQENV;

static const char *const expr_identity_variables[] = {
    "K8S_USER", "K8S_UID", "K8S_GROUPS", "K8S_NAMESPACE", "K8S_SERVICEACCOUNT"
};

static int is_identity_variable(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof(expr_identity_variables) / sizeof(expr_identity_variables[0]); i++)
        if (ap_cstr_casecmp(name, expr_identity_variables[i]) == 0)
            return 1;
    return 0;
}

/* httpd's env(): the request's notes, its environment, then the process
 * environment; reqenv(): the request's environment (util_expr_eval.c). */
static const char *httpd_read(ap_expr_eval_ctx_t *ctx, env_reader kind, const char *name)
{
    const char *v;

    if (kind == READ_REQENV)
        return ctx->r ? apr_table_get(ctx->r->subprocess_env, name) : "";
    if (ctx->r && (v = apr_table_get(ctx->r->notes, name)) != NULL)
        return v;
    if (ctx->r && (v = apr_table_get(ctx->r->subprocess_env, name)) != NULL)
        return v;
    return getenv(name);
}

static const char *read_variable(ap_expr_eval_ctx_t *ctx, const void *data, const char *arg)
{
    env_reader kind = *(const env_reader *)data;
    request_rec *r = ctx->r;
    const char *v;

    if (arg == NULL || r == NULL || !is_identity_variable(arg) || !k8ssa_is_our_auth_type(r))
        return arg ? httpd_read(ctx, kind, arg) : NULL;
    /* Not r->user == NULL: another module (SSLUserName) may have set one
     * before the pass without authentication; only this module's identity
     * sets the variables. */
    if (k8ssa_identity_of(r) == NULL && apr_table_get(r->notes, AUTHZ_PROVIDER_NAME_NOTE)) {
        *ctx->err = apr_psprintf(ctx->p, "Require reads %s before authentication, where "
                                 "it is unset: begin the expression with "
                                 "\"-n %%{REMOTE_USER} &&\" so that httpd asks for a "
                                 "token first", arg);
        return NULL;
    }
    if (kind == READ_ENV && (v = apr_table_get(r->notes, arg)) != NULL)
        return v;
    return apr_table_get(r->subprocess_env, arg);
}

/* Binds env() and reqenv() where their argument is one of the variables, or
 * is computed (known only when evaluated); httpd binds the others. */
static int lookup_variable(ap_expr_lookup_parms *parms)
{
    int env;

    if (parms->type != AP_EXPR_FUNC_STRING)
        return DECLINED;
    env = ap_cstr_casecmp(parms->name, "env") == 0;
    if (!env && ap_cstr_casecmp(parms->name, "reqenv") != 0)
        return DECLINED;
    if (parms->arg != NULL && !is_identity_variable(parms->arg))
        return DECLINED;
    *parms->func = (const void *)read_variable;
    *parms->data = env ? &read_env_kind : &read_reqenv_kind;
    return OK;
}

void k8ssa_register_expr_lookup(void)
{
    /* Before httpd's own lookup, which would bind env() itself. */
    ap_hook_expr_lookup(lookup_variable, NULL, NULL, APR_HOOK_FIRST);
}

void k8ssa_register_authz_providers(apr_pool_t *p)
{
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "k8s-user", AUTHZ_PROVIDER_VERSION,
                              &authz_k8s_user, AP_AUTH_INTERNAL_PER_CONF);
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "k8s-group", AUTHZ_PROVIDER_VERSION,
                              &authz_k8s_group, AP_AUTH_INTERNAL_PER_CONF);
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "k8s-namespace", AUTHZ_PROVIDER_VERSION,
                              &authz_k8s_namespace, AP_AUTH_INTERNAL_PER_CONF);
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "k8s-serviceaccount",
                              AUTHZ_PROVIDER_VERSION, &authz_k8s_serviceaccount,
                              AP_AUTH_INTERNAL_PER_CONF);
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "k8s-can", AUTHZ_PROVIDER_VERSION,
                              &authz_k8s_can, AP_AUTH_INTERNAL_PER_CONF);
}
