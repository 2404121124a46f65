/*
 * authz.c - Require k8s-user, k8s-group, k8s-namespace, k8s-serviceaccount:
 * values compiled at startup as httpd string expressions, matched against
 * the identity this module authenticated.
 */
#include "module.h"
#include "conf.h"

#include "http_core.h"
#include "http_request.h"
#include "mod_auth.h"
#include "ap_expr.h"
#include "apr_strings.h"

#include <stdlib.h>
#include <string.h>

typedef int (*identity_matcher)(request_rec *r, const k8ssa_identity *id, const char *want);

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
                                   identity_matcher match, const char *provider)
{
    const k8ssa_identity *id;
    const char *err = NULL, *line, *want;

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
    line = ap_expr_str_exec(r, parsed, &err);
    if (err != NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, K8LOG(041)
                      "Require %s: cannot evaluate the expression: %s", provider, err);
        return AUTHZ_GENERAL_ERROR;
    }
    while (*line && (want = ap_getword_conf(r->pool, &line)) != NULL && *want) {
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
    return check_identity(r, parsed, match_user, "k8s-user");
}

static authz_status check_k8s_group(request_rec *r, const char *line, const void *parsed)
{
    (void)line;
    return check_identity(r, parsed, match_group, "k8s-group");
}

static authz_status check_k8s_namespace(request_rec *r, const char *line, const void *parsed)
{
    (void)line;
    return check_identity(r, parsed, match_namespace, "k8s-namespace");
}

static authz_status check_k8s_serviceaccount(request_rec *r, const char *line,
                                             const void *parsed)
{
    (void)line;
    return check_identity(r, parsed, match_serviceaccount, "k8s-serviceaccount");
}

/* Values are compiled once, at startup, as httpd string expressions. */
static const char *parse_require_line(cmd_parms *cmd, const char *line, const void **parsed)
{
    const char *err = NULL;
    ap_expr_info_t *expr;

    if (line == NULL || *line == '\0')
        return "Require k8s-user, k8s-group, k8s-namespace and k8s-serviceaccount need at "
               "least one value";
    expr = ap_expr_parse_cmd(cmd, line, AP_EXPR_FLAG_STRING_RESULT, &err, NULL);
    if (err != NULL)
        return apr_psprintf(cmd->pool, "Require k8s-*: cannot parse '%s' as an httpd "
                            "string expression: %s", line, err);
    *parsed = expr;
    return NULL;
}

static const authz_provider authz_k8s_user = { check_k8s_user, parse_require_line };
static const authz_provider authz_k8s_group = { check_k8s_group, parse_require_line };
static const authz_provider authz_k8s_namespace = { check_k8s_namespace, parse_require_line };
static const authz_provider authz_k8s_serviceaccount = { check_k8s_serviceaccount,
                                                         parse_require_line };

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
}
