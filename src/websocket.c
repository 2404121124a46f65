/* websocket.c - the Sec-WebSocket-Protocol bearer entry (see websocket.h). */
#include "websocket.h"
#include "bearer.h"
#include "jwt.h"

#include <apr_strings.h>
#include <string.h>

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

k8ssa_ws_status k8ssa_ws_bearer(apr_pool_t *p, const char *value, const char **token,
                                const char **others)
{
    const size_t plen = sizeof(K8SSA_WS_BEARER_PREFIX) - 1;
    const char *at = value, *found = NULL;
    char *kept = apr_palloc(p, strlen(value) + 1), *k = kept;
    size_t found_len = 0;
    int entries = 0;

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
        if (n >= plen && memcmp(start, K8SSA_WS_BEARER_PREFIX, plen) == 0) {
            entries++;
            found = start + plen;
            found_len = n - plen;
            continue;
        }
        if (k != kept) {
            memcpy(k, ", ", 2);
            k += 2;
        }
        memcpy(k, start, n);
        k += n;
    }
    *k = '\0';
    *others = k != kept ? kept : NULL;
    if (entries == 0)
        return K8SSA_WS_ABSENT;
    if (entries > 1 || found_len == 0 || found_len / 4 * 3 > K8SSA_BEARER_MAX_TOKEN + 2)
        return K8SSA_WS_MALFORMED;
    {
        unsigned char *buf = apr_palloc(p, found_len / 4 * 3 + 3);
        long n = k8ssa_base64url_decode(found, found_len, buf);
        if (n <= 0 || n > K8SSA_BEARER_MAX_TOKEN || !k8ssa_is_b64token((char *)buf, (size_t)n))
            return K8SSA_WS_MALFORMED;
        *token = apr_pstrmemdup(p, (char *)buf, (apr_size_t)n);
    }
    return K8SSA_WS_FOUND;
}
