/*
 * conf.c - configuration records (create and merge) and the directives.
 * Values are checked as they are read; what needs the whole configuration is
 * checked in startup.c.
 */
#include "module.h"
#include "conf.h"

#include "http_core.h"
#include "apr_file_info.h"
#include "apr_strings.h"

#include "headers.h"
#include "kubeconfig.h"

#include <stdlib.h>
#include <string.h>

/* Random per start: the cache secret of servers without
 * AuthK8sCacheSecretFile (a local cache lives no longer than a start). */
unsigned char k8ssa_random_secret[K8SSA_SECRET_MIN_LEN];

/* The shmcb cache of every server that does not set AuthK8sCache. */
k8ssa_cache *k8ssa_default_cache;

/* The longest lifetimes any directory configures: how long entries are kept,
 * since each directory applies its own TTLs when it reads them. */
k8ssa_lifetimes k8ssa_longest;
k8ssa_lifetimes k8ssa_longest_access;

/* Per child: concurrent misses for one token wait for one review. */
k8ssa_flights *k8ssa_flights_table;

void *k8ssa_create_server_conf(apr_pool_t *p, server_rec *s)
{
    k8ssa_server_conf *c = apr_pcalloc(p, sizeof(k8ssa_server_conf));
    (void)s;
    c->signature_check = -1;
    return c;
}

void *k8ssa_merge_server_conf(apr_pool_t *p, void *basev, void *addv)
{
    k8ssa_server_conf *base = basev, *add = addv;
    k8ssa_server_conf *c = apr_pcalloc(p, sizeof(*c));

    /* A virtual host with a kubeconfig of its own takes its whole connection
     * from its own level: the main server's token must not go to the
     * vhost's cluster, nor its token to the main server's. */
    if (add->kubeconfig) {
        c->api_server = add->api_server;
        c->ca_file = add->ca_file;
        c->token_file = add->token_file;
        c->cert_file = add->cert_file;
        c->key_file = add->key_file;
    } else {
        c->api_server = add->api_server ? add->api_server : base->api_server;
        c->ca_file = add->ca_file ? add->ca_file : base->ca_file;
        c->token_file = add->token_file ? add->token_file : base->token_file;
    }
    /* A certificate and its key come as a pair. */
    if (add->kubeconfig) {
        /* set above */
    } else if (add->cert_file || add->key_file) {
        c->cert_file = add->cert_file;
        c->key_file = add->key_file;
    } else {
        c->cert_file = base->cert_file;
        c->key_file = base->key_file;
    }
    c->timeout = add->timeout ? add->timeout : base->timeout;
    c->kubeconfig = add->kubeconfig ? add->kubeconfig : base->kubeconfig;
    c->kc = add->kubeconfig ? add->kc : base->kc;
    c->signature_check = add->signature_check != -1 ? add->signature_check
                                                    : base->signature_check;
    c->review_concurrency = add->review_concurrency ? add->review_concurrency
                                                    : base->review_concurrency;
    if (add->cache_spec) {
        c->cache_spec = add->cache_spec;
        c->cache = add->cache;
    } else {
        c->cache_spec = base->cache_spec;
        c->cache = base->cache;
    }
    if (add->secret_file) {
        c->secret_file = add->secret_file;
        c->secret_from_file = add->secret_from_file;
        c->secret_file_len = add->secret_file_len;
    } else {
        c->secret_file = base->secret_file;
        c->secret_from_file = base->secret_from_file;
        c->secret_file_len = base->secret_file_len;
    }
    return c;
}

void *k8ssa_create_dir_conf(apr_pool_t *p, char *dir)
{
    k8ssa_dir_conf *c = apr_pcalloc(p, sizeof(*c));
    (void)dir;
    c->forward_token = -1;
    c->token_precheck = -1;
    c->response_headers = -1;
    c->cache_ttl = c->negative_ttl = c->stale_if_error = -1;
    c->access_ttl = c->access_negative_ttl = -1;
    return c;
}

void *k8ssa_merge_dir_conf(apr_pool_t *p, void *basev, void *addv)
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
    c->token_precheck = add->token_precheck != -1 ? add->token_precheck : base->token_precheck;
    c->response_headers = add->response_headers != -1 ? add->response_headers
                                                      : base->response_headers;
    c->cache_ttl = add->cache_ttl != -1 ? add->cache_ttl : base->cache_ttl;
    c->negative_ttl = add->negative_ttl != -1 ? add->negative_ttl : base->negative_ttl;
    c->stale_if_error = add->stale_if_error != -1 ? add->stale_if_error : base->stale_if_error;
    c->computed_require = add->computed_require || base->computed_require;
    c->access_ttl = add->access_ttl != -1 ? add->access_ttl : base->access_ttl;
    c->access_negative_ttl = add->access_negative_ttl != -1 ? add->access_negative_ttl
                                                            : base->access_negative_ttl;
    return c;
}

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

