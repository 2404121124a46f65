/*
 * test_answer.c - unit tests of src/lib/answer.c: the API server's answer
 * collected in a pool. Every block the buffer ever used is searched for the
 * secret an answer carried (the echoed token) after k8ssa_answer_finish():
 * only the body handed out may still hold it, and only when kept.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE   /* memmem */
#endif
#include "unit.h"

#include <string.h>

#include <apr_strings.h>

#include "answer.h"

#define MAX_BLOCKS 16

/* The blocks a buffer wrote to, with their sizes. */
typedef struct {
    const char *at[MAX_BLOCKS];
    size_t cap[MAX_BLOCKS];
    int n;
} blocks;

static void note_block(blocks *b, const k8ssa_answer *a)
{
    if (a->buf == NULL || (b->n > 0 && b->at[b->n - 1] == a->buf))
        return;
    assert_true(b->n < MAX_BLOCKS);
    b->at[b->n] = a->buf;
    b->cap[b->n] = a->cap;
    b->n++;
}

static int append(k8ssa_answer *a, blocks *b, const char *s, size_t n)
{
    int ok = k8ssa_answer_append(a, s, n);
    note_block(b, a);
    return ok;
}

/* Copies of secret in every block the buffer used, the kept body excepted
 * (skip: its bytes). */
static unsigned copies(const blocks *b, const char *secret, const char *skip, size_t skip_len)
{
    unsigned found = 0;
    size_t n = strlen(secret);
    int i;

    for (i = 0; i < b->n; i++) {
        const char *p = b->at[i], *end = b->at[i] + b->cap[i];
        while ((p = memmem(p, (size_t)(end - p), secret, n)) != NULL) {
            if (!(skip != NULL && p >= skip && p + n <= skip + skip_len))
                found++;
            p++;
        }
    }
    return found;
}

/* An answer of len bytes with secret at its start and its end. */
static char *answer_with(apr_pool_t *p, const char *secret, size_t len)
{
    char *s = apr_palloc(p, len + 1);
    size_t n = strlen(secret);

    assert_true(len >= 2 * n);
    memset(s, 'x', len);
    memcpy(s, secret, n);
    memcpy(s + len - n, secret, n);
    s[len] = '\0';
    return s;
}

static void test_collects_in_pieces(void **state)
{
    apr_pool_t *p = *state;
    k8ssa_answer a;
    blocks b = { { 0 }, { 0 }, 0 };

    k8ssa_answer_init(&a, p, 1 << 20);
    assert_null(a.buf);
    assert_int_equal(append(&a, &b, "{\"kind\":", 8), 1);
    assert_int_equal(append(&a, &b, "", 0), 1);
    assert_int_equal(append(&a, &b, "\"TokenReview\"}", 14), 1);
    assert_int_equal(a.len, 22);
    assert_string_equal(a.buf, "{\"kind\":\"TokenReview\"}");
    k8ssa_answer_finish(&a, 1);
    assert_string_equal(a.buf, "{\"kind\":\"TokenReview\"}");
    assert_int_equal(a.too_large, 0);
}

static void test_never_appended(void **state)
{
    k8ssa_answer a;

    k8ssa_answer_init(&a, *state, 100);
    k8ssa_answer_finish(&a, 1);
    k8ssa_answer_finish(&a, 0);
    assert_null(a.buf);
    assert_int_equal(a.len, 0);
}

/* Growth leaves the earlier blocks in the pool: each is wiped. */
static void test_growth_wipes_old_blocks(void **state)
{
    apr_pool_t *p = *state;
    static const char secret[] = "SeCrEt-growth-71a";
    size_t sizes[] = { 100, 4095, 4096, 4097, 9000, 70000 };
    size_t i, off;

    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        const char *s = answer_with(p, secret, sizes[i]);
        k8ssa_answer a;
        blocks b = { { 0 }, { 0 }, 0 };

        k8ssa_answer_init(&a, p, 1 << 20);
        for (off = 0; off < sizes[i]; off += 1000)   /* libcurl's pieces */
            assert_int_equal(append(&a, &b, s + off, sizes[i] - off < 1000 ? sizes[i] - off
                                                                           : 1000), 1);
        assert_int_equal(a.len, sizes[i]);
        assert_memory_equal(a.buf, s, sizes[i]);
        assert_int_equal(a.buf[a.len], '\0');
        if (sizes[i] >= 4096)
            assert_true(b.n >= 2);
        k8ssa_answer_finish(&a, 1);
        /* the kept body holds it twice; no other block holds it at all */
        assert_int_equal(copies(&b, secret, a.buf, a.len), 0);
        assert_memory_equal(a.buf, s, sizes[i]);
        /* the caller's wipe, as review.c does it */
        memset(a.buf, 0, a.len);
        assert_int_equal(copies(&b, secret, NULL, 0), 0);
    }
}

