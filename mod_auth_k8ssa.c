/*
 * mod_auth_k8ssa - authenticate Kubernetes service-account bearer tokens in
 * Apache httpd 2.4 through the API server's TokenReview.
 *
 * The module record and its hooks. The glue, which uses httpd's types, lives
 * in src/httpd/: conf.c (records and directives), startup.c (checks, caches,
 * per-child state), authn.c (the request path), identity_headers.c (what the
 * backend sees, on every path a request takes) and authz.c (Require
 * providers). The logic they call lives in src/lib/, free of httpd types, so
 * unit tests and fuzz targets reach it without a server.
 */
#include "module.h"
#include "conf.h"

#include "http_request.h"
#include "http_core.h"
#include "http_protocol.h"
#include "mod_auth.h"

static void register_hooks(apr_pool_t *p)
{
    ap_hook_pre_config(k8ssa_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_config(k8ssa_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    /* Identity headers: scrubbed for every request (main, sub-request,
     * redirect) before any access or auth hook, settled last before the
     * handler, after mod_dir's index lookup (see src/httpd/identity_headers.c). */
    ap_hook_post_perdir_config(k8ssa_post_perdir_config, NULL, NULL, APR_HOOK_REALLY_FIRST);
    /* Before httpd decides whether a sub-request or redirect skips
     * authentication and authorization (src/httpd/authz.c). */
    ap_hook_post_perdir_config(k8ssa_recheck_requires, NULL, NULL, APR_HOOK_REALLY_FIRST);
    ap_hook_fixups(k8ssa_fixups, NULL, NULL, APR_HOOK_REALLY_LAST);
    ap_hook_post_config(k8ssa_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(k8ssa_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_authn(k8ssa_check_authn, NULL, NULL, APR_HOOK_MIDDLE,
                        AP_AUTH_INTERNAL_PER_CONF);
    ap_hook_note_auth_failure(k8ssa_note_auth_failure, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(k8ssa_check_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(k8ssa_metrics_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_insert_filter(k8ssa_insert_filter, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_insert_error_filter(k8ssa_insert_filter, NULL, NULL, APR_HOOK_MIDDLE);
    k8ssa_register_filters();
    k8ssa_register_authz_providers(p);
    k8ssa_register_authz_hook();
    k8ssa_register_expr_lookup();
}

module AP_MODULE_DECLARE_DATA auth_k8ssa_module = {
    STANDARD20_MODULE_STUFF,
    k8ssa_create_dir_conf,
    k8ssa_merge_dir_conf,
    k8ssa_create_server_conf,
    k8ssa_merge_server_conf,
    k8ssa_cmds,
    register_hooks,
    AP_MODULE_FLAG_NONE
};
