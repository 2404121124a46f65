/*
 * metrics.h - the Prometheus text exposition (format 0.0.4) of the counters
 * of all children: every family of the contract's Metrics table with its
 * type, labels and HELP text. Plain C: unit-tested.
 */
#ifndef K8SSA_METRICS_H
#define K8SSA_METRICS_H

#include <stddef.h>
#include <apr_pools.h>

#include "counters.h"

#define K8SSA_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* The exposition of the sum of *slots[0..n) (read in place with atomic
 * reads: they may be shared memory other processes add to), in p. */
char *k8ssa_metrics_text(apr_pool_t *p, k8ssa_counters *const *slots, size_t n);

#endif