/* A retry's shorter answer: the first one's tail is past the body handed
 * out, so finish() wipes it. */
static void test_retry_shorter_answer(void **state)
{
    apr_pool_t *p = *state;
    static const char secret[] = "SeCrEt-retry-9c2";
    size_t first_sizes[] = { 60, 3000, 12000 };
    size_t i;

    int keep;

    /* kept (a 201 after a 503) and not (a 500 after a cut connection) */
    for (keep = 0; keep <= 1; keep++)
        for (i = 0; i < sizeof(first_sizes) / sizeof(first_sizes[0]); i++) {
            const char *first = answer_with(p, secret, first_sizes[i]);
            k8ssa_answer a;
            blocks b = { { 0 }, { 0 }, 0 };

            k8ssa_answer_init(&a, p, 1 << 20);
            assert_int_equal(append(&a, &b, first, first_sizes[i]), 1);
            k8ssa_answer_restart(&a);
            assert_int_equal(a.len, 0);
            assert_string_equal(a.buf, "");
            assert_int_equal(append(&a, &b, "{}", 2), 1);
            k8ssa_answer_finish(&a, keep);
            if (keep)
                assert_string_equal(a.buf, "{}");
            assert_int_equal(copies(&b, secret, NULL, 0), 0);
        }
}

/* A retry's longer answer grows the buffer: the block it leaves holds the
 * first attempt's bytes past the second's (high > len), wiped in full. */
static void test_retry_longer_answer_grows(void **state)
{
    apr_pool_t *p = *state;
    static const char secret[] = "SeCrEt-regrow-6f3";
    const char *first = answer_with(p, secret, 4000);
    char *second = apr_palloc(p, 6000);
    k8ssa_answer a;
    blocks b = { { 0 }, { 0 }, 0 };
    const char *old;
    size_t old_high, i;
    int keep;

    memset(second, 'y', 6000);
    for (keep = 0; keep <= 1; keep++) {
        b.n = 0;
        k8ssa_answer_init(&a, p, 1 << 20);
        assert_int_equal(append(&a, &b, first, 4000), 1);   /* a 503's body */
        old = a.buf;
        old_high = a.high;
        k8ssa_answer_restart(&a);
        assert_int_equal(append(&a, &b, second, 100), 1);
        assert_int_equal(append(&a, &b, second, 5900), 1);  /* grows */
        assert_true(a.buf != old);
        for (i = 0; i < old_high; i++)
            assert_int_equal(old[i], 0);
        k8ssa_answer_finish(&a, keep);
        assert_int_equal(copies(&b, secret, NULL, 0), 0);
    }
}

/* Past a kept body, every byte written is zero, not only the secret gone. */
static void test_kept_tail_zeroed(void **state)
{
    apr_pool_t *p = *state;
    char *first = apr_palloc(p, 3000);
    k8ssa_answer a;
    blocks b = { { 0 }, { 0 }, 0 };
    size_t i;

    memset(first, 'z', 3000);
    k8ssa_answer_init(&a, p, 1 << 20);
    assert_int_equal(append(&a, &b, first, 3000), 1);
    k8ssa_answer_restart(&a);
    assert_int_equal(append(&a, &b, "{\"ok\":1}", 8), 1);
    k8ssa_answer_finish(&a, 1);
    assert_string_equal(a.buf, "{\"ok\":1}");
    assert_true(a.high >= 3001);
    for (i = a.len; i < a.high; i++)
        assert_int_equal(a.buf[i], 0);
}

