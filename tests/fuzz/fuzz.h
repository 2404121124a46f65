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

#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>

#include "identity.h"

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

/* What any identity the module may export must satisfy, whatever bytes it was
 * decoded from: a username, printable strings, counts within the limits. */
static inline int printable(const char *s)
{
    return s != NULL && strlen(s) <= K8SSA_MAX_STRING && k8ssa_is_printable(s, strlen(s));
}

static inline void check_identity(const k8ssa_identity *id)
{
    CHECK(id != NULL);
    CHECK(id->username != NULL && id->username[0] != '\0');
    CHECK(printable(id->username));
    CHECK(printable(id->uid));
    CHECK(id->ngroups <= K8SSA_MAX_GROUPS);
    CHECK(id->ngroups == 0 || id->groups != NULL);
    for (size_t i = 0; i < id->ngroups; i++)
        CHECK(printable(id->groups[i]));
    CHECK(id->nextra <= K8SSA_MAX_EXTRA_KEYS);
    CHECK(id->nextra == 0 || id->extra != NULL);
    for (size_t i = 0; i < id->nextra; i++) {
        CHECK(printable(id->extra[i].key));
        CHECK(id->extra[i].nvalues <= K8SSA_MAX_EXTRA_VALS);
        CHECK(id->extra[i].nvalues == 0 || id->extra[i].values != NULL);
        for (size_t j = 0; j < id->extra[i].nvalues; j++)
            CHECK(printable(id->extra[i].values[j]));
    }
    CHECK(id->naudiences <= K8SSA_MAX_AUDIENCES);
    CHECK(id->naudiences == 0 || id->audiences != NULL);
    for (size_t i = 0; i < id->naudiences; i++)
        CHECK(printable(id->audiences[i]));
}

#endif
