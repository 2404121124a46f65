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

#endif
