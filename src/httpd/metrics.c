/*
 * metrics.c - the counters' shared memory and the k8ssa-metrics handler.
 *
 * One slot per child process (counters.h) in an anonymous shared memory
 * segment made once, in httpd's process pool, and found again after a
 * graceful restart through httpd's retained data: a restart is not a reset.
 * A child takes a free slot, or one whose process is gone (its counts stay
 * and go on growing), at child_init.
 */
#include "module.h"
#include "conf.h"

#include "ap_mpm.h"
#include "http_protocol.h"
#include "apr_shm.h"
#include "apr_strings.h"

#include "counters.h"
#include "metrics.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

/* The layout is part of the key: a newer module loaded into the same
 * parent by a graceful restart, with other counters, makes a segment of
 * its own (the old one is freed when httpd stops) instead of reading past
 * the old one's end. */
#define RETAINED_PREFIX "auth_k8ssa-metrics/" K8SSA_VERSION "/"

typedef struct {
    volatile apr_uint32_t owner;    /* pid of the child using it; 0: never used */
    k8ssa_counters counters;
} metrics_slot;

typedef struct {
    apr_shm_t *shm;
    metrics_slot *slots;
    unsigned nslots;
} retained_metrics;

static retained_metrics *metrics;

int k8ssa_metrics_post_config(apr_pool_t *pconf, server_rec *s)
{
    const char *key = apr_psprintf(pconf, RETAINED_PREFIX "%lu/%lu",
                                   (unsigned long)sizeof(metrics_slot),
                                   (unsigned long)sizeof(retained_metrics));
    retained_metrics *rm = ap_retained_data_get(key);
    int limit = 0;
    apr_status_t rv;

    if (rm == NULL) {
        /* the key's copy lives as long as the retained data */
        rm = ap_retained_data_create(apr_pstrdup(s->process->pool, key), sizeof(*rm));
        memset(rm, 0, sizeof(*rm));
    }
    if (rm->shm == NULL) {
        /* As many children as the MPM may ever run (ServerLimit cannot grow
         * on a graceful restart), plus one for good measure. */
        if (ap_mpm_query(AP_MPMQ_HARD_LIMIT_DAEMONS, &limit) != APR_SUCCESS || limit < 1)
            limit = 16;
        rv = apr_shm_create(&rm->shm, sizeof(metrics_slot) * (apr_size_t)(limit + 1), NULL,
                            s->process->pool);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, K8LOG(060)
                         "cannot create the shared memory of the metrics: each child counts "
                         "for itself, and k8ssa-metrics shows none");
            rm->shm = NULL;
            metrics = NULL;
            return OK;
        }
        rm->slots = apr_shm_baseaddr_get(rm->shm);
        memset(rm->slots, 0, apr_shm_size_get(rm->shm));
        rm->nslots = (unsigned)limit + 1;
    }
    metrics = rm;
    return OK;
}

/* ESRCH: no such process; EPERM: the pid now belongs to a process of
 * another user, so not to a child of ours. */
static int process_gone(apr_uint32_t pid)
{
    return kill((pid_t)pid, 0) == -1 && (errno == ESRCH || errno == EPERM);
}

void k8ssa_metrics_child_init(void)
{
    apr_uint32_t me = (apr_uint32_t)getpid();
    unsigned i;
    int pass;

    if (metrics == NULL)
        return;
    /* First a slot never used, then one of a child that is gone. */
    for (pass = 0; pass < 2; pass++)
        for (i = 0; i < metrics->nslots; i++) {
            metrics_slot *sl = &metrics->slots[i];
            apr_uint32_t owner = apr_atomic_read32(&sl->owner);
            /* a dead child's pid may come back as ours */
            if ((pass == 0 && owner != 0)
                || (pass == 1 && (owner == 0 || (owner != me && !process_gone(owner)))))
                continue;
            if (apr_atomic_cas32(&sl->owner, me, owner) == owner) {
                k8ssa_slot = &sl->counters;
                return;
            }
        }
    /* All taken by live children (a graceful restart under event or worker
     * can briefly run more than ServerLimit): share the last one; the adds
     * are atomic. */
    k8ssa_slot = &metrics->slots[metrics->nslots - 1].counters;
}

int k8ssa_metrics_handler(request_rec *r)
{
    k8ssa_counters **all;
    unsigned i;
    const char *text;

    if (r->handler == NULL || strcmp(r->handler, K8SSA_METRICS_HANDLER) != 0)
        return DECLINED;
    r->allowed |= (AP_METHOD_BIT << M_GET);
    if (r->method_number != M_GET)
        return HTTP_METHOD_NOT_ALLOWED;
    if (metrics == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, K8LOG(061)
                      "SetHandler " K8SSA_METRICS_HANDLER ": no shared memory for the "
                      "metrics (see the startup log)");
        return HTTP_SERVICE_UNAVAILABLE;
    }
    /* Read in place (atomic reads), not copied: a copy would tear. */
    all = apr_palloc(r->pool, sizeof(*all) * metrics->nslots);
    for (i = 0; i < metrics->nslots; i++)
        all[i] = &metrics->slots[i].counters;
    text = k8ssa_metrics_text(r->pool, all, metrics->nslots);
    ap_set_content_type(r, K8SSA_METRICS_CONTENT_TYPE);
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    ap_set_content_length(r, (apr_off_t)strlen(text));
    if (!r->header_only)
        ap_rputs(text, r);
    return OK;
}
