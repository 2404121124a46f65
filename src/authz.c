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
 * They exist from authentication on, but httpd evaluates a `Require expr`
 * before authentication too (unless it is false without %{REMOTE_USER}), and
 * an unset variable reads as "": "%{env:K8S_NAMESPACE} != 'kube-system'"
 * would let anybody in. So in a location with this AuthType, reading one of
 * them while the request has no user is an evaluation error (a 500 for
 * Require expr), never an empty string: whatever the spelling, in .htaccess
 * and AuthzProviderAlias too. Everything else reads them as env/reqenv would.
 */

static const char *const expr_identity_variables[] = {
    "K8S_USER", "K8S_UID", "K8S_GROUPS", "K8S_NAMESPACE", "K8S_SERVICEACCOUNT"
};

/* env() looks at the request's notes first, as httpd's does. */
static const char *read_identity_variable(ap_expr_eval_ctx_t *ctx, const void *data,
                                          const char *arg)
{
    request_rec *r = ctx->r;
    const char *v;

    if (r == NULL)
        return NULL;
    if (r->user == NULL && k8ssa_is_our_auth_type(r)) {
        *ctx->err = apr_psprintf(ctx->p, "%s is read before authentication (httpd "
                                 "evaluates Require expr without a user first): write "
                                 "the expression as \"-n %%{REMOTE_USER} && (...)\"", arg);
        return NULL;
    }
    if (data != NULL && (v = apr_table_get(r->notes, arg)) != NULL)
        return v;
    return apr_table_get(r->subprocess_env, arg);
}

static int is_identity_variable(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof(expr_identity_variables) / sizeof(expr_identity_variables[0]); i++)
        if (ap_cstr_casecmp(name, expr_identity_variables[i]) == 0)
            return 1;
    return 0;
}

static int lookup_identity_variable(ap_expr_lookup_parms *parms)
{
    static const char env_marker[] = "env";
    int env;

    if (parms->type != AP_EXPR_FUNC_STRING || parms->arg == NULL
        || !is_identity_variable(parms->arg))
        return DECLINED;
    env = ap_cstr_casecmp(parms->name, "env") == 0;
    if (!env && ap_cstr_casecmp(parms->name, "reqenv") != 0
        && ap_cstr_casecmp(parms->name, "v") != 0)
        return DECLINED;
    *parms->func = (const void *)read_identity_variable;
    *parms->data = env ? env_marker : NULL;
    return OK;
}

void k8ssa_register_expr_lookup(void)
{
    /* Before httpd's own lookup, which would bind env() itself. */
    ap_hook_expr_lookup(lookup_identity_variable, NULL, NULL, APR_HOOK_FIRST);
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
