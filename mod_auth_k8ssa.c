/*
 * mod_auth_k8ssa - authenticate Kubernetes service-account bearer tokens in
 * Apache httpd 2.4 through the API server's TokenReview.
 *
 * This file is the glue: configuration records and directives, the hooks,
 * the Require providers, and the mapping of src/ results to httpd status
 * codes, headers and environment. The logic it calls lives in src/.
 */
#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "mod_auth.h"
#include "util_cfgtree.h"

#include "apr_strings.h"
#include "apr_file_info.h"
#include "apr_hash.h"

#include "module.h"
#include "apiclient.h"
#include "bearer.h"
#include "credential.h"
#include "headers.h"
#include "identity.h"
#include "tlsfiles.h"
#include "tokenkey.h"
#include "tokenreview.h"

#include <string.h>

#define K8SSA_AUTH_TYPE "KubernetesServiceAccount"
#define K8SSA_VERSION "0.1.0"
#define K8SSA_DEFAULT_TIMEOUT 5
#define K8SSA_MAX_TIMEOUT 300
#define K8SSA_TOKEN_CHECK_INTERVAL apr_time_from_sec(60)
#define K8SSA_INCLUSTER_DIR "/var/run/secrets/kubernetes.io/serviceaccount"
#define K8SSA_DEFAULT_USER_HEADER "X-Remote-User"
#define K8SSA_DEFAULT_GROUPS_HEADER "X-Remote-Group"
#define K8SSA_DEFAULT_EXTRA_PREFIX "X-Remote-Extra-"

/* ---------------------------------------------------------------------------
 * Configuration records
 */

/* Server scope: how to reach and authenticate to the API server. httpd
 * creates this record for a virtual host only when it sets one of these
 * directives; otherwise the host shares the main server's record. */
typedef struct {
    const char *api_server;     /* NULL: unset */
    const char *ca_file;
    const char *token_file;
    const char *cert_file;
    const char *key_file;
    int timeout;                /* seconds; 0: unset */

    /* Resolved in check_config (defaults applied): what the child uses. */
    k8ssa_api_config api;
    k8ssa_apiclient *client;    /* per child; NULL when not configured */
    const char *client_error;   /* why client is NULL, for the request log */
} k8ssa_server_conf;

/* Directory scope: what is asked and what the backend sees. NULL/-1: unset;
 * "" for a header name means `none`. */
typedef struct {
    apr_array_header_t *audiences;  /* of const char * */
    const char *user_header;
    const char *user_prefix;
    const char *groups_header;
    const char *groups_separator;
    int groups_separator_set;
    const char *extra_prefix;
    int forward_token;
} k8ssa_dir_conf;

/* Why a request failed authentication, for the note_auth_failure challenge. */
typedef enum {
    K8SSA_FAIL_NONE = 0,
    K8SSA_FAIL_MISSING,
    K8SSA_FAIL_MALFORMED,
    K8SSA_FAIL_INVALID
} k8ssa_failure;

/* What check_authn learnt, kept in r->request_config for the Require
 * providers, the challenge, and sub-requests. */
typedef struct {
    k8ssa_failure failure;
    const k8ssa_identity *id;
    const char *review_context;    /* server URL and audiences of the review */
    const char *token;             /* for sub-requests when the header is gone */
} k8ssa_request_state;

/* Random per start: names tokens in logs without revealing them. */
static unsigned char log_secret[K8SSA_SECRET_MIN_LEN];

static void *create_server_conf(apr_pool_t *p, server_rec *s)
{
    (void)s;
    return apr_pcalloc(p, sizeof(k8ssa_server_conf));
}

static void *merge_server_conf(apr_pool_t *p, void *basev, void *addv)
{
    k8ssa_server_conf *base = basev, *add = addv;
    k8ssa_server_conf *c = apr_pcalloc(p, sizeof(*c));

    c->api_server = add->api_server ? add->api_server : base->api_server;
    c->ca_file = add->ca_file ? add->ca_file : base->ca_file;
    c->token_file = add->token_file ? add->token_file : base->token_file;
    /* A certificate and its key come as a pair. */
    if (add->cert_file || add->key_file) {
        c->cert_file = add->cert_file;
        c->key_file = add->key_file;
    } else {
        c->cert_file = base->cert_file;
        c->key_file = base->key_file;
    }
    c->timeout = add->timeout ? add->timeout : base->timeout;
    return c;
}

static void *create_dir_conf(apr_pool_t *p, char *dir)
{
    k8ssa_dir_conf *c = apr_pcalloc(p, sizeof(*c));
    (void)dir;
    c->forward_token = -1;
    return c;
}

