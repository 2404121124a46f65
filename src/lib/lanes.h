/*
 * lanes.h - 16 bytes at a time with GCC/clang vector extensions (plain
 * scalar code where the target has no vectors), for the loops that check
 * every byte of a token: a comparison sets a lane to 0xff where it holds,
 * 0 elsewhere.
 *
 * Vectors by pointer, never by value: a vector argument or return value
 * changes the ABI where the target has no vector registers (i386 without
 * SSE), which gcc warns about.
 */
#ifndef K8SSA_LANES_H
#define K8SSA_LANES_H

#include <stdint.h>
#include <string.h>

#define K8SSA_LANES 16

typedef unsigned char k8ssa_bytes16 __attribute__((vector_size(K8SSA_LANES)));

/* The 16 bytes at s (any alignment). */
static inline void k8ssa_lanes_load(k8ssa_bytes16 *v, const unsigned char *s)
{
    memcpy(v, s, K8SSA_LANES);
}

/* 1 when every lane of v is set. */
static inline int k8ssa_lanes_all(const k8ssa_bytes16 *v)
{
    uint64_t half[2];

    memcpy(half, v, sizeof(half));
    return (half[0] & half[1]) == UINT64_MAX;
}

/* 1 when some lane of v is set. */
static inline int k8ssa_lanes_any(const k8ssa_bytes16 *v)
{
    uint64_t half[2];

    memcpy(half, v, sizeof(half));
    return (half[0] | half[1]) != 0;
}

#endif
