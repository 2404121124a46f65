/* list.c - comma-separated header lists (see list.h). */
#include "list.h"

#include <stdlib.h>
#include <string.h>

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

const char *k8ssa_list_filter(apr_pool_t *p, const char *value, k8ssa_list_keep_fn keep,
                              void *ctx, size_t *dropped)
{
    size_t len = strlen(value), commas = 0, cap, out = 0, gone = 0, i;
    const char *at = value;
    char *buf;

    /* Kept elements are disjoint pieces of value, and between two of them
     * value holds at least one comma that ", " replaces: the join never
     * needs more than len + commas bytes. */
    for (i = 0; i < len; i++)
        commas += value[i] == ',';
    cap = len + commas + 1;
    buf = apr_palloc(p, cap);

    while (*at) {
        const char *start, *end;
        size_t n;

        while (is_ows(*at) || *at == ',')
            at++;
        start = at;
        while (*at && *at != ',')
            at++;
        end = at;
        while (end > start && is_ows(end[-1]))
            end--;
        n = (size_t)(end - start);
        if (n == 0)
            continue;
        if (!keep(ctx, start, n)) {
            gone++;
            continue;
        }
        if (out + (out ? 2 : 0) + n + 1 > cap)
            abort();  /* cannot happen (see above); never write past buf */
        if (out) {
            memcpy(buf + out, ", ", 2);
            out += 2;
        }
        memcpy(buf + out, start, n);
        out += n;
    }
    buf[out] = '\0';
    if (dropped != NULL)
        *dropped = gone;
    return out ? buf : NULL;
}
