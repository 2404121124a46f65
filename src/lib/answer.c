/* answer.c - the API server's answer, collected in a pool (see answer.h). */
#include "answer.h"

#include <openssl/crypto.h>
#include <string.h>

/* The first block: a TokenReview answer with its echoed token fits. */
#define FIRST_BLOCK 4096

/* Above it, doubling the block could wrap: no answer comes near. */
#define MAX_ANSWER ((size_t)-1 / 4)

void k8ssa_answer_init(k8ssa_answer *a, apr_pool_t *p, size_t max)
{
    memset(a, 0, sizeof(*a));
    a->pool = p;
    a->max = max < MAX_ANSWER ? max : MAX_ANSWER;
}

void k8ssa_answer_restart(k8ssa_answer *a)
{
    a->len = 0;
    a->too_large = 0;
    if (a->buf != NULL)
        a->buf[0] = '\0';
}

int k8ssa_answer_append(k8ssa_answer *a, const char *data, size_t n)
{
    if (n > a->max - a->len) {   /* len <= max always: no overflow */
        a->too_large = 1;
        return 0;
    }
    if (a->len + n + 1 > a->cap) {
        size_t cap = a->cap ? a->cap * 2 : FIRST_BLOCK;
        char *nb;

        while (cap < a->len + n + 1)
            cap *= 2;
        nb = apr_palloc(a->pool, cap);
        if (a->buf != NULL) {
            memcpy(nb, a->buf, a->len);
            /* the old block stays in the pool: wiped, as it may hold the
             * echoed token */
            OPENSSL_cleanse(a->buf, a->high);
        }
        a->buf = nb;
        a->cap = cap;
        a->high = a->len;
    }
    if (n > 0)                   /* data may be NULL then */
        memcpy(a->buf + a->len, data, n);
    a->len += n;
    a->buf[a->len] = '\0';
    if (a->len + 1 > a->high)
        a->high = a->len + 1;
    return 1;
}

void k8ssa_answer_finish(k8ssa_answer *a, int keep)
{
    if (a->buf == NULL)
        return;
    if (keep)
        OPENSSL_cleanse(a->buf + a->len + 1, a->high - (a->len + 1));
    else
        OPENSSL_cleanse(a->buf, a->high);
}