static void *merge_dir_conf(apr_pool_t *p, void *basev, void *addv)
{
    k8ssa_dir_conf *base = basev, *add = addv;
    k8ssa_dir_conf *c = apr_pcalloc(p, sizeof(*c));

    c->audiences = add->audiences ? add->audiences : base->audiences;
    c->user_header = add->user_header ? add->user_header : base->user_header;
    c->user_prefix = add->user_prefix ? add->user_prefix : base->user_prefix;
    c->groups_header = add->groups_header ? add->groups_header : base->groups_header;
    c->groups_separator_set = add->groups_separator_set || base->groups_separator_set;
    c->groups_separator = add->groups_separator_set ? add->groups_separator
                                                    : base->groups_separator;
    c->extra_prefix = add->extra_prefix ? add->extra_prefix : base->extra_prefix;
    c->forward_token = add->forward_token != -1 ? add->forward_token : base->forward_token;
    return c;
}

/* Effective values: the configured one or the documented default; "" = none. */
static const char *user_header(const k8ssa_dir_conf *d)
{
    return d->user_header ? d->user_header : K8SSA_DEFAULT_USER_HEADER;
}

static const char *groups_header(const k8ssa_dir_conf *d)
{
    return d->groups_header ? d->groups_header : K8SSA_DEFAULT_GROUPS_HEADER;
}

static const char *extra_prefix(const k8ssa_dir_conf *d)
{
    return d->extra_prefix ? d->extra_prefix : K8SSA_DEFAULT_EXTRA_PREFIX;
}

static const char *const *audiences(const k8ssa_dir_conf *d, size_t *n)
{
    if (d->audiences == NULL || d->audiences->nelts == 0) {
        *n = 0;
        return NULL;
    }
    *n = (size_t)d->audiences->nelts;
    return (const char *const *)d->audiences->elts;
}

/* ---------------------------------------------------------------------------
 * Directives
 */

static const char *check_readable_file(cmd_parms *cmd, const char *path, const char **out)
{
    const char *full = ap_server_root_relative(cmd->pool, path);
    apr_finfo_t fi;
    apr_status_t rv;
    char errbuf[128];

    if (full == NULL)
        return apr_psprintf(cmd->pool, "%s: invalid path '%s'", cmd->cmd->name, path);
    rv = apr_stat(&fi, full, APR_FINFO_TYPE, cmd->temp_pool);
    if (rv != APR_SUCCESS)
        return apr_psprintf(cmd->pool, "%s: cannot read '%s': %s", cmd->cmd->name, full,
                            apr_strerror(rv, errbuf, sizeof(errbuf)));
    if (fi.filetype != APR_REG)
        return apr_psprintf(cmd->pool, "%s: '%s' is not a regular file", cmd->cmd->name, full);
    *out = full;
    return NULL;
}

static const char *set_api_server(cmd_parms *cmd, void *dummy, const char *arg)
{
    k8ssa_server_conf *c = ap_get_module_config(cmd->server->module_config,
                                                &auth_k8ssa_module);
    apr_uri_t uri;
    size_t len;
    (void)dummy;

    if (apr_uri_parse(cmd->pool, arg, &uri) != APR_SUCCESS || uri.scheme == NULL
        || uri.hostname == NULL || *uri.hostname == '\0')
        return apr_psprintf(cmd->pool, "AuthK8sAPIServer: '%s' is not a URL; "
                            "write it as https://HOST[:PORT]", arg);
    if (ap_cstr_casecmp(uri.scheme, "https") != 0)
        return apr_psprintf(cmd->pool, "AuthK8sAPIServer: '%s' must use https://: tokens "
                            "are only ever sent over verified TLS", arg);
    if (uri.query || uri.fragment || uri.user || uri.password)
        return apr_psprintf(cmd->pool, "AuthK8sAPIServer: '%s' must not carry "
                            "credentials, a query or a fragment", arg);
    /* Kept as written but for trailing slashes: paths are appended to it. */
    len = strlen(arg);
    while (len > 0 && arg[len - 1] == '/')
        len--;
    c->api_server = apr_pstrmemdup(cmd->pool, arg, len);
    return NULL;
}

static const char *set_server_file(cmd_parms *cmd, void *dummy, const char *arg)
{
    k8ssa_server_conf *c = ap_get_module_config(cmd->server->module_config,
                                                &auth_k8ssa_module);
    const char **slot = (const char **)((char *)c + (size_t)cmd->info);
    const char *err;
    (void)dummy;

    err = check_readable_file(cmd, arg, slot);
    return err;
}

