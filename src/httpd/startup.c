/*
 * startup.c - what happens before the first request: defaults applied and the
 * whole configuration checked (also for `apache2 -t`), caches and their
 * mutexes set up, and per child the API clients and the flight table.
 */
#include "module.h"
#include "conf.h"
#include "kubeconfig.h"
#include "unixd.h"
#include "apr_portable.h"
#include <errno.h>
#include <unistd.h>
#include "issuer.h"

#include "http_core.h"
#include "util_cfgtree.h"
#include "apr_file_info.h"
#include "apr_hash.h"
#include "apr_strings.h"

#include "credential.h"
#include "tlsfiles.h"
#include "tokenkey.h"

#include <stdlib.h>
#include <string.h>

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

/* 1 when the expression starts "-n %{REMOTE_USER} &&" (spaces and opening
 * parentheses aside): false without a user, so httpd asks for a token before
 * the rest, which ap_expr does not evaluate then, is read. */
static int guarded_by_user(const char *e)
{
    static const char *const parts[] = { "-n", "%{REMOTE_USER}", "&&" };
    size_t i, n;
    int open = 0;

    for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        /* "(-n %{REMOTE_USER}) &&" too */
        while (*e == ' ' || *e == '\t' || (i == 0 && *e == '(' && ++open)
               || (i == 2 && *e == ')' && open-- > 0))
            e++;
        n = strlen(parts[i]);
        if (ap_cstr_casecmpn(e, parts[i], n) != 0)
            return 0;
        e += n;
    }
    return 1;
}

/* The expression of a `Require expr` line as mod_authz_core takes it: the
 * quoted word, or else the whole rest of the line. */
static const char *expression_of(apr_pool_t *p, const char *args)
{
    while (*args == ' ' || *args == '\t')
        args++;
    return *args == '"' || *args == '\'' ? ap_getword_conf(p, &args) : args;
}

/* The K8S_* variables exist from authentication on, but mod_authz_core
 * evaluates a `Require expr` (or an expr AuthzProviderAlias) without a user
 * first: one that reads them must be false without a user before it does.
 * Returns how many lines of the configuration files break that rule (each
 * logged); .htaccess files, read per request, and names computed at run time
 * meet the run-time check of authz.c instead. */
static int find_early_identity_exprs(ap_directive_t *node, server_rec *main_s,
                                     apr_pool_t *ptemp)
{
    static const char *const vars[] = { "K8S_USER", "K8S_UID", "K8S_GROUPS", "K8S_NAMESPACE",
                                        "K8S_SERVICEACCOUNT" };
    int bad = 0;
    size_t i;

    for (; node != NULL; node = node->next) {
        const char *args = node->args, *word = "", *expr;

        if (args != NULL && ap_cstr_casecmp(node->directive, "Require") == 0) {
            word = ap_getword_conf(ptemp, &args);
            if (ap_cstr_casecmp(word, "not") == 0)
                word = ap_getword_conf(ptemp, &args);
        } else if (args != NULL && ap_cstr_casecmp(node->directive, "<AuthzProviderAlias") == 0) {
            word = ap_getword_conf(ptemp, &args);
            if (ap_cstr_casecmp(word, "expr") == 0)
                (void)ap_getword_conf(ptemp, &args);   /* the alias name */
        }
        if (ap_cstr_casecmp(word, "expr") == 0) {
            expr = expression_of(ptemp, args);
            for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
                if (ap_strcasestr(expr, vars[i]) == NULL || guarded_by_user(expr))
                    continue;
                ap_log_error(APLOG_MARK, APLOG_EMERG, 0, main_s, K8LOG(016)
                             "%s expr at %s:%d reads %s, which is unset until "
                             "authentication, and httpd evaluates it without a user first: "
                             "begin it with -n %%{REMOTE_USER} &&, as in Require expr "
                             "\"-n %%{REMOTE_USER} && (...)\"",
                             node->directive, node->filename, node->line_num, vars[i]);
                bad++;
                break;
            }
        }
        if (node->first_child)
            bad += find_early_identity_exprs(node->first_child, main_s, ptemp);
    }
    return bad;
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
/* A *-data field of the kubeconfig as a file the children can read and
 * nobody else: mode 0600 in the runtime directory, owned by httpd's User. */
