/*
 * fuzz_bearer.c - libFuzzer target for src/lib/bearer.c.
 *
 * Invariants: on K8SSA_BEARER_OK the token slice lies inside the header, is
 * non-empty, at most K8SSA_BEARER_MAX_TOKEN long and a b64token; every other
 * status has a reason. A b64token put behind "Bearer " always parses back to
 * itself.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#include "bearer.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init_once();
    apr_pool_clear(pool);

    /* the header as httpd hands it over: NUL-terminated */
    char *h = apr_palloc(pool, size + 1);
    memcpy(h, data, size);
    h[size] = '\0';
    size_t hlen = strlen(h);

    size_t off = (size_t)-1, len = (size_t)-1;
    k8ssa_bearer_status st = k8ssa_bearer_parse(h, &off, &len);
    switch (st) {
    case K8SSA_BEARER_OK:
        CHECK(off <= hlen);
        CHECK(len >= 1);
        CHECK(len <= hlen - off);
        CHECK(len <= K8SSA_BEARER_MAX_TOKEN);
        CHECK(k8ssa_is_b64token(h + off, len) == 1);
        /* what follows the token is only spaces/tabs */
        for (size_t i = off + len; i < hlen; i++)
            CHECK(h[i] == ' ' || h[i] == '\t');
        /* deterministic */
        {
            size_t off2, len2;
            CHECK(k8ssa_bearer_parse(h, &off2, &len2) == K8SSA_BEARER_OK);
            CHECK(off2 == off && len2 == len);
        }
        break;
    case K8SSA_BEARER_ABSENT:
    case K8SSA_BEARER_EMPTY:
    case K8SSA_BEARER_BAD_SYNTAX:
    case K8SSA_BEARER_TOO_LONG: {
        const char *why = k8ssa_bearer_status_reason(st);
        CHECK(why != NULL && why[0] != '\0');
        break;
    }
    default:
        CHECK(!"unknown status");
    }

    /* the raw bytes as a token candidate (not NUL-terminated) */
    int b64 = k8ssa_is_b64token((const char *)data, size);
    if (b64) {
        for (size_t i = 0; i < size; i++)
            CHECK(data[i] != 0 && data[i] != ' ' && data[i] < 0x80);
        /* "Bearer <token>" parses back to exactly the token */
        char *hb = apr_palloc(pool, size + 8);
        memcpy(hb, "Bearer ", 7);
        memcpy(hb + 7, data, size);
        hb[7 + size] = '\0';
        size_t o2 = 0, l2 = 0;
        k8ssa_bearer_status s2 = k8ssa_bearer_parse(hb, &o2, &l2);
        if (size <= K8SSA_BEARER_MAX_TOKEN) {
            CHECK(s2 == K8SSA_BEARER_OK);
            CHECK(o2 == 7 && l2 == size);
        } else {
            CHECK(s2 == K8SSA_BEARER_TOO_LONG);
        }
    } else if (size > 0 && size <= K8SSA_BEARER_MAX_TOKEN &&
               memchr(data, 0, size) == NULL) {
        /* a non-token behind "Bearer " is never OK with the whole input */
        char *hb = apr_palloc(pool, size + 8);
        memcpy(hb, "Bearer ", 7);
        memcpy(hb + 7, data, size);
        hb[7 + size] = '\0';
        size_t o2 = 0, l2 = 0;
        if (k8ssa_bearer_parse(hb, &o2, &l2) == K8SSA_BEARER_OK)
            CHECK(!(o2 == 7 && l2 == size));
    }
    return 0;
}