static const char *set_timeout(cmd_parms *cmd, void *dummy, const char *arg)
{
    k8ssa_server_conf *c = ap_get_module_config(cmd->server->module_config,
                                                &auth_k8ssa_module);
    char *end;
    long v = strtol(arg, &end, 10);
    (void)dummy;

    if (*arg == '\0' || *end != '\0' || v < 1 || v > K8SSA_MAX_TIMEOUT)
        return apr_psprintf(cmd->pool, "AuthK8sTimeout: '%s' is not a number of seconds "
                            "from 1 to %d", arg, K8SSA_MAX_TIMEOUT);
    c->timeout = (int)v;
    return NULL;
}

static const char *set_audiences(cmd_parms *cmd, void *dconf, const char *arg)
{
    k8ssa_dir_conf *c = dconf;

    if (!k8ssa_is_printable(arg, strlen(arg)) || *arg == '\0')
        return "AuthK8sAudiences: an audience must be a non-empty printable string";
    if (c->audiences == NULL)
        c->audiences = apr_array_make(cmd->pool, 2, sizeof(const char *));
    if (c->audiences->nelts >= K8SSA_MAX_AUDIENCES)
        return apr_psprintf(cmd->pool, "AuthK8sAudiences: at most %d audiences",
                            K8SSA_MAX_AUDIENCES);
    APR_ARRAY_PUSH(c->audiences, const char *) = apr_pstrdup(cmd->pool, arg);
    return NULL;
}

/* Headers the module must never set or strip: credentials, framing and
 * hop-by-hop fields. A prefix is reserved when any of them starts with it. */
static int reserved_header(const char *name, int is_prefix)
{
    static const char *const reserved[] = {
        "Authorization", "Proxy-Authorization", "Cookie", "Host", "Content-Length",
        "Content-Type", "Content-Encoding", "Transfer-Encoding", "Connection", "Keep-Alive",
        "TE", "Trailer", "Upgrade", "Expect", "Sec-WebSocket-Protocol", NULL
    };
    int i;

    for (i = 0; reserved[i] != NULL; i++) {
        if (is_prefix ? k8ssa_header_name_has_prefix(reserved[i], name)
                      : k8ssa_header_name_equals(reserved[i], name))
            return 1;
    }
    return 0;
}

/* AuthK8sUserHeader, AuthK8sGroupsHeader, AuthK8sExtraHeaderPrefix. */
static const char *set_header_name(cmd_parms *cmd, void *dconf, const char *arg)
{
    const char **slot = (const char **)((char *)dconf + (size_t)cmd->info);

    if (ap_cstr_casecmp(arg, "none") == 0) {
        *slot = "";
        return NULL;
    }
    if (!k8ssa_is_header_name(arg))
        return apr_psprintf(cmd->pool, "%s: '%s' is not a valid header name (letters, "
                            "digits and !#$%%&'*+-.^_`|~ only), or write none",
                            cmd->cmd->name, arg);
    if (reserved_header(arg, cmd->info == (void *)APR_OFFSETOF(k8ssa_dir_conf, extra_prefix)))
        return apr_psprintf(cmd->pool, "%s: '%s' would replace or remove a header httpd "
                            "or the backend needs (credentials, message framing, "
                            "hop-by-hop)", cmd->cmd->name, arg);
    *slot = apr_pstrdup(cmd->pool, arg);
    return NULL;
}

static const char *set_printable(cmd_parms *cmd, void *dconf, const char *arg)
{
    const char **slot = (const char **)((char *)dconf + (size_t)cmd->info);

    if (!k8ssa_is_printable(arg, strlen(arg)))
        return apr_psprintf(cmd->pool, "%s: control characters are not allowed",
                            cmd->cmd->name);
    *slot = apr_pstrdup(cmd->pool, arg);
    return NULL;
}

static const char *set_groups_separator(cmd_parms *cmd, void *dconf, const char *arg)
{
    k8ssa_dir_conf *c = dconf;
    const char *err = set_printable(cmd, dconf, arg);

    if (err == NULL && *arg == '\0')
        return "AuthK8sGroupsSeparator: the separator must not be empty";
    c->groups_separator_set = 1;
    return err;
}

static const char *set_forward_token(cmd_parms *cmd, void *dconf, int on)
{
    (void)cmd;
    ((k8ssa_dir_conf *)dconf)->forward_token = on;
    return NULL;
}

