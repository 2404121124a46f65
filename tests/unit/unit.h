/*
 * unit.h - shared cmocka fixtures of the unit tests: APR for the whole group,
 * and a fresh pool per test in *state.
 */
#ifndef K8SSA_UNIT_H
#define K8SSA_UNIT_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <apr_general.h>
#include <apr_pools.h>

/* AddressSanitizer builds: their runtime owns malloc and free, and each pool
 * allocation of ours is a malloc block of its own (tests/common/asan_pools.c),
 * so tests that interpose free() or read a pool's memory in order skip. */
#if defined(__SANITIZE_ADDRESS__)
#define K8SSA_UNIT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define K8SSA_UNIT_ASAN 1
#endif
#endif

static inline int group_setup(void **state)
{
    (void)state;
    return apr_initialize() == APR_SUCCESS ? 0 : -1;
}

static inline int group_teardown(void **state)
{
    (void)state;
    apr_terminate();
    return 0;
}

static inline int pool_setup(void **state)
{
    apr_pool_t *p;
    if (apr_pool_create(&p, NULL) != APR_SUCCESS)
        return -1;
    *state = p;
    return 0;
}

static inline int pool_teardown(void **state)
{
    apr_pool_destroy(*state);
    return 0;
}

/* "a,a,...,a" of n bytes (n odd) in *value and its elements joined by ", "
 * in *joined, from p: the worst case of a comma list's growth. */
static inline void bare_comma_list(apr_pool_t *p, size_t n, char **value, char **joined)
{
    char *v = apr_palloc(p, n + 1), *w = apr_palloc(p, 2 * n + 1);
    size_t i;

    *value = v;
    *joined = w;
    for (i = 0; i < n; i++)
        v[i] = i % 2 ? ',' : 'a';
    v[n] = '\0';
    for (i = 0; i < n; i += 2) {
        if (i) {
            *w++ = ',';
            *w++ = ' ';
        }
        *w++ = 'a';
    }
    *w = '\0';
}

#endif
