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
    /* Destroys the pool at exit: in sanitizer builds its allocations are
     * malloc blocks, listed in pool memory LeakSanitizer does not scan. */
    atexit(apr_terminate);
}

/* What any identity the module may export must satisfy, whatever bytes it was
 * decoded from: a username, printable strings, counts within the limits. */
static inline int printable(const char *s)
{
    return s != NULL && strlen(s) <= K8SSA_MAX_STRING && k8ssa_is_printable(s, strlen(s));
}

/* Unicode White_Space (what a backend's trim() removes), by code point. */
static inline int is_space_cp(unsigned long cp)
{
    return cp == 0x20 || cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a)
        || cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000
        || cp < 0x20 || cp == 0x85;
}

/* The code point of the UTF-8 sequence at s of n bytes (valid UTF-8 given). */
static inline unsigned long code_point(const unsigned char *s, size_t n)
{
    unsigned long cp = n == 1 ? s[0] : n == 2 ? s[0] & 0x1f : n == 3 ? s[0] & 0x0f : s[0] & 0x07;
    for (size_t i = 1; i < n; i++)
        cp = (cp << 6) | (s[i] & 0x3f);
    return cp;
}

/* An exported identity value: printable, not empty (unless may_be_empty),
 * and neither its first nor its last character is whitespace. */
static inline int identity_value(const char *s, int may_be_empty)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t len, n;

    if (!printable(s))
        return 0;
    len = strlen(s);
    if (len == 0)
        return may_be_empty;
    n = u[0] < 0x80 ? 1 : u[0] < 0xe0 ? 2 : u[0] < 0xf0 ? 3 : 4;
    if (is_space_cp(code_point(u, n)))
        return 0;
    for (n = 1; n < len && (u[len - n] & 0xc0) == 0x80; n++)
        ;
    return !is_space_cp(code_point(u + len - n, n));
}

static inline void check_identity(const k8ssa_identity *id)
{
    CHECK(id != NULL);
    CHECK(id->username != NULL && id->username[0] != '\0');
    CHECK(identity_value(id->username, 0));
    CHECK(identity_value(id->uid, 1));
    CHECK(id->ngroups <= K8SSA_MAX_GROUPS);
    CHECK(id->ngroups == 0 || id->groups != NULL);
    for (size_t i = 0; i < id->ngroups; i++)
        CHECK(identity_value(id->groups[i], 0));
    CHECK(id->nextra <= K8SSA_MAX_EXTRA_KEYS);
    CHECK(id->nextra == 0 || id->extra != NULL);
    for (size_t i = 0; i < id->nextra; i++) {
        CHECK(identity_value(id->extra[i].key, 0));
        CHECK(id->extra[i].nvalues <= K8SSA_MAX_EXTRA_VALS);
        CHECK(id->extra[i].nvalues == 0 || id->extra[i].values != NULL);
        for (size_t j = 0; j < id->extra[i].nvalues; j++)
            CHECK(identity_value(id->extra[i].values[j], 0));
    }
    CHECK(id->naudiences <= K8SSA_MAX_AUDIENCES);
    CHECK(id->naudiences == 0 || id->audiences != NULL);
    for (size_t i = 0; i < id->naudiences; i++)
        CHECK(printable(id->audiences[i]));
}

#endif