static const char *set_cache(cmd_parms *cmd, void *dummy, const char *arg)
{
    k8ssa_server_conf *c = ap_get_module_config(cmd->server->module_config,
                                                &auth_k8ssa_module);
    (void)dummy;

    c->cache_spec = apr_pstrdup(cmd->pool, arg);
    if (ap_cstr_casecmp(arg, "none") == 0) {
        c->cache = NULL;
        return NULL;
    }
    return k8ssa_cache_create(cmd->pool, cmd->temp_pool, arg, &c->cache);
}

static const char *set_cache_secret_file(cmd_parms *cmd, void *dummy, const char *arg)
{
    k8ssa_server_conf *c = ap_get_module_config(cmd->server->module_config,
                                                &auth_k8ssa_module);
    const char *path, *err = check_readable_file(cmd, arg, &path);
    unsigned char *buf;
    apr_file_t *f;
    apr_size_t len = 0;
    apr_status_t rv;
    char errbuf[128];
    (void)dummy;

    if (err != NULL)
        return err;
    buf = apr_palloc(cmd->pool, K8SSA_MAX_SECRET_FILE + 1);
    rv = apr_file_open(&f, path, APR_FOPEN_READ, APR_FPROT_OS_DEFAULT, cmd->temp_pool);
    if (rv == APR_SUCCESS) {
        rv = apr_file_read_full(f, buf, K8SSA_MAX_SECRET_FILE + 1, &len);
        apr_file_close(f);
    }
    if (rv != APR_SUCCESS && rv != APR_EOF)
        return apr_psprintf(cmd->pool, "AuthK8sCacheSecretFile: cannot read '%s': %s", path,
                            apr_strerror(rv, errbuf, sizeof(errbuf)));
    if (len < K8SSA_SECRET_MIN_LEN || len > K8SSA_MAX_SECRET_FILE)
        return apr_psprintf(cmd->pool, "AuthK8sCacheSecretFile: '%s' holds %lu bytes; it "
                            "must hold %d to %d random bytes, the same file on every host "
                            "(e.g. openssl rand -base64 48 > FILE)", path, (unsigned long)len,
                            K8SSA_SECRET_MIN_LEN, K8SSA_MAX_SECRET_FILE);
    c->secret_file = path;
    c->secret_from_file = buf;
    c->secret_file_len = len;
    return NULL;
}

/* AuthK8sCacheTTL, AuthK8sNegativeCacheTTL, AuthK8sStaleIfError,
 * AuthK8sAccessCacheTTL, AuthK8sAccessNegativeCacheTTL. */
static const char *set_seconds(cmd_parms *cmd, void *dconf, const char *arg)
{
    int *slot = (int *)((char *)dconf + (size_t)cmd->info);
    apr_interval_time_t t;
    char *end;
    long v = strtol(arg, &end, 10);

    if (*arg == '\0' || *end != '\0' || v < 0 || v > 86400 * 7)
        return apr_psprintf(cmd->pool, "%s: '%s' is not a number of seconds from 0 to %d",
                            cmd->cmd->name, arg, 86400 * 7);
    *slot = (int)v;
    /* Entries are kept as long as the longest lifetime anywhere needs: that
     * is the server configuration's; .htaccess files, read by one child at
     * request time, cannot change it (their longer TTLs are cut to it). */
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_RUN_MPM)
        return NULL;
    t = apr_time_from_sec(v);
    if (cmd->info == (void *)APR_OFFSETOF(k8ssa_dir_conf, cache_ttl) && t > k8ssa_longest.ttl)
        k8ssa_longest.ttl = t;
    else if (cmd->info == (void *)APR_OFFSETOF(k8ssa_dir_conf, negative_ttl)
             && t > k8ssa_longest.negative_ttl)
        k8ssa_longest.negative_ttl = t;
    else if (cmd->info == (void *)APR_OFFSETOF(k8ssa_dir_conf, stale_if_error)
             && t > k8ssa_longest.stale_if_error)
        k8ssa_longest.stale_if_error = t;
    else if (cmd->info == (void *)APR_OFFSETOF(k8ssa_dir_conf, access_ttl)
             && t > k8ssa_longest_access.ttl)
        k8ssa_longest_access.ttl = t;
    else if (cmd->info == (void *)APR_OFFSETOF(k8ssa_dir_conf, access_negative_ttl)
             && t > k8ssa_longest_access.negative_ttl)
        k8ssa_longest_access.negative_ttl = t;
    return NULL;
}

