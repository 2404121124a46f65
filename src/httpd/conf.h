/*
 * conf.h - the module's configuration records and per-request state, shared
 * by the files of the httpd glue (conf.c, startup.c, authn.c, authz.c).
 */
#ifndef K8SSA_CONF_H
#define K8SSA_CONF_H

#include "httpd.h"
#include "http_config.h"

#include "apiclient.h"
#include "cache.h"
#include "flight.h"
#include "identity.h"
#include "lifetime.h"

#define K8SSA_AUTH_TYPE "KubernetesServiceAccount"
#define K8SSA_CHECK_HANDLER "k8ssa-check"
#define K8SSA_METRICS_HANDLER "k8ssa-metrics"
#define K8SSA_VERSION "0.1.0"
#define K8SSA_DEFAULT_TIMEOUT 5
#define K8SSA_MAX_TIMEOUT 300
#define K8SSA_TOKEN_CHECK_INTERVAL apr_time_from_sec(60)
#define K8SSA_INCLUSTER_DIR "/var/run/secrets/kubernetes.io/serviceaccount"
#define K8SSA_DEFAULT_USER_HEADER "X-Remote-User"
#define K8SSA_DEFAULT_GROUPS_HEADER "X-Remote-Group"
#define K8SSA_DEFAULT_EXTRA_PREFIX "X-Remote-Extra-"
#define K8SSA_DEFAULT_CACHE_TTL 120
#define K8SSA_DEFAULT_NEGATIVE_TTL 10
#define K8SSA_DEFAULT_ACCESS_TTL 300
#define K8SSA_DEFAULT_ACCESS_NEGATIVE_TTL 30
#define K8SSA_MAX_SECRET_FILE 4096
#define K8SSA_DEFAULT_REVIEW_CONCURRENCY 16

/* AuthK8sSignatureCheck */
typedef enum {
    K8SSA_SIGCHECK_OFF = 0,
    K8SSA_SIGCHECK_ON,
    K8SSA_SIGCHECK_REQUIRE
} k8ssa_sigcheck;


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
    const char *cache_spec;     /* AuthK8sCache as written; NULL: unset (shmcb) */
    k8ssa_cache *cache;         /* NULL for `none` (and until the default is made) */
    const char *secret_file;
    const unsigned char *secret_from_file;
    apr_size_t secret_file_len;
    /* AuthK8sKubeconfig: what its context gives, below the explicit
     * directives; NULL when not set. */
    const char *kubeconfig;         /* path [context], for log lines */
    struct k8ssa_kubeconfig *kc;
    int signature_check;        /* k8ssa_sigcheck; -1: unset (Off) */
    int review_concurrency;     /* per child; 0: unset (16) */

    /* Resolved in check_config (defaults applied): what the child uses. */
    k8ssa_api_config api;
    const unsigned char *secret;    /* names and authenticates cache entries */
    apr_size_t secret_len;
    struct k8ssa_hmac_key *key_secret;  /* secret, keyed once: names reviews */
    k8ssa_apiclient *client;    /* per child; NULL when not configured */
    struct k8ssa_issuer *issuer;  /* per child, with client, when signatures are checked */
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
    int token_precheck;             /* AuthK8sTokenPrecheck; -1: unset (On) */
    int response_headers;           /* -1: unset (Off) */
    int cache_ttl;                  /* seconds; -1: unset */
    int negative_ttl;
    int stale_if_error;
    /* A Require k8s-* line of this section (or one it merges) reads the
     * request through an expression: see k8ssa_recheck_requires(). */
    int computed_require;
    int access_ttl;                 /* Require k8s-can decisions: allowed */
    int access_negative_ttl;        /* denied */
} k8ssa_dir_conf;

typedef struct k8ssa_export k8ssa_export;

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
    const char *user;              /* the r->user string set for id */
    const char *review_context;    /* server URL and audiences of the review */
    const char *token;             /* for sub-requests when the header is gone */
    /* Why a Require k8s-can line could not be decided (503 or 500), for
     * the authorization hook that answers with that status. */
    int access_failure;
    /* id as the identity headers write it (identity_headers.c), and the
     * tables of this request it was last written into */
    struct k8ssa_export *export;
    const apr_table_t *put_headers, *put_env;
    const char *put_connection, *put_user;
} k8ssa_request_state;


/* Random per start: the cache secret of servers without AuthK8sCacheSecretFile. */
extern unsigned char k8ssa_random_secret[K8SSA_SECRET_MIN_LEN];
/* The shmcb cache of every server that does not set AuthK8sCache. */
extern k8ssa_cache *k8ssa_default_cache;
/* The longest lifetimes any directory configures (entries are kept that long). */
extern k8ssa_lifetimes k8ssa_longest;
/* The same for access decisions (AuthK8sAccess*TTL). */
extern k8ssa_lifetimes k8ssa_longest_access;
/* Per child: concurrent misses for one token wait for one review. */
extern k8ssa_flights *k8ssa_flights_table;

extern const command_rec k8ssa_cmds[];

void *k8ssa_create_server_conf(apr_pool_t *p, server_rec *s);
void *k8ssa_merge_server_conf(apr_pool_t *p, void *basev, void *addv);
void *k8ssa_create_dir_conf(apr_pool_t *p, char *dir);
void *k8ssa_merge_dir_conf(apr_pool_t *p, void *basev, void *addv);

/* startup.c */
int k8ssa_pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp);
int k8ssa_check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                       server_rec *main_s);
int k8ssa_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                      server_rec *main_s);
void k8ssa_child_init(apr_pool_t *p, server_rec *main_s);

