/*
 * credential.c - the module's bearer token file, re-read on change.
 *
 * The token lives in malloc'd memory rather than a pool: a child may reload it
 * many times over its life and a long-lived pool would only grow.
 */
#include "credential.h"
#include "counters.h"
#include "bearer.h"

#include <apr_file_io.h>
#include <apr_file_info.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

struct k8ssa_credential {
    const char *path;
    apr_interval_time_t interval;
    apr_thread_mutex_t *lock;
    char *token;              /* malloc'd, NUL-terminated */
    apr_time_t mtime;
    apr_off_t size;
    apr_ino_t inode;
    apr_time_t next_check;
    unsigned long reloads;
};

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static apr_status_t wipe_read_buffer(void *buf)
{
    memset(buf, 0, K8SSA_CREDENTIAL_MAX_BYTES + 1);
    return APR_SUCCESS;
}

static apr_status_t wipe_token_copy(void *token)
{
    memset(token, 0, strlen(token));
    return APR_SUCCESS;
}

apr_status_t k8ssa_credential_read_file(apr_pool_t *p, const char *path,
                                        const char **token, const char **why)
{
    apr_file_t *f;
    apr_status_t rv;
    char *buf = apr_palloc(p, K8SSA_CREDENTIAL_MAX_BYTES + 1);
    apr_size_t len = 0, start = 0;

    rv = apr_file_open(&f, path, APR_FOPEN_READ, APR_FPROT_OS_DEFAULT, p);
    if (rv != APR_SUCCESS) {
        *why = "cannot open the file";
        return rv;
    }
    /* One byte more than allowed tells an over-long file from a full one. */
    rv = apr_file_read_full(f, buf, K8SSA_CREDENTIAL_MAX_BYTES + 1, &len);
    apr_file_close(f);
    /* Only the trimmed copy is kept: wipe the raw read when leaving. */
    apr_pool_cleanup_register(p, buf, wipe_read_buffer, apr_pool_cleanup_null);
    if (rv != APR_SUCCESS && rv != APR_EOF) {
        *why = "cannot read the file";
        return rv;
    }
    if (len > K8SSA_CREDENTIAL_MAX_BYTES) {
        *why = "the file is larger than 64 KiB";
        return APR_EINVAL;
    }
    while (len > 0 && is_space(buf[len - 1]))
        len--;
    while (start < len && is_space(buf[start]))
        start++;
    if (start == len) {
        *why = "the file holds no token";
        return APR_EINVAL;
    }
    /* It is sent as "Authorization: Bearer <token>" and must be a b64token. */
    if (!k8ssa_is_b64token(buf + start, len - start)) {
        *why = "the file does not hold a bearer token (RFC 6750 b64token)";
        return APR_EINVAL;
    }
    *token = apr_pstrmemdup(p, buf + start, len - start);
    /* whatever the caller does with it, it goes with p wiped */
    apr_pool_cleanup_register(p, *token, wipe_token_copy, apr_pool_cleanup_null);
    return APR_SUCCESS;
}

/* Loads the file when it differs from what was loaded last; lock held. */
static int refresh_locked(k8ssa_credential *c, int force)
{
    apr_pool_t *tmp;
    apr_finfo_t fi;
    const char *token = NULL, *why = NULL;
    int changed = 0;

    if (apr_pool_create(&tmp, NULL) != APR_SUCCESS)
        return 0;
    if (apr_stat(&fi, c->path, APR_FINFO_MTIME | APR_FINFO_SIZE | APR_FINFO_INODE, tmp)
            == APR_SUCCESS
        && (force || fi.mtime != c->mtime || fi.size != c->size || fi.inode != c->inode)
        && k8ssa_credential_read_file(tmp, c->path, &token, &why) == APR_SUCCESS) {
        c->mtime = fi.mtime;
        c->size = fi.size;
        c->inode = fi.inode;
        if (c->token == NULL || strcmp(c->token, token) != 0) {
            char *copy = strdup(token);
            int first = c->token == NULL;   /* create()'s read is no reload */
            if (copy != NULL) {
                if (c->token != NULL) {
                    OPENSSL_cleanse(c->token, strlen(c->token));  /* kept before free() */
                    free(c->token);
                }
                c->token = copy;
                if (!first)
                    k8ssa_count(&k8ssa_slot->credential_reloads);
                c->reloads++;
                changed = 1;
            }
        }
    }
    /* A file caught half-written or missing keeps the last good token. */
    if (token != NULL)
        memset((char *)token, 0, strlen(token));
    apr_pool_destroy(tmp);
    return changed;
}

static apr_status_t credential_cleanup(void *data)
{
    k8ssa_credential *c = data;

    if (c->token != NULL) {
        OPENSSL_cleanse(c->token, strlen(c->token));  /* kept before free() */
        free(c->token);
        c->token = NULL;
    }
    return APR_SUCCESS;
}

apr_status_t k8ssa_credential_open(apr_pool_t *p, const char *path,
                                   apr_interval_time_t check_interval,
                                   k8ssa_credential **out, const char **why)
{
    k8ssa_credential *c = apr_pcalloc(p, sizeof(*c));
    const char *token;
    apr_pool_t *check;
    apr_status_t rv;

    /* The first read only checks the file (refresh_locked() keeps the
     * token): in a pool of its own, gone and wiped at once, as p lives as
     * long as the configuration and would hold a rotated-out token. */
    rv = apr_pool_create(&check, p);
    if (rv != APR_SUCCESS) {
        *why = "cannot create a pool";
        return rv;
    }
    rv = k8ssa_credential_read_file(check, path, &token, why);
    apr_pool_destroy(check);
    if (rv != APR_SUCCESS)
        return rv;
    rv = apr_thread_mutex_create(&c->lock, APR_THREAD_MUTEX_DEFAULT, p);
    if (rv != APR_SUCCESS) {
        *why = "cannot create a mutex";
        return rv;
    }
    c->path = apr_pstrdup(p, path);
    c->interval = check_interval;
    apr_pool_cleanup_register(p, c, credential_cleanup, apr_pool_cleanup_null);
    refresh_locked(c, 1);
    if (c->token == NULL) {
        *why = "the file changed while it was read";
        return APR_EAGAIN;
    }
    c->reloads = 0;
    c->next_check = apr_time_now() + c->interval;
    *out = c;
    return APR_SUCCESS;
}

const char *k8ssa_credential_token(k8ssa_credential *c, apr_pool_t *p)
{
    apr_time_t now = apr_time_now();
    const char *copy;

    apr_thread_mutex_lock(c->lock);
    if (now >= c->next_check) {
        refresh_locked(c, 0);
        c->next_check = now + c->interval;
    }
    copy = apr_pstrdup(p, c->token);
    apr_thread_mutex_unlock(c->lock);
    return copy;
}

int k8ssa_credential_reload(k8ssa_credential *c, const char *refused)
{
    int differs;

    apr_thread_mutex_lock(c->lock);
    refresh_locked(c, 1);
    c->next_check = apr_time_now() + c->interval;
    differs = refused == NULL || strcmp(c->token, refused) != 0;
    apr_thread_mutex_unlock(c->lock);
    return differs;
}

unsigned long k8ssa_credential_reloads(const k8ssa_credential *c)
{
    return c->reloads;
}