static const command_rec k8ssa_cmds[] = {
    AP_INIT_TAKE1("AuthK8sAPIServer", set_api_server, NULL, RSRC_CONF,
                  "https URL of the Kubernetes API server (default: in-cluster "
                  "https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT)"),
    AP_INIT_TAKE1("AuthK8sCAFile", set_server_file,
                  (void *)APR_OFFSETOF(k8ssa_server_conf, ca_file), RSRC_CONF,
                  "CA bundle (PEM) that verifies the API server's certificate"),
    AP_INIT_TAKE1("AuthK8sTokenFile", set_server_file,
                  (void *)APR_OFFSETOF(k8ssa_server_conf, token_file), RSRC_CONF,
                  "File holding the module's own bearer token; re-read when it changes"),
    AP_INIT_TAKE1("AuthK8sClientCertificate", set_server_file,
                  (void *)APR_OFFSETOF(k8ssa_server_conf, cert_file), RSRC_CONF,
                  "Client certificate (PEM) the module presents to the API server"),
    AP_INIT_TAKE1("AuthK8sClientKey", set_server_file,
                  (void *)APR_OFFSETOF(k8ssa_server_conf, key_file), RSRC_CONF,
                  "Private key (PEM) of AuthK8sClientCertificate"),
    AP_INIT_TAKE1("AuthK8sTimeout", set_timeout, NULL, RSRC_CONF,
                  "Seconds one TokenReview may take, connect and retry included (default 5)"),
    AP_INIT_ITERATE("AuthK8sAudiences", set_audiences, NULL, OR_AUTHCFG,
                    "Audiences a token must be valid for (spec.audiences)"),
    AP_INIT_TAKE1("AuthK8sUserHeader", set_header_name,
                  (void *)APR_OFFSETOF(k8ssa_dir_conf, user_header), OR_AUTHCFG,
                  "Request header carrying the username, or none (default X-Remote-User)"),
    AP_INIT_TAKE1("AuthK8sUserPrefix", set_printable,
                  (void *)APR_OFFSETOF(k8ssa_dir_conf, user_prefix), OR_AUTHCFG,
                  "String prepended to the username in the user header only"),
    AP_INIT_TAKE1("AuthK8sGroupsHeader", set_header_name,
                  (void *)APR_OFFSETOF(k8ssa_dir_conf, groups_header), OR_AUTHCFG,
                  "Request header carrying the groups, or none (default X-Remote-Group)"),
    AP_INIT_TAKE1("AuthK8sGroupsSeparator", set_groups_separator,
                  (void *)APR_OFFSETOF(k8ssa_dir_conf, groups_separator), OR_AUTHCFG,
                  "Join all groups in one header field with this string "
                  "(default: one field per group)"),
    AP_INIT_TAKE1("AuthK8sExtraHeaderPrefix", set_header_name,
                  (void *)APR_OFFSETOF(k8ssa_dir_conf, extra_prefix), OR_AUTHCFG,
                  "Prefix of one header per status.user.extra key, or none "
                  "(default X-Remote-Extra-)"),
    AP_INIT_FLAG("AuthK8sForwardToken", set_forward_token, NULL, OR_AUTHCFG,
                 "Off removes the Authorization header before the backend (default On)"),
    { NULL }
};

/* ---------------------------------------------------------------------------
 * Startup: defaults, checks, per-child API clients
 */

static int file_exists(apr_pool_t *p, const char *path)
{
    apr_finfo_t fi;
    return apr_stat(&fi, path, APR_FINFO_TYPE, p) == APR_SUCCESS && fi.filetype == APR_REG;
}

/* The in-cluster URL from the service environment, as client-go builds it. */
static const char *incluster_url(apr_pool_t *p)
{
    const char *host = getenv("KUBERNETES_SERVICE_HOST");
    const char *port = getenv("KUBERNETES_SERVICE_PORT");

    if (host == NULL || *host == '\0' || port == NULL || *port == '\0')
        return NULL;
    if (strchr(host, ':') != NULL)  /* an IPv6 literal */
        return apr_psprintf(p, "https://[%s]:%s", host, port);
    return apr_psprintf(p, "https://%s:%s", host, port);
}

static int is_our_authtype(const char *args)
{
    const char *w = args;
    char *word;
    apr_pool_t *p;
    int ours;

    if (apr_pool_create(&p, NULL) != APR_SUCCESS)
        return 0;
    word = ap_getword_conf(p, &w);
    ours = ap_cstr_casecmp(word, K8SSA_AUTH_TYPE) == 0;
    apr_pool_destroy(p);
    return ours;
}

static server_rec *vhost_of(ap_directive_t *node, server_rec *main_s)
{
    server_rec *s;

    for (; node != NULL; node = node->parent) {
        if (ap_cstr_casecmp(node->directive, "<VirtualHost") != 0)
            continue;
        for (s = main_s->next; s != NULL; s = s->next) {
            if (s->defn_name && node->filename && strcmp(s->defn_name, node->filename) == 0
                && s->defn_line_number == (unsigned)node->line_num)
                return s;
        }
    }
    return NULL;
}