/* authn.c */
int k8ssa_check_authn(request_rec *r);
int k8ssa_note_auth_failure(request_rec *r, const char *auth_type);
/* Sets a request note for the access log on r, and on the client's request
 * it serves when that has none yet (the first decision of a redirect chain
 * is the one logged with %<{...}n). */
void k8ssa_note(request_rec *r, const char *key, const char *value);
/* SetHandler k8ssa-check: 200 once authentication and authorization passed. */
int k8ssa_check_handler(request_rec *r);

/* identity_headers.c */
/* This request's state, or that of the request it derives from. */
k8ssa_request_state *k8ssa_request_state_of(request_rec *r);
k8ssa_request_state *k8ssa_inherited_state(request_rec *r);
/* 1 when r's location has AuthType KubernetesServiceAccount. */
int k8ssa_is_our_auth_type(request_rec *r);
/* The identity this module authenticated r->user as; NULL when there is no
 * r->user, or another AuthType (or module) set it. */
const k8ssa_identity *k8ssa_identity_of(request_rec *r);
/* Scrubs the identity headers and variables of r and exports the identity
 * this module authenticated for it, if any (OK, or 500 when the groups cannot
 * be written under AuthK8sGroupsSeparator); from_client: log what the client
 * sent. */
int k8ssa_identity_apply(request_rec *r, int from_client);
/* Removes from t (response headers) whatever stands under d's identity names. */
void k8ssa_remove_identity_headers(request_rec *r, apr_table_t *t, const k8ssa_dir_conf *d);
/* Exports the identity this module authenticated for r, if any, without a
 * scrub first (check_authn: post_perdir_config scrubbed already). */
int k8ssa_identity_export(request_rec *r);
/* The identity headers of d for id into t (request or response headers). */
int k8ssa_put_identity_headers(request_rec *r, apr_table_t *t, const k8ssa_dir_conf *d,
                               const k8ssa_identity *id);
/* Hooks: every request, once its configuration is known; and last before
 * the handler. */
int k8ssa_post_perdir_config(request_rec *r);
int k8ssa_fixups(request_rec *r);
/* Adds the response-headers filter where AuthK8sResponseHeaders is On in
 * the request's location or one its redirect chain went through: for the
 * answer (insert_filter) and for an error answer (insert_error_filter). */
void k8ssa_insert_filter(request_rec *r);
/* 1 on a WebSocket upgrade request (where a bearer entry is a credential). */
int k8ssa_is_websocket_upgrade(request_rec *r);
/* Pool cleanup wiping a copy of a token. */
apr_status_t k8ssa_wipe_token_copy(void *token);
/* Registers that filter (register_hooks). */
void k8ssa_register_filters(void);

/* metrics.c: the counters' shared memory (post_config, child_init) and
 * SetHandler k8ssa-metrics. */
int k8ssa_metrics_post_config(apr_pool_t *pconf, server_rec *s);
void k8ssa_metrics_child_init(void);
int k8ssa_metrics_handler(request_rec *r);

/* authz.c */
void k8ssa_register_authz_providers(apr_pool_t *p);
/* Runs httpd's authorization so that an undecidable k8s-can is a 503. */
void k8ssa_register_authz_hook(void);
/* post_perdir_config: a sub-request or redirect under a Require line with
 * expressions is authenticated and authorized again. */
int k8ssa_recheck_requires(request_rec *r);
/* K8S_* in expressions: an error, not "", while a request has no user. */
void k8ssa_register_expr_lookup(void);

/* Effective values: the configured one or the documented default; "" = none. */
static inline const char *user_header(const k8ssa_dir_conf *d)
{
    return d->user_header ? d->user_header : K8SSA_DEFAULT_USER_HEADER;
}

static inline const char *groups_header(const k8ssa_dir_conf *d)
{
    return d->groups_header ? d->groups_header : K8SSA_DEFAULT_GROUPS_HEADER;
}

static inline const char *extra_prefix(const k8ssa_dir_conf *d)
{
    return d->extra_prefix ? d->extra_prefix : K8SSA_DEFAULT_EXTRA_PREFIX;
}

static inline k8ssa_lifetimes lifetimes(const k8ssa_dir_conf *d)
{
    k8ssa_lifetimes l;

    l.ttl = apr_time_from_sec(d->cache_ttl != -1 ? d->cache_ttl : K8SSA_DEFAULT_CACHE_TTL);
    l.negative_ttl = apr_time_from_sec(d->negative_ttl != -1 ? d->negative_ttl
                                                             : K8SSA_DEFAULT_NEGATIVE_TTL);
    l.stale_if_error = apr_time_from_sec(d->stale_if_error != -1 ? d->stale_if_error : 0);
    return l;
}

static inline k8ssa_lifetimes access_lifetimes(const k8ssa_dir_conf *d)
{
    k8ssa_lifetimes l;

    l.ttl = apr_time_from_sec(d->access_ttl != -1 ? d->access_ttl : K8SSA_DEFAULT_ACCESS_TTL);
    l.negative_ttl = apr_time_from_sec(d->access_negative_ttl != -1
                                       ? d->access_negative_ttl
                                       : K8SSA_DEFAULT_ACCESS_NEGATIVE_TTL);
    /* A decision is never served stale: an API failure is a 503. */
    l.stale_if_error = 0;
    return l;
}

static inline const char *const *audiences(const k8ssa_dir_conf *d, size_t *n)
{
    if (d->audiences == NULL || d->audiences->nelts == 0) {
        *n = 0;
        return NULL;
    }
    *n = (size_t)d->audiences->nelts;
    return (const char *const *)d->audiences->elts;
}

#endif
