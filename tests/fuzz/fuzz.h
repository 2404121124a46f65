/*
 * fuzz.h - shared parts of the libFuzzer targets: the entry point, an
 * invariant check that aborts (so libFuzzer keeps the input), and one APR
 * pool for the process, cleared by each target after every input.
 */
#ifndef K8SSA_FUZZ_H
#define K8SSA_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <apr_general.h>
#include <apr_pools.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__,       \
                    __LINE__, #cond);                                        \
            abort();                                                         \
        }                                                                    \
    } while (0)

static apr_pool_t *pool;

static inline void init_once(void)
{
    if (pool)
        return;
    if (apr_initialize() != APR_SUCCESS || apr_pool_create(&pool, NULL) != APR_SUCCESS)
        abort();
}

#endif