static const char *data_file(server_rec *s, apr_pool_t *pconf, const char *tag,
                             const char *what, const void *data, size_t len)
{
    const char *path = ap_runtime_dir_relative(pconf, apr_psprintf(pconf, "k8ssa-kc-%s-%s",
                                                                    tag, what));
    apr_file_t *f;
    apr_size_t n = len;
    apr_status_t rv;
    const char *tmp;

    /* A new file under a temporary name, owned through its descriptor (a
     * chown by name would follow a symlink put there meanwhile), then
     * renamed over the old one: readers never see it missing or partial. */
    tmp = apr_psprintf(pconf, "%s.%" APR_PID_T_FMT, path, getpid());
    apr_file_remove(tmp, pconf);
    rv = apr_file_open(&f, tmp, APR_FOPEN_WRITE | APR_FOPEN_CREATE | APR_FOPEN_EXCL,
                       APR_FPROT_UREAD | APR_FPROT_UWRITE, pconf);
    if (rv == APR_SUCCESS) {
        apr_os_file_t fd;
        rv = apr_file_write_full(f, data, n, &n);
        if (rv == APR_SUCCESS && geteuid() == 0 && apr_os_file_get(&fd, f) == APR_SUCCESS
            && fchown(fd, ap_unixd_config.user_id, (gid_t)-1) != 0)
            rv = APR_FROM_OS_ERROR(errno);
        apr_file_close(f);
        if (rv == APR_SUCCESS)
            rv = apr_file_rename(tmp, path, pconf);
        if (rv != APR_SUCCESS)
            apr_file_remove(tmp, pconf);
    }
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, K8LOG(019)
                     "AuthK8sKubeconfig: cannot write %s (DefaultRuntimeDir)", path);
        return NULL;
    }
    return path;
}

static int kubeconfig_files(k8ssa_server_conf *c, server_rec *s, apr_pool_t *pconf,
                            const char **ca, const char **token, const char **cert,
                            const char **key)
{
    const k8ssa_kubeconfig *kc = c->kc;
    const char *tag = apr_psprintf(pconf, "%08x",
                                   apr_hashfunc_default(c->kubeconfig, &(apr_ssize_t){
                                       APR_HASH_KEY_STRING}));

    *ca = kc->ca_file;
    *token = kc->token_file;
    *cert = kc->cert_file;
    *key = kc->key_file;
    if (kc->ca_data && (*ca = data_file(s, pconf, tag, "ca.crt", kc->ca_data,
                                        kc->ca_data_len)) == NULL)
        return 0;
    if (kc->token && (*token = data_file(s, pconf, tag, "token", kc->token,
                                         strlen(kc->token))) == NULL)
        return 0;
    if (kc->cert_data && (*cert = data_file(s, pconf, tag, "client.crt", kc->cert_data,
                                            kc->cert_data_len)) == NULL)
        return 0;
    if (kc->key_data && (*key = data_file(s, pconf, tag, "client.key", kc->key_data,
                                          kc->key_data_len)) == NULL)
        return 0;
    return 1;
}

static int resolve_api_config(k8ssa_server_conf *c, server_rec *s, apr_pool_t *pconf,
                              apr_pool_t *ptemp)
{
    static const char in_ca[] = K8SSA_INCLUSTER_DIR "/ca.crt";
    static const char in_token[] = K8SSA_INCLUSTER_DIR "/token";
    k8ssa_api_config *api = &c->api;
    const char *why = NULL;
    int ok = 1;

    const char *kc_ca = NULL, *kc_token = NULL, *kc_cert = NULL, *kc_key = NULL;

    if (c->kc != NULL && !kubeconfig_files(c, s, pconf, &kc_ca, &kc_token, &kc_cert, &kc_key))
        return 0;
    memset(api, 0, sizeof(*api));
    /* The explicit directives, then the kubeconfig, then the pod's own. */
    api->server_url = c->api_server ? c->api_server
                    : c->kc ? c->kc->server : incluster_url(pconf);
    /* With a kubeconfig, nothing of the pod's: its token must not go to
     * the kubeconfig's server. */
    api->ca_file = c->ca_file ? c->ca_file : c->kc ? kc_ca
                 : (file_exists(ptemp, in_ca) ? in_ca : NULL);
    api->token_file = c->token_file ? c->token_file : c->kc ? kc_token
                    : (file_exists(ptemp, in_token) ? in_token : NULL);
    api->cert_file = c->cert_file || c->key_file ? c->cert_file : kc_cert;
    api->key_file = c->cert_file || c->key_file ? c->key_file : kc_key;
    api->timeout = apr_time_from_sec(c->timeout ? c->timeout : K8SSA_DEFAULT_TIMEOUT);
    api->token_check_interval = K8SSA_TOKEN_CHECK_INTERVAL;
    api->user_agent = "mod_auth_k8ssa/" K8SSA_VERSION;

    if ((c->cert_file == NULL) != (c->key_file == NULL)) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, K8LOG(001)
                     "AuthK8sClientCertificate and AuthK8sClientKey go together: "
                     "set both or neither in %s", server_where(ptemp, s));
        ok = 0;
    }
    if ((c->ca_file != NULL || kc_ca != NULL)
        && (why = k8ssa_check_ca_file(api->ca_file)) != NULL) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, K8LOG(007)
                     "%s %s: %s", c->ca_file ? "AuthK8sCAFile" : "AuthK8sKubeconfig's CA",
                     api->ca_file, why);
        ok = 0;
    }
    if (api->cert_file != NULL && api->key_file != NULL
        && (why = k8ssa_check_client_pair(api->cert_file, api->key_file)) != NULL) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, K8LOG(008)
                     "%s (%s, %s)", why, api->cert_file, api->key_file);
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

