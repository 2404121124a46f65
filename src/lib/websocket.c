/* websocket.c - the Sec-WebSocket-Protocol bearer entry (see websocket.h). */
#include "websocket.h"
#include "bearer.h"
#include "jwt.h"
#include "list.h"

#include <apr_strings.h>
#include <string.h>

typedef struct {
    int entries;
    const char *found;
    size_t found_len;
} bearer_entries;

/* Drops bearer entries from the list, remembering the last one. */
static int keep_other_protocols(void *ctx, const char *element, size_t n)
{
    const size_t plen = sizeof(K8SSA_WS_BEARER_PREFIX) - 1;
    bearer_entries *b = ctx;

    if (n >= plen && memcmp(element, K8SSA_WS_BEARER_PREFIX, plen) == 0) {
        b->entries++;
        b->found = element + plen;
        b->found_len = n - plen;
        return 0;
    }
    return 1;
}

k8ssa_ws_status k8ssa_ws_bearer(apr_pool_t *p, const char *value, const char **token,
                                const char **others)
{
    bearer_entries b = { 0, NULL, 0 };

    *others = k8ssa_list_filter(p, value, keep_other_protocols, &b, NULL);
    if (b.entries == 0)
        return K8SSA_WS_ABSENT;
    if (b.entries > 1 || b.found_len == 0 || b.found_len / 4 * 3 > K8SSA_BEARER_MAX_TOKEN + 2)
        return K8SSA_WS_MALFORMED;
    {
        size_t room = b.found_len / 4 * 3 + 3;
        unsigned char *buf = apr_palloc(p, room);
        long n = k8ssa_base64url_decode(b.found, b.found_len, buf);
        int ok = n > 0 && n <= K8SSA_BEARER_MAX_TOKEN
                 && k8ssa_is_b64token((char *)buf, (size_t)n);
        if (ok)
            *token = apr_pstrmemdup(p, (char *)buf, (apr_size_t)n);
        /* the caller owns (and wipes) the copy; the decoder may have filled
         * all of buf even when it refused the entry */
        memset(buf, 0, room);
        if (!ok)
            return K8SSA_WS_MALFORMED;
    }
    return K8SSA_WS_FOUND;
}