/* Marks the servers whose configuration uses our AuthType, so a missing API
 * server fails at startup instead of at the first request. (.htaccess files
 * are not seen here; they get a 500 with the same message.) */
/* apr_hash keeps a pointer to its key: keys must outlive the table. */
static void set_flag(apr_hash_t *h, const void *ptr)
{
    apr_pool_t *p = apr_hash_pool_get(h);
    apr_hash_set(h, apr_pmemdup(p, &ptr, sizeof(ptr)), sizeof(ptr), ptr);
}

static int has_flag(apr_hash_t *h, const void *ptr)
{
    return apr_hash_get(h, &ptr, sizeof(ptr)) != NULL;
}

static void find_authtype_uses(ap_directive_t *node, server_rec *main_s, apr_hash_t *uses)
{
    for (; node != NULL; node = node->next) {
        if (ap_cstr_casecmp(node->directive, "AuthType") == 0 && node->args
            && is_our_authtype(node->args)) {
            server_rec *v = vhost_of(node->parent, main_s), *s;
            /* Sections of the main server apply in every virtual host. */
            for (s = v ? v : main_s; s != NULL; s = v ? NULL : s->next)
                set_flag(uses, s);
        }
        if (node->first_child)
            find_authtype_uses(node->first_child, main_s, uses);
    }
}

/* Names a server in startup messages the way the administrator wrote it. */
static const char *server_where(apr_pool_t *p, const server_rec *s)
{
    if (s->is_virtual && s->defn_name)
        return apr_psprintf(p, "the <VirtualHost> at %s:%u", s->defn_name,
                            s->defn_line_number);
    return "the main server configuration";
}

/* Applies the defaults to one configuration record and checks it; 1 if good. */
static int resolve_api_config(k8ssa_server_conf *c, server_rec *s, apr_pool_t *pconf,
                              apr_pool_t *ptemp)
{
    static const char in_ca[] = K8SSA_INCLUSTER_DIR "/ca.crt";
    static const char in_token[] = K8SSA_INCLUSTER_DIR "/token";
    k8ssa_api_config *api = &c->api;
    const char *why = NULL;
    int ok = 1;

    memset(api, 0, sizeof(*api));
    api->server_url = c->api_server ? c->api_server : incluster_url(pconf);
    api->ca_file = c->ca_file ? c->ca_file : (file_exists(ptemp, in_ca) ? in_ca : NULL);
    api->token_file = c->token_file ? c->token_file
                                    : (file_exists(ptemp, in_token) ? in_token : NULL);
    api->cert_file = c->cert_file;
    api->key_file = c->key_file;
    api->timeout = apr_time_from_sec(c->timeout ? c->timeout : K8SSA_DEFAULT_TIMEOUT);
    api->token_check_interval = K8SSA_TOKEN_CHECK_INTERVAL;
    api->user_agent = "mod_auth_k8ssa/" K8SSA_VERSION;

    if ((c->cert_file == NULL) != (c->key_file == NULL)) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, K8LOG(001)
                     "AuthK8sClientCertificate and AuthK8sClientKey go together: "
                     "set both or neither in %s", server_where(ptemp, s));
        ok = 0;
    }
    if (c->ca_file != NULL && (why = k8ssa_check_ca_file(c->ca_file)) != NULL) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, K8LOG(007)
                     "AuthK8sCAFile %s: %s", c->ca_file, why);
        ok = 0;
    }
    if (c->cert_file != NULL && c->key_file != NULL
        && (why = k8ssa_check_client_pair(c->cert_file, c->key_file)) != NULL) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, K8LOG(008)
                     "%s (%s, %s)", why, c->cert_file, c->key_file);
        ok = 0;
    }
    if (api->token_file != NULL) {
        const char *tok;
        apr_status_t rv = k8ssa_credential_read_file(ptemp, api->token_file, &tok, &why);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, K8LOG(004)
                         "AuthK8sTokenFile %s: %s", api->token_file, why);
            ok = 0;
        }
    }
    if (api->server_url && api->token_file == NULL && api->cert_file == NULL)
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, K8LOG(003)
                     "no credential for %s: the API server will refuse TokenReviews "
                     "(set AuthK8sTokenFile or AuthK8sClientCertificate)", api->server_url);
    return ok;
}