/* AuthK8sKubeconfig PATH [CONTEXT]: read and checked here, so that
 * `apache2 -t` names what is refused; the explicit directives win (startup.c). */
static const char *set_kubeconfig(cmd_parms *cmd, void *dummy, const char *path,
                                  const char *context)
{
    k8ssa_server_conf *c = ap_get_module_config(cmd->server->module_config,
                                                &auth_k8ssa_module);
    const char *full = ap_server_root_relative(cmd->pool, path), *err;
    apr_file_t *f;
    apr_finfo_t fi;
    apr_status_t rv;
    char *text, errbuf[128];
    apr_size_t got = 0;
    k8ssa_kubeconfig *kc = apr_pcalloc(cmd->pool, sizeof(*kc));
    (void)dummy;

    if (full == NULL)
        return apr_psprintf(cmd->pool, "AuthK8sKubeconfig: invalid path '%s'", path);
    rv = apr_file_open(&f, full, APR_FOPEN_READ, 0, cmd->temp_pool);
    if (rv == APR_SUCCESS)
        rv = apr_file_info_get(&fi, APR_FINFO_SIZE, f);
    if (rv != APR_SUCCESS)
        return apr_psprintf(cmd->pool, "AuthK8sKubeconfig: cannot read '%s': %s", full,
                            apr_strerror(rv, errbuf, sizeof(errbuf)));
    if (fi.size > K8SSA_KUBECONFIG_MAX_BYTES)
        return apr_psprintf(cmd->pool, "AuthK8sKubeconfig %s: larger than 256 KiB", full);
    text = apr_palloc(cmd->temp_pool, (apr_size_t)fi.size + 1);
    rv = apr_file_read_full(f, text, (apr_size_t)fi.size, &got);
    apr_file_close(f);
    if (rv != APR_SUCCESS && rv != APR_EOF)
        return apr_psprintf(cmd->pool, "AuthK8sKubeconfig: cannot read '%s': %s", full,
                            apr_strerror(rv, errbuf, sizeof(errbuf)));
    err = k8ssa_kubeconfig_parse(cmd->pool, full, text, got, context, kc);
    memset(text, 0, got);   /* it may hold a token */
    if (err != NULL)
        return apr_psprintf(cmd->pool, "AuthK8sKubeconfig %s%s%s: %s", full,
                            context ? " " : "", context ? context : "", err);
    c->kubeconfig = apr_pstrcat(cmd->pool, full, " (context ", kc->context, ")", NULL);
    c->kc = kc;
    return NULL;
}

static const char *set_signature_check(cmd_parms *cmd, void *dummy, const char *arg)
{
    k8ssa_server_conf *c = ap_get_module_config(cmd->server->module_config,
                                                &auth_k8ssa_module);
    (void)dummy;
    if (ap_cstr_casecmp(arg, "Off") == 0)
        c->signature_check = K8SSA_SIGCHECK_OFF;
    else if (ap_cstr_casecmp(arg, "On") == 0)
        c->signature_check = K8SSA_SIGCHECK_ON;
    else if (ap_cstr_casecmp(arg, "Require") == 0)
        c->signature_check = K8SSA_SIGCHECK_REQUIRE;
    else
        return apr_psprintf(cmd->pool, "AuthK8sSignatureCheck: '%s' is not Off, On or Require",
                            arg);
    return NULL;
}

static const char *set_review_concurrency(cmd_parms *cmd, void *dummy, const char *arg)
{
    k8ssa_server_conf *c = ap_get_module_config(cmd->server->module_config,
                                                &auth_k8ssa_module);
    char *end;
    long v = strtol(arg, &end, 10);
    (void)dummy;

    if (*arg == '\0' || *end != '\0' || v < 1 || v > 100000)
        return apr_psprintf(cmd->pool, "AuthK8sReviewConcurrency: '%s' is not a number of "
                            "reviews from 1 to 100000 (per child)", arg);
    c->review_concurrency = (int)v;
    return NULL;
}

/* A child's verdict cache is the child's, whichever host a request is for:
 * one number for the whole server. */
static const char *set_child_cache_entries(cmd_parms *cmd, void *dummy, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    char *end;
    long v = strtol(arg, &end, 10);
    (void)dummy;

    if (err != NULL)
        return err;
    if (*arg == '\0' || *end != '\0' || v < 0 || v > K8SSA_MAX_CHILD_CACHE_ENTRIES)
        return apr_psprintf(cmd->pool, "AuthK8sChildCacheEntries: '%s' is not a number of "
                            "verdicts from 0 (none) to %d (per child)", arg,
                            K8SSA_MAX_CHILD_CACHE_ENTRIES);
    k8ssa_child_cache_entries = (int)v;
    return NULL;
}

