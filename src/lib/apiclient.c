/*
 * apiclient.c - HTTPS POSTs to the Kubernetes API server with libcurl.
 *
 * Connection reuse: each curl easy handle keeps its own kept-alive connection,
 * and idle handles wait on a LIFO stack, so sequential reviews in a child go
 * through the same warm connection and concurrent ones each get one. A curl
 * share object carries TLS sessions and DNS between handles, so even a new
 * handle resumes TLS instead of a full handshake.
 */
#include "apiclient.h"
#include "answer.h"
#include "counters.h"
#include "credential.h"

#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <curl/curl.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

/* More than any sane ThreadsPerChild: every worker thread keeps its warm
 * connection even when all review at once. */
#define MAX_IDLE_HANDLES 256

struct k8ssa_apiclient {
    apr_pool_t *pool;
    k8ssa_api_config cfg;
    k8ssa_credential *cred;          /* NULL without AuthK8sTokenFile */
    apr_thread_mutex_t *lock;        /* idle stack and counters */
    CURL *idle[MAX_IDLE_HANDLES];
    int nidle;
    CURLSH *share;
    apr_thread_mutex_t *share_lock[CURL_LOCK_DATA_LAST];
    unsigned long requests;
    unsigned long connections;
};

static apr_status_t global_cleanup(void *data)
{
    (void)data;
    curl_global_cleanup();
    return APR_SUCCESS;
}