/* Runs for `apache2 -t` too, so bad configuration fails the syntax check. */
static int k8ssa_check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                              server_rec *main_s)
{
    apr_hash_t *uses = apr_hash_make(ptemp), *seen = apr_hash_make(ptemp);
    server_rec *s;
    int ok = 1;
    (void)plog;

    for (s = main_s; s != NULL; s = s->next) {
        k8ssa_server_conf *c = ap_get_module_config(s->module_config, &auth_k8ssa_module);
        if (!has_flag(seen, c)) {
            set_flag(seen, c);
            ok = resolve_api_config(c, s, pconf, ptemp) && ok;
        }
    }
    find_authtype_uses(ap_conftree, main_s, uses);
    for (s = main_s; s != NULL; s = s->next) {
        k8ssa_server_conf *c = ap_get_module_config(s->module_config, &auth_k8ssa_module);
        if (c->api.server_url == NULL && has_flag(uses, s)) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, K8LOG(002)
                         "AuthType " K8SSA_AUTH_TYPE " is used in %s but no API server "
                         "is known: set AuthK8sAPIServer https://HOST:PORT (outside a "
                         "cluster) or run where KUBERNETES_SERVICE_HOST and "
                         "KUBERNETES_SERVICE_PORT are set", server_where(ptemp, s));
            ok = 0;
        }
    }
    return ok ? OK : HTTP_INTERNAL_SERVER_ERROR;
}

static int k8ssa_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                             server_rec *s)
{
    (void)plog;
    (void)ptemp;
    if (k8ssa_random_bytes(log_secret, sizeof(log_secret)) != 0) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, K8LOG(005)
                     "cannot draw random bytes from libcrypto");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    k8ssa_apiclient_global_init(pconf);
    return OK;
}

/* Servers with the same connection settings share one client (and its
 * connections), so vhosts inheriting the main server's settings cost nothing. */
static const char *api_signature(apr_pool_t *p, const k8ssa_api_config *a)
{
    return apr_pstrcat(p, a->server_url, "\n", a->ca_file ? a->ca_file : "", "\n",
                       a->token_file ? a->token_file : "", "\n",
                       a->cert_file ? a->cert_file : "", "\n",
                       a->key_file ? a->key_file : "", "\n",
                       apr_ltoa(p, (long)apr_time_sec(a->timeout)), NULL);
}

static void k8ssa_child_init(apr_pool_t *p, server_rec *main_s)
{
    apr_hash_t *made = apr_hash_make(p);
    server_rec *s;

    for (s = main_s; s != NULL; s = s->next) {
        k8ssa_server_conf *c = ap_get_module_config(s->module_config, &auth_k8ssa_module);
        const char *sig, *why = NULL;
        k8ssa_apiclient *client;
        apr_status_t rv;

        if (c->api.server_url == NULL)
            continue;
        sig = api_signature(p, &c->api);
        client = apr_hash_get(made, sig, APR_HASH_KEY_STRING);
        if (client == NULL) {
            rv = k8ssa_apiclient_create(p, &c->api, &client, &why);
            if (rv != APR_SUCCESS) {
                c->client_error = c->api.token_file
                    ? apr_psprintf(p, "AuthK8sTokenFile %s: %s (the child runs as an "
                                   "unprivileged user: check the file's permissions)",
                                   c->api.token_file, why)
                    : apr_psprintf(p, "cannot create the API client: %s", why);
                ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, K8LOG(006) "%s", c->client_error);
                continue;
            }
            apr_hash_set(made, sig, APR_HASH_KEY_STRING, client);
        }
        c->client = client;
    }
}

/* ---------------------------------------------------------------------------
 * Requests
 */

static k8ssa_request_state *request_state(request_rec *r)
{
    return ap_get_module_config(r->request_config, &auth_k8ssa_module);
}

/* The state of the request this one derives from (sub-request, redirect). */
static k8ssa_request_state *inherited_state(request_rec *r)
{
    request_rec *o;

    for (o = r->main ? r->main : r->prev; o != NULL; o = o->main ? o->main : o->prev) {
        k8ssa_request_state *st = request_state(o);
        if (st != NULL)
            return st;
    }
    return NULL;
}

typedef struct {
    const k8ssa_dir_conf *d;
    apr_array_header_t *names;
} spoof_scan;

static int is_identity_header(const k8ssa_dir_conf *d, const char *name)
{
    const char *u = user_header(d), *g = groups_header(d), *x = extra_prefix(d);

    return (*u && k8ssa_header_name_equals(name, u))
        || (*g && k8ssa_header_name_equals(name, g))
        || (*x && k8ssa_header_name_has_prefix(name, x));
}

static int collect_spoofed(void *rec, const char *key, const char *value)
{
    spoof_scan *scan = rec;
    (void)value;
    if (is_identity_header(scan->d, key))
        APR_ARRAY_PUSH(scan->names, const char *) = key;
    return 1;
}

/* Identity headers are the module's alone: whatever the client sent under
 * those names (any case, '-' or '_') goes, valid token or not. */
