/*
 * flight.h - request coalescing ("single flight") within one child process.
 *
 * When several threads miss the cache for the same key at once, the first
 * reviews the token and the others wait for its result instead of sending
 * reviews of their own. Waiting is bounded; the result travels as bytes (an
 * encoded cache entry), so each waiter decodes it into its own pool.
 */
#ifndef K8SSA_FLIGHT_H
#define K8SSA_FLIGHT_H

#include <stddef.h>
#include <apr_pools.h>
#include <apr_time.h>

#include "tokenkey.h"

typedef struct k8ssa_flights k8ssa_flights;
typedef struct k8ssa_flight k8ssa_flight;

typedef enum {
    K8SSA_FLIGHT_LEAD = 0,   /* review, then k8ssa_flight_land() */
    K8SSA_FLIGHT_LANDED,     /* another request's result is in *outcome, *data */
    K8SSA_FLIGHT_TIMEOUT     /* no result within the wait */
} k8ssa_flight_role;

/* A table of flights living in p (the child's pool). */
apr_status_t k8ssa_flights_create(apr_pool_t *p, k8ssa_flights **out);

/*
 * Joins the flight for key, waiting at most `wait` for its leader. On LANDED,
 * *outcome is what the leader passed, and *data, *len a copy in p (NULL, 0 when
 * the leader passed none).
 */
k8ssa_flight_role k8ssa_flight_join(k8ssa_flights *fs,
                                    const unsigned char key[K8SSA_TOKENKEY_LEN],
                                    apr_interval_time_t wait, apr_pool_t *p,
                                    k8ssa_flight **flight, int *outcome,
                                    const unsigned char **data, size_t *len);

/* The leader's result; wakes the waiters. The leader must land exactly once. */
void k8ssa_flight_land(k8ssa_flights *fs, k8ssa_flight *f, int outcome,
                       const unsigned char *data, size_t len);

/* Requests that waited for another's review since creation (for metrics). */
unsigned long k8ssa_flights_waits(k8ssa_flights *fs);

#endif
