/* mod_bench_spin: the bench's yardstick, not part of the product. In a
 * location with BenchSpinNanoseconds N, every request first runs a busy loop
 * of N nanoseconds of CPU and nothing else: no system call, no allocation,
 * no lock. The bench's spin scenario measures its ratio to the baseline, so
 * that a run shows what a known amount of user-space CPU per request costs
 * the req/s ratio on that machine, next to what the module's hit costs.
 *
 * The loop is a chain of dependent multiply-adds, counted, not timed: a
 * thread preempted in the middle of it still does all of its work. Each
 * child calibrates the count once, against its own thread's CPU clock, so
 * that two children calibrating at once on one core are not misled. */

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "http_request.h"

#include <stdint.h>
#include <stdlib.h>
#include <time.h>

module AP_MODULE_DECLARE_DATA bench_spin_module;
APLOG_USE_MODULE(bench_spin);

typedef struct {
    long ns; /* -1: not set here */
} spin_conf;

/* Iterations of spin() per nanosecond of CPU, set in each child. */
static double iterations_per_ns;

static uint64_t spin(uint64_t n)
{
    uint64_t x = n;

    while (n-- > 0)
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    return x;
}

/* Keeps the compiler from dropping the loop. */
static volatile uint64_t sink;

/* The thread's CPU time in ns, or a negative number when it cannot be read. */
static double thread_cpu_ns(void)
{
    struct timespec t;

    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t) != 0)
        return -1;
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

/* A loop this long that still took under a microsecond means a broken
 * clock, not a fast machine. */
#define MAX_CALIBRATION_ITERATIONS (UINT64_C(1) << 34)
/* More iterations per ns than any CPU runs: a spin count that fits. */
#define MAX_ITERATIONS_PER_NS 1000.0

static void calibrate(apr_pool_t *p, server_rec *s)
{
    uint64_t n = UINT64_C(1) << 20;
    double used = 0;

    (void)p;
    /* Doubling until the loop takes 20 ms of CPU: the clock's resolution
     * and the first call's page faults are then negligible. */
    for (;;) {
        double start = thread_cpu_ns(), end;

        sink = spin(n);
        end = thread_cpu_ns();
        if (start < 0 || end < 0) {
            used = 0;
            break;
        }
        used = end - start;
        if (used >= 20e6 || n >= MAX_CALIBRATION_ITERATIONS)
            break;
        n *= 2;
    }
    iterations_per_ns = used > 0 ? (double)n / used : 0;
    if (iterations_per_ns <= 0 || iterations_per_ns > MAX_ITERATIONS_PER_NS) {
        /* Every spin request then answers 500: the bench counts non-2xx
         * answers as a failed check, instead of a ratio near 1.0 from a
         * loop that never ran. */
        iterations_per_ns = 0;
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s,
                     "bench_spin: the thread's CPU clock gave no usable calibration");
        return;
    }
    /* NOTICE is written at any LogLevel: each run's error log shows it. */
    ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, "bench_spin: %.3f iterations per ns",
                 iterations_per_ns);
}

static void *create_dir_conf(apr_pool_t *p, char *dir)
{
    spin_conf *c = apr_pcalloc(p, sizeof(*c));

    (void)dir;
    c->ns = -1;
    return c;
}

static void *merge_dir_conf(apr_pool_t *p, void *basev, void *addv)
{
    spin_conf *c = apr_pcalloc(p, sizeof(*c));
    const spin_conf *base = basev, *add = addv;

    c->ns = add->ns >= 0 ? add->ns : base->ns;
    return c;
}

static const char *set_ns(cmd_parms *cmd, void *dc, const char *arg)
{
    char *end;
    long ns = strtol(arg, &end, 10);

    (void)cmd;
    if (*arg == '\0' || *end != '\0' || ns < 0 || ns > 1000000000L)
        return "BenchSpinNanoseconds: a whole number of nanoseconds, 0 to 1000000000";
    ((spin_conf *)dc)->ns = ns;
    return NULL;
}

static int spin_fixups(request_rec *r)
{
    const spin_conf *c = ap_get_module_config(r->per_dir_config, &bench_spin_module);

    if (c->ns <= 0)
        return DECLINED;
    if (iterations_per_ns <= 0)
        return HTTP_INTERNAL_SERVER_ERROR;
    /* at most 1e9 ns times MAX_ITERATIONS_PER_NS: within uint64_t */
    sink = spin((uint64_t)((double)c->ns * iterations_per_ns));
    return DECLINED;
}

static const command_rec spin_cmds[] = {
    AP_INIT_TAKE1("BenchSpinNanoseconds", set_ns, NULL, ACCESS_CONF,
                  "nanoseconds of CPU each request spends in a busy loop"),
    {NULL}
};

static void register_hooks(apr_pool_t *p)
{
    (void)p;
    ap_hook_child_init(calibrate, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_fixups(spin_fixups, NULL, NULL, APR_HOOK_MIDDLE);
}

module AP_MODULE_DECLARE_DATA bench_spin_module = {
    STANDARD20_MODULE_STUFF,
    create_dir_conf,
    merge_dir_conf,
    NULL,
    NULL,
    spin_cmds,
    register_hooks,
    AP_MODULE_FLAG_NONE
};