static void strip_identity_headers(request_rec *r, const k8ssa_dir_conf *d)
{
    spoof_scan scan = { d, NULL };
    int i;

    scan.names = apr_array_make(r->pool, 2, sizeof(const char *));
    apr_table_do(collect_spoofed, &scan, r->headers_in, NULL);
    for (i = 0; i < scan.names->nelts; i++) {
        const char *name = APR_ARRAY_IDX(scan.names, i, const char *);
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, K8LOG(010)
                      "removed client-sent identity header %s", name);
        apr_table_unset(r->headers_in, name);
    }
}

/* Runs on every request once its configuration is known, also where
 * authorization passes without authentication (Require all granted, Require
 * ip in a RequireAny): the identity headers are stripped there too. */
static int k8ssa_header_parser(request_rec *r)
{
    const char *type = ap_auth_type(r);
    if (type != NULL && ap_cstr_casecmp(type, K8SSA_AUTH_TYPE) == 0)
        strip_identity_headers(r, ap_get_module_config(r->per_dir_config,
                                                       &auth_k8ssa_module));
    return DECLINED;
}

static void export_identity(request_rec *r, const k8ssa_dir_conf *d,
                            const k8ssa_identity *id)
{
    const char *u = user_header(d), *g = groups_header(d), *x = extra_prefix(d);
    const char *ns, *name;
    size_t i, j;

    r->user = apr_pstrdup(r->pool, id->username);
    if (*u)
        apr_table_setn(r->headers_in, u,
                       d->user_prefix ? apr_pstrcat(r->pool, d->user_prefix, id->username,
                                                    NULL)
                                      : id->username);
    if (*g && id->ngroups > 0) {
        if (d->groups_separator_set)
            apr_table_setn(r->headers_in, g,
                           k8ssa_identity_join_groups(r->pool, id, d->groups_separator));
        else
            for (i = 0; i < id->ngroups; i++)
                apr_table_addn(r->headers_in, g, id->groups[i]);
    }
    if (*x) {
        for (i = 0; i < id->nextra; i++) {
            const char *h = apr_pstrcat(r->pool, x,
                                        k8ssa_extra_key_encode(r->pool, id->extra[i].key),
                                        NULL);
            for (j = 0; j < id->extra[i].nvalues; j++)
                apr_table_addn(r->headers_in, h, id->extra[i].values[j]);
        }
    }

    apr_table_setn(r->subprocess_env, "REMOTE_USER", r->user);
    apr_table_setn(r->subprocess_env, "K8S_USER", id->username);
    apr_table_setn(r->subprocess_env, "K8S_UID", id->uid);
    apr_table_setn(r->subprocess_env, "K8S_GROUPS", k8ssa_identity_join_groups(r->pool, id, ","));
    if (k8ssa_identity_serviceaccount(r->pool, id->username, &ns, &name)) {
        apr_table_setn(r->subprocess_env, "K8S_NAMESPACE", ns);
        apr_table_setn(r->subprocess_env, "K8S_SERVICEACCOUNT", name);
    }
    if (d->forward_token == 0)
        apr_table_unset(r->headers_in, "Authorization");
}

static const char *review_context(apr_pool_t *p, const char *url, const k8ssa_dir_conf *d)
{
    size_t n, i;
    const char *const *a = audiences(d, &n);
    const char *ctx = url;

    for (i = 0; i < n; i++)
        ctx = apr_pstrcat(p, ctx, "\n", a[i], NULL);
    return ctx;
}

static const char *token_fingerprint(request_rec *r, const char *url, const k8ssa_dir_conf *d,
                                     const char *token)
{
    unsigned char key[K8SSA_TOKENKEY_LEN];
    size_t n;
    const char *const *a = audiences(d, &n);

    if (k8ssa_tokenkey(log_secret, sizeof(log_secret), url, a, n, token, strlen(token), key))
        return "(none)";
    return k8ssa_tokenkey_fingerprint(r->pool, key);
}

/* The request holds the client's token, and so does the answer (the API
 * server echoes spec); request pools are reused without being cleared. */
static void wipe_bodies(char *request, k8ssa_api_response *resp)
{
    memset(request, 0, strlen(request));
    if (resp->body != NULL)
        memset((char *)resp->body, 0, resp->body_len);
}