/* The cache of a configuration record: its own, or the default shmcb one;
 * 1 if good. A shared cache needs a shared secret. */
static int resolve_cache_config(k8ssa_server_conf *c, server_rec *s, apr_pool_t *pconf,
                                apr_pool_t *ptemp, int authtype_used)
{
    if (c->cache_spec == NULL) {
        if (k8ssa_default_cache == NULL) {
            const char *err = k8ssa_cache_create(pconf, ptemp, "shmcb", &k8ssa_default_cache);
            if (err != NULL) {
                if (!authtype_used)
                    return 1;  /* nothing to cache */
                ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, K8LOG(009)
                             "AuthK8sCache defaults to shmcb, which is not available (%s): "
                             "load mod_socache_shmcb (a2enmod socache_shmcb), or choose "
                             "another provider or none with AuthK8sCache", err);
                return 0;
            }
        }
        c->cache = k8ssa_default_cache;
    }
    if (c->cache != NULL && k8ssa_cache_is_shared(c->cache) && c->secret_file == NULL) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, K8LOG(010)
                     "AuthK8sCache %s is shared between hosts: set AuthK8sCacheSecretFile "
                     "to a file of at least %d random bytes, the same on every host, in %s",
                     k8ssa_cache_spec(c->cache), K8SSA_SECRET_MIN_LEN, server_where(ptemp, s));
        return 0;
    }
    return 1;
}

/* Runs for `apache2 -t` too, so bad configuration fails the syntax check. */
int k8ssa_check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                       server_rec *main_s)
{
    apr_hash_t *uses = apr_hash_make(ptemp), *seen = apr_hash_make(ptemp);
    server_rec *s;
    int ok = 1;
    (void)plog;

    find_authtype_uses(ap_conftree, main_s, uses);
    if (find_early_identity_exprs(ap_conftree, main_s, ptemp) > 0)
        ok = 0;
    for (s = main_s; s != NULL; s = s->next) {
        k8ssa_server_conf *c = ap_get_module_config(s->module_config, &auth_k8ssa_module);
        if (!has_flag(seen, c)) {
            set_flag(seen, c);
            ok = resolve_api_config(c, s, pconf, ptemp) && ok;
            ok = resolve_cache_config(c, s, pconf, ptemp, apr_hash_count(uses) > 0) && ok;
        }
    }
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

/* Every configuration cycle starts from the defaults. */
int k8ssa_pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    (void)plog;
    (void)ptemp;
    k8ssa_cache_register_mutex(pconf);
    k8ssa_default_cache = NULL;
    k8ssa_child_cache_entries = K8SSA_DEFAULT_CHILD_CACHE_ENTRIES;
    k8ssa_longest.ttl = apr_time_from_sec(K8SSA_DEFAULT_CACHE_TTL);
    k8ssa_longest.negative_ttl = apr_time_from_sec(K8SSA_DEFAULT_NEGATIVE_TTL);
    k8ssa_longest.stale_if_error = 0;
    k8ssa_longest_access.ttl = apr_time_from_sec(K8SSA_DEFAULT_ACCESS_TTL);
    k8ssa_longest_access.negative_ttl = apr_time_from_sec(K8SSA_DEFAULT_ACCESS_NEGATIVE_TTL);
    k8ssa_longest_access.stale_if_error = 0;
    return OK;
}

static apr_status_t free_keyed_secret(void *key)
{
    k8ssa_hmac_key_free(key);
    return APR_SUCCESS;
}