void k8ssa_apiclient_global_init(apr_pool_t *pconf)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    apr_pool_cleanup_register(pconf, NULL, global_cleanup, apr_pool_cleanup_null);
}

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *ud)
{
    struct k8ssa_apiclient *c = ud;
    (void)h;
    (void)access;
    if (data >= 0 && data < CURL_LOCK_DATA_LAST && c->share_lock[data])
        apr_thread_mutex_lock(c->share_lock[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *ud)
{
    struct k8ssa_apiclient *c = ud;
    (void)h;
    if (data >= 0 && data < CURL_LOCK_DATA_LAST && c->share_lock[data])
        apr_thread_mutex_unlock(c->share_lock[data]);
}

static apr_status_t client_cleanup(void *data)
{
    struct k8ssa_apiclient *c = data;

    while (c->nidle > 0)
        curl_easy_cleanup(c->idle[--c->nidle]);
    if (c->share != NULL) {
        curl_share_cleanup(c->share);
        c->share = NULL;
    }
    return APR_SUCCESS;
}

apr_status_t k8ssa_apiclient_create(apr_pool_t *p, const k8ssa_api_config *cfg,
                                    k8ssa_apiclient **out, const char **why)
{
    struct k8ssa_apiclient *c = apr_pcalloc(p, sizeof(*c));
    apr_status_t rv;
    int i;

    c->pool = p;
    c->cfg = *cfg;
    c->cfg.server_url = apr_pstrdup(p, cfg->server_url);
    c->cfg.ca_file = cfg->ca_file ? apr_pstrdup(p, cfg->ca_file) : NULL;
    c->cfg.cert_file = cfg->cert_file ? apr_pstrdup(p, cfg->cert_file) : NULL;
    c->cfg.key_file = cfg->key_file ? apr_pstrdup(p, cfg->key_file) : NULL;
    c->cfg.user_agent = apr_pstrdup(p, cfg->user_agent ? cfg->user_agent : "mod_auth_k8ssa");
    if (cfg->token_file != NULL) {
        rv = k8ssa_credential_open(p, cfg->token_file, cfg->token_check_interval,
                                   &c->cred, why);
        if (rv != APR_SUCCESS)
            return rv;
    }
    rv = apr_thread_mutex_create(&c->lock, APR_THREAD_MUTEX_DEFAULT, p);
    for (i = 0; rv == APR_SUCCESS && i < CURL_LOCK_DATA_LAST; i++)
        rv = apr_thread_mutex_create(&c->share_lock[i], APR_THREAD_MUTEX_DEFAULT, p);
    if (rv != APR_SUCCESS) {
        *why = "cannot create a mutex";
        return rv;
    }
    c->share = curl_share_init();
    if (c->share != NULL) {
        curl_share_setopt(c->share, CURLSHOPT_LOCKFUNC, share_lock);
        curl_share_setopt(c->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
        curl_share_setopt(c->share, CURLSHOPT_USERDATA, c);
        curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
        curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    }
    apr_pool_cleanup_register(p, c, client_cleanup, apr_pool_cleanup_null);
    *out = c;
    return APR_SUCCESS;
}

static size_t collect_body(char *data, size_t size, size_t nmemb, void *ud)
{
    size_t n = size * nmemb;

    /* 0 aborts the transfer with CURLE_WRITE_ERROR */
    return k8ssa_answer_append(ud, data, n) ? n : 0;
}

/* libcurl resends a request by itself, on a new connection, when a reused
 * connection turns out dead before any answer. Such a resend is the one
 * retry the contract allows, so every request sent is counted: libcurl calls
 * the pre-request callback each time it is about to send one, on a new or a
 * reused connection (after any proxy CONNECT). A debug callback would see
 * the same, but only with CURLOPT_VERBOSE, whose formatting of every step
 * cost more than the rest of a review. */
static int count_requests(void *ud, char *remote_ip, char *local_ip, int remote_port,
                          int local_port)
{
    (void)remote_ip;
    (void)local_ip;
    (void)remote_port;
    (void)local_port;
    ++*(unsigned *)ud;
    return CURL_PREREQFUNC_OK;
}

/* Options that never change for a handle of this client. */
static CURL *new_handle(struct k8ssa_apiclient *c)
{
    CURL *h = curl_easy_init();

    if (h == NULL)
        return NULL;
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
#else
    curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTPS);
#endif
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    if (c->cfg.ca_file != NULL) {
        /* Only this CA: libcurl would also trust its built-in CA directory. */
        curl_easy_setopt(h, CURLOPT_CAINFO, c->cfg.ca_file);
        curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
    }
    if (c->cfg.cert_file != NULL) {
        curl_easy_setopt(h, CURLOPT_SSLCERT, c->cfg.cert_file);
        curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
        curl_easy_setopt(h, CURLOPT_SSLKEY, c->cfg.key_file);
        curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
    }
    curl_easy_setopt(h, CURLOPT_USERAGENT, c->cfg.user_agent);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    /* One connection per handle: a resend then always opens a new one. */
    curl_easy_setopt(h, CURLOPT_MAXCONNECTS, 1L);
    curl_easy_setopt(h, CURLOPT_PREREQFUNCTION, count_requests);
    if (c->share != NULL)
        curl_easy_setopt(h, CURLOPT_SHARE, c->share);
    return h;
}

static CURL *checkout(struct k8ssa_apiclient *c)
{
    CURL *h = NULL;

    apr_thread_mutex_lock(c->lock);
    if (c->nidle > 0)
        h = c->idle[--c->nidle];
    apr_thread_mutex_unlock(c->lock);
    return h ? h : new_handle(c);
}

static void checkin(struct k8ssa_apiclient *c, CURL *h, long new_connections)
{
    k8ssa_count_add(&k8ssa_slot->api_connections, (apr_uint64_t)new_connections);
    apr_thread_mutex_lock(c->lock);
    c->connections += (unsigned long)new_connections;
    if (c->nidle < MAX_IDLE_HANDLES) {
        c->idle[c->nidle++] = h;
        h = NULL;
    }
    apr_thread_mutex_unlock(c->lock);
    if (h != NULL)
        curl_easy_cleanup(h);
}

/* Errors where the connection died under a request: worth one fresh try. */
static int is_reset(CURLcode rc)
{
    return rc == CURLE_SEND_ERROR || rc == CURLE_RECV_ERROR || rc == CURLE_GOT_NOTHING
        || rc == CURLE_PARTIAL_FILE || rc == CURLE_HTTP2 || rc == CURLE_HTTP2_STREAM;
}

typedef struct {
    CURLcode rc;
    long code;
    long connects;
    unsigned sent;          /* requests put on the wire, libcurl's resend included */
    int too_large;
    char errbuf[CURL_ERROR_SIZE];
} attempt_result;

static void attempt(struct k8ssa_apiclient *c, CURL *h, const char *url, const char *json,
                    const char *token, int fresh, apr_interval_time_t left,
                    k8ssa_answer *body, attempt_result *ar)
{
    struct curl_slist *hdrs = NULL;
    char *auth = NULL;
    long ms = (long)apr_time_as_msec(left);

    if (ms < 1)
        ms = 1;
    memset(ar, 0, sizeof(*ar));
    k8ssa_answer_restart(body);
    if (json != NULL)
        hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    hdrs = curl_slist_append(hdrs, "Accept: application/json");
    hdrs = curl_slist_append(hdrs, "Expect:");
    if (token != NULL) {
        /* curl_slist_append copies it; the copy is wiped below. Not a
         * memset before free(): the compiler may drop that dead store. */
        size_t n = strlen(token) + sizeof("Authorization: Bearer ");
        auth = malloc(n);
        if (auth != NULL) {
            memcpy(auth, "Authorization: Bearer ", sizeof("Authorization: Bearer ") - 1);
            memcpy(auth + sizeof("Authorization: Bearer ") - 1, token, strlen(token) + 1);
            hdrs = curl_slist_append(hdrs, auth);
            OPENSSL_cleanse(auth, n);
            free(auth);
        }
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    if (json != NULL) {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, json);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(json));
    } else {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    }
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ar->errbuf);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, ms);
    curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, fresh ? 1L : 0L);
    curl_easy_setopt(h, CURLOPT_PREREQDATA, &ar->sent);

    ar->rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &ar->code);
    curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &ar->connects);
    ar->too_large = body->too_large;

    /* The slist holds the module token: detach it before freeing. */
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, NULL);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
    curl_easy_setopt(h, CURLOPT_PREREQDATA, NULL);
    for (struct curl_slist *s = hdrs; s != NULL; s = s->next)
        memset(s->data, 0, strlen(s->data));
    curl_slist_free_all(hdrs);

    apr_thread_mutex_lock(c->lock);
    c->requests += ar->sent;
    apr_thread_mutex_unlock(c->lock);
}

