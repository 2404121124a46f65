/*
 * answer.h - the API server's answer to one exchange, collected as libcurl
 * hands it over, in the caller's pool. A TokenReview answer echoes
 * spec.token, the client's raw token, and pools are reused without being
 * cleared: every byte this buffer writes is wiped by
 * k8ssa_answer_finish(), except the body it hands out, which the caller
 * wipes (its len bytes). No allocation but from the pool, no copy once the
 * answer is complete. Plain C, unit-tested without libcurl.
 */
#ifndef K8SSA_ANSWER_H
#define K8SSA_ANSWER_H

#include <apr_pools.h>
#include <stddef.h>

typedef struct {
    apr_pool_t *pool;
    size_t max;             /* bytes accepted at most (a quarter of SIZE_MAX at most) */
    char *buf;              /* NULL until the first byte; NUL-terminated */
    size_t len, cap;
    size_t high;            /* bytes written to buf by any attempt, its NUL included */
    int too_large;
} k8ssa_answer;

void k8ssa_answer_init(k8ssa_answer *a, apr_pool_t *p, size_t max);

/* A new attempt (a retry): the answer starts empty again; the bytes an
 * earlier attempt wrote are still wiped by k8ssa_answer_finish(). */
void k8ssa_answer_restart(k8ssa_answer *a);

/* Appends data[0..n); 0 once the answer would pass max (nothing of data is
 * written, too_large is set), else 1. */
int k8ssa_answer_append(k8ssa_answer *a, const char *data, size_t n);

/*
 * The end of the exchange. keep: the answer (buf, len) goes to the caller,
 * who wipes its len bytes; what lies past it (an earlier attempt's longer
 * answer) is wiped here. !keep: every byte written is wiped.
 */
void k8ssa_answer_finish(k8ssa_answer *a, int keep);

#endif