/* The secret keyed for HMAC once per configuration, released with it. */
static k8ssa_hmac_key *keyed_secret(apr_pool_t *pconf, const unsigned char *secret,
                                    apr_size_t len)
{
    k8ssa_hmac_key *key = k8ssa_hmac_key_new(secret, len);

    if (key != NULL)
        apr_pool_cleanup_register(pconf, key, free_keyed_secret, apr_pool_cleanup_null);
    return key;
}

int k8ssa_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                      server_rec *main_s)
{
    apr_hash_t *ready = apr_hash_make(ptemp);
    server_rec *s;
    int n = 0;
    (void)plog;

    if (k8ssa_random_bytes(k8ssa_random_secret, sizeof(k8ssa_random_secret)) != 0) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, main_s, K8LOG(005)
                     "cannot draw random bytes from libcrypto");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    k8ssa_apiclient_global_init(pconf);
    k8ssa_metrics_post_config(pconf, main_s);
    k8ssa_cache_epochs_init(main_s);
    for (s = main_s; s != NULL; s = s->next) {
        k8ssa_server_conf *c = ap_get_module_config(s->module_config, &auth_k8ssa_module);
        apr_status_t rv;

        c->secret = c->secret_from_file ? c->secret_from_file : k8ssa_random_secret;
        c->secret_len = c->secret_from_file ? c->secret_file_len : sizeof(k8ssa_random_secret);
        c->key_secret = keyed_secret(pconf, c->secret, c->secret_len);
        if (c->key_secret == NULL) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, main_s, K8LOG(007)
                         "libcrypto cannot key HMAC-SHA256 with the cache secret");
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        if (c->cache == NULL || has_flag(ready, c->cache))
            continue;
        set_flag(ready, c->cache);
        /* One mutex per cache instance, named so `Mutex` can tell them apart. */
        rv = k8ssa_cache_init(c->cache, apr_itoa(ptemp, n++), s, pconf);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, K8LOG(011)
                         "cannot set up AuthK8sCache %s", k8ssa_cache_spec(c->cache));
            return HTTP_INTERNAL_SERVER_ERROR;  /* a status code would be a misnomer */
        }
    }
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

void k8ssa_child_init(apr_pool_t *p, server_rec *main_s)
{
    apr_hash_t *made = apr_hash_make(p), *attached = apr_hash_make(p);
    apr_hash_t *unusable = apr_hash_make(p), *issuers = apr_hash_make(p);
    server_rec *s;
    apr_status_t rv;

    k8ssa_metrics_child_init();
    rv = k8ssa_flights_create(p, &k8ssa_flights_table);
    if (rv != APR_SUCCESS) {
        k8ssa_flights_table = NULL;  /* reviews still work, only not coalesced */
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, main_s, K8LOG(012)
                     "cannot create the table of reviews in flight");
    }
    for (s = main_s; s != NULL; s = s->next) {
        k8ssa_server_conf *c = ap_get_module_config(s->module_config, &auth_k8ssa_module);
        const char *sig, *why = NULL;
        k8ssa_apiclient *client;

        if (c->cache != NULL && !has_flag(attached, c->cache)) {
            set_flag(attached, c->cache);
            rv = k8ssa_cache_child_init(c->cache, p, s);
            if (rv != APR_SUCCESS) {
                ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, K8LOG(013)
                             "cannot attach to the " K8SSA_CACHE_MUTEX " mutex of "
                             "AuthK8sCache %s: caching is off in this child",
                             k8ssa_cache_spec(c->cache));
                set_flag(unusable, c->cache);
            }
        }
        /* Every server sharing that cache, not just the first: without its
         * mutex a NOTMPSAFE provider would be used unsynchronized. */
        if (c->cache != NULL && has_flag(unusable, c->cache))
            c->cache = NULL;

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
        /* The issuer's keys, for every server of this client that checks
         * signatures; fetched on first need, never here. */
        if (c->signature_check > K8SSA_SIGCHECK_OFF) {
            c->issuer = apr_hash_get(issuers, sig, APR_HASH_KEY_STRING);
            if (c->issuer == NULL) {
                rv = k8ssa_issuer_create(p, client, c->api.timeout,
                                         c->review_concurrency > 0
                                             ? (unsigned)c->review_concurrency
                                             : K8SSA_DEFAULT_REVIEW_CONCURRENCY,
                                         &c->issuer);
                if (rv != APR_SUCCESS)
                    ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, K8LOG(018)
                                 "cannot create the issuer key cache: signatures are not "
                                 "checked in this child");
                else
                    apr_hash_set(issuers, sig, APR_HASH_KEY_STRING, c->issuer);
            }
        }
    }
}