/* The module's token copy is wiped as soon as it was sent: pools are reused
 * without being cleared. */
static void wipe(const char *token)
{
    if (token != NULL)
        memset((char *)token, 0, strlen(token));
}

/* One exchange: a POST of json, or a GET when json is NULL. */
static void exchange(k8ssa_apiclient *c, apr_pool_t *p, const char *path, const char *json,
                     k8ssa_api_response *out)
{
    const char *url = apr_pstrcat(p, c->cfg.server_url, path, NULL);
    apr_time_t deadline = apr_time_now() + c->cfg.timeout;
    k8ssa_answer body;
    attempt_result ar;
    int retried = 0, reauthed = 0, fresh = 0;
    long connects = 0;
    CURL *h;

    memset(out, 0, sizeof(*out));
    k8ssa_answer_init(&body, p, K8SSA_API_MAX_BODY);
    h = checkout(c);
    if (h == NULL) {
        out->status = K8SSA_API_UNAVAILABLE;
        out->error = "cannot create a curl handle";
        return;
    }
    for (;;) {
        apr_interval_time_t left = deadline - apr_time_now();
        const char *token = c->cred ? k8ssa_credential_token(c->cred, p) : NULL;
        int transient;

        attempt(c, h, url, json, token, fresh, left, &body, &ar);
        out->attempts += ar.sent ? ar.sent : 1;  /* a failed connect sends none */
        {
            /* libcurl's own resend: the requests before the last got no answer */
            unsigned k, n = ar.sent ? ar.sent : 1;
            for (k = 0; k < n && out->ncodes < K8SSA_API_MAX_CODES; k++)
                out->codes[out->ncodes++] = (k + 1 == n && ar.rc == CURLE_OK) ? ar.code : 0;
        }
        connects += ar.connects;
        out->http_code = ar.rc == CURLE_OK ? ar.code : 0;
        transient = (ar.rc == CURLE_OK && (ar.code == 429 || ar.code >= 500))
                    || (ar.rc != CURLE_OK && is_reset(ar.rc) && !ar.too_large);
        if (ar.sent > 1)
            retried = 1;  /* libcurl already resent it on a new connection */
        if (transient && !retried && deadline - apr_time_now() > 0) {
            retried = 1;
            fresh = 1;
            wipe(token);
            continue;
        }
        /* A rotated token file: the API server refused the old token. */
        if (ar.rc == CURLE_OK && ar.code == 401 && c->cred && !reauthed
            && k8ssa_credential_reload(c->cred, token) && deadline - apr_time_now() > 0) {
            reauthed = 1;
            wipe(token);
            continue;
        }
        wipe(token);
        break;
    }
    checkin(c, h, connects);

    if (ar.rc != CURLE_OK) {
        out->status = K8SSA_API_UNAVAILABLE;
        if (ar.too_large)
            out->error = "answer larger than 1 MiB";
        else
            out->error = apr_psprintf(p, "%s%s%s", curl_easy_strerror(ar.rc),
                                      ar.errbuf[0] ? ": " : "", ar.errbuf);
    } else if (ar.code >= 200 && ar.code < 300) {
        out->status = K8SSA_API_OK;
        out->body = body.buf ? body.buf : "";
        out->body_len = body.len;
    } else if (ar.code == 401 || ar.code == 403) {
        out->status = K8SSA_API_CREDENTIALS;
        out->error = apr_psprintf(p, "HTTP %ld", ar.code);
    } else if (ar.code == 429 || ar.code >= 500) {
        out->status = K8SSA_API_UNAVAILABLE;
        out->error = apr_psprintf(p, "HTTP %ld", ar.code);
    } else {
        out->status = K8SSA_API_UNEXPECTED;
        out->error = apr_psprintf(p, "unexpected HTTP %ld", ar.code);
    }
    /* The API server echoes spec.token: the answer holds the client's
     * token. A body handed out is the caller's to wipe. */
    k8ssa_answer_finish(&body, out->status == K8SSA_API_OK);
}

void k8ssa_apiclient_post(k8ssa_apiclient *c, apr_pool_t *p, const char *path,
                          const char *json, k8ssa_api_response *out)
{
    exchange(c, p, path, json, out);
}

void k8ssa_apiclient_get(k8ssa_apiclient *c, apr_pool_t *p, const char *path,
                         k8ssa_api_response *out)
{
    exchange(c, p, path, NULL, out);
}

void k8ssa_apiclient_stats(k8ssa_apiclient *c, k8ssa_api_stats *out)
{
    apr_thread_mutex_lock(c->lock);
    out->requests = c->requests;
    out->connections = c->connections;
    apr_thread_mutex_unlock(c->lock);
    out->credential_reloads = c->cred ? k8ssa_credential_reloads(c->cred) : 0;
}
