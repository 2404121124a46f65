/*
 * fuzz_canline.c - libFuzzer target for src/lib/canline.c.
 *
 * The input split at NULs is the words of a k8s-can line (at most 5).
 * Invariants when accepted: 2 to 4 words; the verb and every attribute are
 * printable and free of spaces and '/' where a name is expected; a /path is
 * alone; RESOURCE[.GROUP][/SUBRESOURCE] joins back to the second word; the
 * namespace and name are the third and fourth words, never empty. Refusals
 * name a reason. Deterministic.
 */
#include "fuzz.h"

#include <apr_strings.h>

#include "canline.h"

static int plain(const char *s)
{
    return s != NULL && *s && printable(s) && strchr(s, ' ') == NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *w[5];
    size_t n = 1, i;
    k8ssa_access_attributes a, b;
    const char *why = NULL, *why2 = NULL;

    init_once();
    apr_pool_clear(pool);
    char *copy = apr_palloc(pool, size + 1);
    memcpy(copy, data, size);
    copy[size] = '\0';
    w[0] = copy;
    for (i = 0; i < size && n < 5; i++)
        if (copy[i] == '\0')
            w[n++] = copy + i + 1;

    int ok = k8ssa_can_attributes(pool, w, n, &a, &why);
    int ok2 = k8ssa_can_attributes(pool, w, n, &b, &why2);
    CHECK(ok == ok2);
    if (!ok) {
        CHECK(why != NULL && printable(why));
        return 0;
    }
    CHECK(n >= 2 && n <= 4);
    CHECK(plain(a.verb) && strcmp(a.verb, w[0]) == 0);
    if (w[1][0] == '/') {
        CHECK(n == 2 && a.path != NULL && strcmp(a.path, w[1]) == 0 && plain(a.path));
        CHECK(a.resource == NULL && a.ns == NULL && a.name == NULL);
        return 0;
    }
    CHECK(a.path == NULL && plain(a.resource) && strchr(a.resource, '/') == NULL
          && strchr(a.resource, '.') == NULL);
    const char *joined = apr_pstrcat(pool, a.resource, a.group ? "." : "",
                                     a.group ? a.group : "", a.subresource ? "/" : "",
                                     a.subresource ? a.subresource : "", NULL);
    CHECK(strcmp(joined, w[1]) == 0);
    if (a.group)
        CHECK(plain(a.group) && strchr(a.group, '/') == NULL);
    if (a.subresource)
        CHECK(plain(a.subresource) && strchr(a.subresource, '/') == NULL);
    CHECK((n >= 3) == (a.ns != NULL));
    if (a.ns)
        CHECK(plain(a.ns) && strcmp(a.ns, w[2]) == 0 && strlen(a.ns) <= K8SSA_CAN_MAX_NAMESPACE
              && strcmp(a.ns, "*") != 0);
    CHECK((n == 4) == (a.name != NULL));
    if (a.name)
        CHECK(plain(a.name) && strcmp(a.name, w[3]) == 0 && strchr(a.name, '/') == NULL);
    return 0;
}