/* Sends the review and maps its outcome to what check_authn returns. */
static int review_token(request_rec *r, k8ssa_server_conf *sc, const k8ssa_dir_conf *d,
                        k8ssa_request_state *st, const char *token)
{
    size_t naud;
    const char *const *aud = audiences(d, &naud);
    const char *fp = token_fingerprint(r, sc->api.server_url, d, token);
    k8ssa_api_response resp;
    k8ssa_review_result res;
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

    k8ssa_tokenreview_parse(r->pool, resp.body, resp.body_len, aud, naud, &res);
    wipe_bodies(body, &resp);
    switch (res.outcome) {
    case K8SSA_REVIEW_AUTHENTICATED:
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, K8LOG(023)
                      "token %s is %s", fp, res.id->username);
        st->id = res.id;
        return OK;
    case K8SSA_REVIEW_REJECTED:
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, K8LOG(024)
                      "token %s rejected: %s", fp, res.detail);
        st->failure = K8SSA_FAIL_INVALID;
        ap_note_auth_failure(r);
        return HTTP_UNAUTHORIZED;
    case K8SSA_REVIEW_UNPARSEABLE:
        break;
    }
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, K8LOG(025)
                  "unusable TokenReview answer from %s (HTTP %ld): %s",
                  sc->api.server_url, resp.http_code, res.detail);
    return HTTP_SERVICE_UNAVAILABLE;
}

static int k8ssa_check_authn(request_rec *r)
{
    const char *type = ap_auth_type(r);
    k8ssa_server_conf *sc;
    k8ssa_dir_conf *d;
    k8ssa_request_state *st, *prior;
    const char *header, *token = NULL;
    size_t off = 0, len = 0;
    k8ssa_bearer_status bs;
    int rc;

    if (type == NULL || ap_cstr_casecmp(type, K8SSA_AUTH_TYPE) != 0)
        return DECLINED;
    sc = ap_get_module_config(r->server->module_config, &auth_k8ssa_module);
    d = ap_get_module_config(r->per_dir_config, &auth_k8ssa_module);

    strip_identity_headers(r, d);
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

    header = apr_table_get(r->headers_in, "Authorization");
    bs = k8ssa_bearer_parse(header, &off, &len);
    prior = inherited_state(r);
    if (bs == K8SSA_BEARER_OK) {
        token = apr_pstrmemdup(r->pool, header + off, len);
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
        rc = review_token(r, sc, d, st, token);
        if (rc != OK)
            return rc;
    }
    export_identity(r, d, st->id);
    return OK;
}

/* RFC 6750 section 3 challenge; the error tells the client what went wrong. */
static int k8ssa_note_auth_failure(request_rec *r, const char *auth_type)
{
    k8ssa_request_state *st;
    const char *realm, *error = NULL, *challenge;

    if (ap_cstr_casecmp(auth_type, K8SSA_AUTH_TYPE) != 0)
        return DECLINED;
    st = request_state(r);
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

/* ---------------------------------------------------------------------------
 * Require k8s-user / k8s-group / k8s-namespace / k8s-serviceaccount
 */

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

/* The identity this request was authenticated as by this module; NULL when
 * another AuthType (or none) set r->user. */
static const k8ssa_identity *identity_of(request_rec *r)
{
    const char *type = ap_auth_type(r);
    k8ssa_request_state *st;

    if (type == NULL || ap_cstr_casecmp(type, K8SSA_AUTH_TYPE) != 0)
        return NULL;
    st = request_state(r);
    if (st == NULL || st->id == NULL)
        st = inherited_state(r);
    if (st == NULL || st->id == NULL || strcmp(st->id->username, r->user) != 0)
        return NULL;
    return st->id;
}

static authz_status check_identity(request_rec *r, const void *parsed,
                                   identity_matcher match, const char *provider)
{
    const k8ssa_identity *id;
    const char *err = NULL, *line, *want;

    if (r->user == NULL)
        return AUTHZ_DENIED_NO_USER;
    id = identity_of(r);
    if (id == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, K8LOG(040)
                      "Require %s needs AuthType " K8SSA_AUTH_TYPE " for %s", provider, r->uri);
        return AUTHZ_DENIED;
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

static void register_hooks(apr_pool_t *p)
{
    ap_hook_check_config(k8ssa_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_header_parser(k8ssa_header_parser, NULL, NULL, APR_HOOK_FIRST);
    ap_hook_post_config(k8ssa_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(k8ssa_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_authn(k8ssa_check_authn, NULL, NULL, APR_HOOK_MIDDLE,
                        AP_AUTH_INTERNAL_PER_CONF);
    ap_hook_note_auth_failure(k8ssa_note_auth_failure, NULL, NULL, APR_HOOK_MIDDLE);
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

module AP_MODULE_DECLARE_DATA auth_k8ssa_module = {
    STANDARD20_MODULE_STUFF,
    create_dir_conf,
    merge_dir_conf,
    create_server_conf,
    merge_server_conf,
    k8ssa_cmds,
    register_hooks,
    AP_MODULE_FLAG_NONE
};
