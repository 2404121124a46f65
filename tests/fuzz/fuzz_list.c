/*
 * fuzz_list.c - libFuzzer target for src/lib/list.c and the Connection clean-up
 * of src/lib/headers.c, on the input as a header value.
 *
 * Invariants (against a reference splitter):
 *  - the result is NULL or the kept elements, in order, joined by ", ", and
 *    never longer than the value plus its commas (d8c4963's overflow);
 *  - kept + dropped is the number of non-empty elements;
 *  - Connection: no kept option holds a token (split at white space, ';',
 *    '"') naming an identity header (any case, '-' or '_'), every dropped
 *    one does.
 */
#include "fuzz.h"

#include "headers.h"
#include "list.h"

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static unsigned char fold(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return (unsigned char)(c - 'A' + 'a');
    return c == '_' ? '-' : c;
}

static int ref_prefix(const char *e, size_t n, const char *prefix)
{
    size_t i;
    for (i = 0; prefix[i]; i++)
        if (i == n || fold((unsigned char)e[i]) != fold((unsigned char)prefix[i]))
            return 0;
    return 1;
}

static int ref_identity(const k8ssa_header_names *h, const char *e, size_t n)
{
    return (*h->user && n == strlen(h->user) && ref_prefix(e, n, h->user))
        || (*h->groups && n == strlen(h->groups) && ref_prefix(e, n, h->groups))
        || (*h->extra_prefix && ref_prefix(e, n, h->extra_prefix));
}

/* Drops elements whose first byte is odd: an arbitrary but fixed choice. */
static int keep_even(void *ctx, const char *e, size_t n)
{
    (void)ctx;
    CHECK(n > 0 && !is_ows(e[0]) && !is_ows(e[n - 1]) && e[0] != ',');
    return !((unsigned char)e[0] & 1);
}

typedef int (*decide_fn)(const char *e, size_t n, const void *ctx);

static int decide_even(const char *e, size_t n, const void *ctx)
{
    (void)n;
    (void)ctx;
    return !((unsigned char)e[0] & 1);
}

/* mod_proxy's ap_get_token() splits at isspace, ';' and ','; quotes too. */
static int ref_splits(char c)
{
    return c == ';' || c == '"' || (c != '\0' && strchr(" \t\n\v\f\r", c) != NULL);
}

static int decide_connection(const char *e, size_t n, const void *ctx)
{
    size_t i, start;

    for (i = 0; i < n;) {
        for (; i < n && ref_splits(e[i]); i++)
            ;
        for (start = i; i < n && !ref_splits(e[i]); i++)
            ;
        if (i > start && ref_identity(ctx, e + start, i - start))
            return 0;
    }
    return 1;
}

/* The expected join of the kept elements of v; *all counts the elements. */
static char *reference(const char *v, decide_fn keep, const void *ctx, size_t *all,
                       size_t *kept)
{
    char *out = malloc(2 * strlen(v) + 1), *o = out;
    const char *at = v;

    CHECK(out != NULL);
    *all = *kept = 0;
    while (*at) {
        const char *s, *e;
        while (*at == ',' || is_ows(*at))
            at++;
        s = at;
        while (*at && *at != ',')
            at++;
        e = at;
        while (e > s && is_ows(e[-1]))
            e--;
        if (e == s)
            continue;
        ++*all;
        if (!keep(s, (size_t)(e - s), ctx))
            continue;
        if ((*kept)++) {
            *o++ = ',';
            *o++ = ' ';
        }
        memcpy(o, s, (size_t)(e - s));
        o += e - s;
    }
    *o = '\0';
    return out;
}

static void check_result(const char *v, const char *got, size_t dropped, decide_fn keep,
                         const void *ctx)
{
    size_t all, kept, commas = 0, i;
    char *want = reference(v, keep, ctx, &all, &kept);

    for (i = 0; v[i]; i++)
        commas += v[i] == ',';
    CHECK(kept + dropped == all);
    if (kept == 0) {
        CHECK(got == NULL);
    } else {
        CHECK(got != NULL);
        CHECK(strcmp(got, want) == 0);
        CHECK(strlen(got) <= strlen(v) + commas);
    }
    free(want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const k8ssa_header_names defaults = { "X-Remote-User", "X-Remote-Group",
                                                 "X-Remote-Extra-" };
    static const k8ssa_header_names kubeflow = { "kubeflow-userid", "kubeflow-groups", "" };
    size_t dropped = 0;
    const char *got;

    init_once();
    apr_pool_clear(pool);
    /* the header value as httpd hands it over: NUL-terminated, exact size */
    char *v = apr_palloc(pool, size + 1);
    memcpy(v, data, size);
    v[size] = '\0';

    got = k8ssa_list_filter(pool, v, keep_even, NULL, &dropped);
    check_result(v, got, dropped, decide_even, NULL);
    got = k8ssa_connection_without_identity(pool, v, &defaults, &dropped);
    check_result(v, got, dropped, decide_connection, &defaults);
    got = k8ssa_connection_without_identity(pool, v, &kubeflow, &dropped);
    check_result(v, got, dropped, decide_connection, &kubeflow);
    return 0;
}