/* AuthK8sForwardToken, AuthK8sResponseHeaders, AuthK8sTokenPrecheck. */
static const char *set_on_off(cmd_parms *cmd, void *dconf, int on)
{
    *(int *)((char *)dconf + (size_t)cmd->info) = on;
    return NULL;
}

const command_rec k8ssa_cmds[] = {
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
    AP_INIT_TAKE1("AuthK8sCache", set_cache, NULL, RSRC_CONF,
                  "none, or the socache provider for reviews: shmcb (default), "
                  "shmcb:PATH(BYTES), memcache:HOST:PORT, redis:HOST:PORT, dbm:PATH"),
    AP_INIT_TAKE1("AuthK8sCacheSecretFile", set_cache_secret_file, NULL, RSRC_CONF,
                  "File of at least 32 random bytes that names and authenticates cache "
                  "entries; the same on every host sharing a cache (default: random per start)"),
    AP_INIT_TAKE12("AuthK8sKubeconfig", set_kubeconfig, NULL, RSRC_CONF,
                   "A kubeconfig file and optionally its context (default: current-context): "
                   "server, CA, token or client certificate; explicit AuthK8s* directives win"),
    AP_INIT_TAKE1("AuthK8sSignatureCheck", set_signature_check, NULL, RSRC_CONF,
                  "Off (default), On: JWTs of the cluster's service-account issuer must be "
                  "signed by its published keys, Require: and only those are reviewed"),
    AP_INIT_TAKE1("AuthK8sReviewConcurrency", set_review_concurrency, NULL, RSRC_CONF,
                  "Reviews in flight per child beyond which a request gets 503 with "
                  "Retry-After: 1 (default 16)"),
    AP_INIT_TAKE1("AuthK8sChildCacheEntries", set_child_cache_entries, NULL, RSRC_CONF,
                  "Verdicts each child keeps of its own in front of AuthK8sCache when it "
                  "is not shared between hosts; 0: none (default 1024, at most 4 KiB each)"),
    AP_INIT_TAKE1("AuthK8sCacheTTL", set_seconds,
                  (void *)APR_OFFSETOF(k8ssa_dir_conf, cache_ttl), OR_AUTHCFG,
                  "Seconds a positive token review is reused (default 120)"),
    AP_INIT_TAKE1("AuthK8sNegativeCacheTTL", set_seconds,
                  (void *)APR_OFFSETOF(k8ssa_dir_conf, negative_ttl), OR_AUTHCFG,
                  "Seconds a rejected token is remembered; 0 disables (default 10)"),
    AP_INIT_TAKE1("AuthK8sStaleIfError", set_seconds,
                  (void *)APR_OFFSETOF(k8ssa_dir_conf, stale_if_error), OR_AUTHCFG,
                  "Seconds past its TTL a positive review may serve while the API server "
                  "fails (default 0: never)"),
    AP_INIT_TAKE1("AuthK8sAccessCacheTTL", set_seconds,
                  (void *)APR_OFFSETOF(k8ssa_dir_conf, access_ttl), OR_AUTHCFG,
                  "Seconds a Require k8s-can decision that allowed is reused (default 300)"),
    AP_INIT_TAKE1("AuthK8sAccessNegativeCacheTTL", set_seconds,
                  (void *)APR_OFFSETOF(k8ssa_dir_conf, access_negative_ttl), OR_AUTHCFG,
                  "Seconds a Require k8s-can decision that denied is reused; 0 disables "
                  "(default 30)"),
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
    AP_INIT_FLAG("AuthK8sForwardToken", set_on_off,
                 (void *)APR_OFFSETOF(k8ssa_dir_conf, forward_token), OR_AUTHCFG,
                 "Off removes the Authorization header before the backend (default On)"),
    AP_INIT_FLAG("AuthK8sTokenPrecheck", set_on_off,
                 (void *)APR_OFFSETOF(k8ssa_dir_conf, token_precheck), OR_AUTHCFG,
                 "On (default): a JWT expired, not yet valid or for none of AuthK8sAudiences "
                 "is refused without a review"),
    AP_INIT_FLAG("AuthK8sResponseHeaders", set_on_off,
                 (void *)APR_OFFSETOF(k8ssa_dir_conf, response_headers), OR_AUTHCFG,
                 "On also puts the identity headers on a successful response: "
                 "forward-auth for nginx auth_request, Caddy forward_auth, Envoy ext_authz "
                 "(default Off)"),
    { NULL }
};

