/*
 * apiclient.h - HTTPS client for the Kubernetes API server (libcurl).
 *
 * One instance per child process and per API server configuration. It keeps a
 * pool of curl easy handles, so reviews reuse kept-alive TLS connections, and
 * the module's own credentials (bearer token file, client certificate). It
 * knows nothing of TokenReview: the same POST serves SubjectAccessReviews,
 * and GET the issuer's discovery document and keys.
 */
#ifndef K8SSA_APICLIENT_H
#define K8SSA_APICLIENT_H

#include <stddef.h>
#include <apr_pools.h>
#include <apr_time.h>

typedef struct {
    const char *server_url;    /* "https://host[:port][/prefix]", no trailing '/' */
    const char *ca_file;       /* NULL: the system CA store */
    const char *token_file;    /* NULL: no bearer credential */
    const char *cert_file;     /* client certificate (PEM), or NULL */
    const char *key_file;      /* its key (PEM), or NULL */
    apr_interval_time_t timeout;            /* one review, connect and retry included */
    apr_interval_time_t token_check_interval; /* token-file change checks */
    const char *user_agent;
} k8ssa_api_config;

typedef enum {
    K8SSA_API_OK = 0,          /* a 2xx answer; body holds it */
    K8SSA_API_UNAVAILABLE,     /* unreachable, timed out, TLS failure, 5xx, 429,
                                  body too large: 503 */
    K8SSA_API_CREDENTIALS,     /* 401 or 403 to the module's own credentials: 500 */
    K8SSA_API_UNEXPECTED       /* any other status (3xx, 4xx): a configuration error, 500 */
} k8ssa_api_status;

#define K8SSA_API_MAX_CODES 8

typedef struct {
    k8ssa_api_status status;
    long http_code;            /* of the last attempt; 0 when no answer came */
    const char *body;          /* NUL-terminated, in the caller's pool: wipe body_len bytes */
    size_t body_len;
    const char *error;         /* log-safe description of a failure, else NULL */
    unsigned attempts;         /* requests sent (a failed connect counts one); 2 after a retry */
    /* The status of each request sent, 0 where no answer came (metrics). */
    long codes[K8SSA_API_MAX_CODES];
    unsigned ncodes;
} k8ssa_api_response;

/* Counters since the instance was created (this child only). */
typedef struct {
    unsigned long requests;        /* HTTP exchanges, retries included */
    unsigned long connections;     /* new connections opened */
    unsigned long credential_reloads;
} k8ssa_api_stats;

/* Answers larger than this are not read: K8SSA_API_UNAVAILABLE. */
#define K8SSA_API_MAX_BODY (1024 * 1024)

typedef struct k8ssa_apiclient k8ssa_apiclient;

/* Call once per configuration cycle before any thread uses curl
 * (post_config); libcurl is released again when pconf is cleared. */
void k8ssa_apiclient_global_init(apr_pool_t *pconf);

/*
 * Creates a client in p (the child's pool); handles are made lazily and freed
 * with p. Reads the token file once. *why explains a failure.
 */
apr_status_t k8ssa_apiclient_create(apr_pool_t *p, const k8ssa_api_config *cfg,
                                    k8ssa_apiclient **out, const char **why);

/*
 * POSTs json to server_url + path with the module's credentials. Within the
 * configured timeout: a connection reset, 5xx or 429 is retried once on a
 * fresh connection; a 401 makes the token file re-read and, when the token
 * changed, the request is sent once more.
 */
void k8ssa_apiclient_post(k8ssa_apiclient *c, apr_pool_t *p, const char *path,
                          const char *json, k8ssa_api_response *out);

/* GETs server_url + path (the issuer's discovery document and key set) with
 * the same credentials, timeout and retry rules. */
void k8ssa_apiclient_get(k8ssa_apiclient *c, apr_pool_t *p, const char *path,
                         k8ssa_api_response *out);

void k8ssa_apiclient_stats(k8ssa_apiclient *c, k8ssa_api_stats *out);

#endif