/* A retry that got an empty answer hands out "", not the first one. */
static void test_retry_empty_answer(void **state)
{
    apr_pool_t *p = *state;
    static const char secret[] = "SeCrEt-empty-5d0";
    const char *first = answer_with(p, secret, 200);
    k8ssa_answer a;
    blocks b = { { 0 }, { 0 }, 0 };

    k8ssa_answer_init(&a, p, 1 << 20);
    assert_int_equal(append(&a, &b, first, 200), 1);
    k8ssa_answer_restart(&a);
    k8ssa_answer_finish(&a, 1);
    assert_int_equal(a.len, 0);
    assert_string_equal(a.buf, "");
    assert_int_equal(copies(&b, secret, NULL, 0), 0);
}

/* An answer not handed out (an error status, a cut connection, too large):
 * every byte written is wiped. */
static void test_not_kept_all_wiped(void **state)
{
    apr_pool_t *p = *state;
    static const char secret[] = "SeCrEt-dropped-3e8";
    size_t sizes[] = { 40, 4095, 5000, 20000 };
    size_t i;

    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        const char *s = answer_with(p, secret, sizes[i]);
        k8ssa_answer a;
        blocks b = { { 0 }, { 0 }, 0 };
        size_t j;

        k8ssa_answer_init(&a, p, 1 << 20);
        assert_int_equal(append(&a, &b, s, sizes[i] / 2), 1);
        assert_int_equal(append(&a, &b, s + sizes[i] / 2, sizes[i] - sizes[i] / 2), 1);
        k8ssa_answer_finish(&a, 0);
        assert_int_equal(copies(&b, secret, NULL, 0), 0);
        for (j = 0; j < a.high; j++)
            assert_int_equal(a.buf[j], 0);
    }
}

static void test_too_large(void **state)
{
    apr_pool_t *p = *state;
    static const char secret[] = "SeCrEt-large-0b4";
    char *s = answer_with(p, secret, 100);
    k8ssa_answer a;
    blocks b = { { 0 }, { 0 }, 0 };

    /* exactly max is taken, one byte more is not */
    k8ssa_answer_init(&a, p, 100);
    assert_int_equal(append(&a, &b, s, 100), 1);
    assert_int_equal(a.too_large, 0);
    assert_int_equal(append(&a, &b, "y", 1), 0);
    assert_int_equal(a.too_large, 1);
    assert_int_equal(a.len, 100);
    k8ssa_answer_finish(&a, 0);
    assert_int_equal(copies(&b, secret, NULL, 0), 0);

    /* a piece that would pass max writes nothing of itself */
    k8ssa_answer_init(&a, p, 100);
    b.n = 0;
    assert_int_equal(append(&a, &b, "{\"a\":", 5), 1);
    assert_int_equal(append(&a, &b, s, 96), 0);
    assert_int_equal(a.len, 5);
    assert_int_equal(copies(&b, secret, NULL, 0), 0);
    /* a huge n cannot wrap the bound, nor a huge max the doubling */
    assert_int_equal(k8ssa_answer_append(&a, s, (size_t)-1), 0);
    assert_int_equal(a.len, 5);
    {
        k8ssa_answer big;
        k8ssa_answer_init(&big, p, (size_t)-1);
        assert_true(big.max <= (size_t)-1 / 4);
        assert_int_equal(k8ssa_answer_append(&big, s, (size_t)-1 / 2), 0);
        assert_int_equal(k8ssa_answer_append(&big, NULL, 0), 1);
        assert_string_equal(big.buf, "");
    }
    /* a retry starts below the bound again */
    k8ssa_answer_restart(&a);
    assert_int_equal(a.too_large, 0);
    assert_int_equal(append(&a, &b, s, 100), 1);
    k8ssa_answer_finish(&a, 0);
    assert_int_equal(copies(&b, secret, NULL, 0), 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, pool_setup, pool_teardown)
    const struct CMUnitTest tests[] = {
        T(test_collects_in_pieces),
        T(test_never_appended),
        T(test_growth_wipes_old_blocks),
        T(test_retry_shorter_answer),
        T(test_retry_longer_answer_grows),
        T(test_kept_tail_zeroed),
        T(test_retry_empty_answer),
        T(test_not_kept_all_wiped),
        T(test_too_large),
    };
#undef T
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
