/*
 * fuzz_websocket.c - libFuzzer target for src/lib/websocket.c (k8ssa_ws_bearer).
 *
 * Invariants, on the input as a Sec-WebSocket-Protocol value:
 *  - FOUND: the token is non-empty, a b64token, at most K8SSA_BEARER_MAX_TOKEN
 *    bytes, and the value holds exactly one bearer entry, which is the
 *    prefix followed by the unpadded base64url encoding of the token, up to
 *    the unused low bits of its last character (re-encoding round trip);
 *  - FOUND or MALFORMED: `others` is NULL or a non-empty list in which no
 *    element starts with the prefix, joined by ", ", with no empty elements
 *    and no surrounding spaces/tabs, and exactly as many elements as the
 *    value has non-empty ones besides the bearer entries;
 *  - ABSENT: the input has no entry starting with the prefix;
 *  - deterministic.
 * Then the input bytes as a token candidate: when they are a b64token within
 * the limit, their entry (amid other protocols) is FOUND with exactly them.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#include <apr_strings.h>

#include "bearer.h"
#include "websocket.h"
#include "../common/b64url.h"

static char *b64url(const unsigned char *s, size_t len)
{
    char *out = apr_palloc(pool, len / 3 * 4 + 5);

    out[test_b64url_encode(s, len, out)] = '\0';
    return out;
}

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* The non-empty list elements of v, trimmed of spaces/tabs: how many
 * (*elements), how many start with the prefix (returned), and (through
 * *first, *first_len) the first of those. */
static int count_entries(const char *v, int *elements, const char **first, size_t *first_len)
{
    const size_t plen = sizeof(K8SSA_WS_BEARER_PREFIX) - 1;
    int n = 0;

    *elements = 0;

    while (*v) {
        const char *start, *end;
        while (*v == ',' || is_ows(*v))
            v++;
        start = v;
        while (*v && *v != ',')
            v++;
        end = v;
        while (end > start && is_ows(end[-1]))
            end--;
        if (end > start)
            (*elements)++;
        if ((size_t)(end - start) >= plen && memcmp(start, K8SSA_WS_BEARER_PREFIX, plen) == 0) {
            if (n++ == 0) {
                *first = start;
                *first_len = (size_t)(end - start);
            }
        }
    }
    return n;
}

/* others: NULL or the other elements (how many: expect), joined by ", " */
static void check_others(const char *others, int expect)
{
    size_t n, i;
    int count = 1;

    if (others == NULL) {
        CHECK(expect == 0);
        return;
    }
    n = strlen(others);
    CHECK(n > 0);
    /* no element is a bearer entry (one may hold the prefix further in:
     * "x" PREFIX "..." is another protocol) */
    CHECK(strncmp(others, K8SSA_WS_BEARER_PREFIX, sizeof(K8SSA_WS_BEARER_PREFIX) - 1) != 0);
    CHECK(strstr(others, ", " K8SSA_WS_BEARER_PREFIX) == NULL);
    CHECK(!is_ows(others[0]) && others[0] != ',');
    CHECK(!is_ows(others[n - 1]) && others[n - 1] != ',');
    /* elements are joined by exactly ", " and are never empty */
    for (i = 0; i < n; i++)
        if (others[i] == ',') {
            CHECK(i + 2 < n);
            CHECK(others[i + 1] == ' ');
            CHECK(!is_ows(others[i + 2]) && others[i + 2] != ',');
            CHECK(!is_ows(others[i - 1]));
            count++;
        }
    CHECK(count == expect);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init_once();
    apr_pool_clear(pool);

    /* the header value as httpd hands it over: NUL-terminated */
    char *v = apr_palloc(pool, size + 1);
    memcpy(v, data, size);
    v[size] = '\0';

    const char *token = NULL, *others = NULL, *first = NULL;
    size_t first_len = 0;
    int elements = 0;
    int entries = count_entries(v, &elements, &first, &first_len);
    k8ssa_ws_status st = k8ssa_ws_bearer(pool, v, &token, &others);

    switch (st) {
    case K8SSA_WS_FOUND: {
        CHECK(token != NULL);
        size_t tlen = strlen(token);
        CHECK(tlen >= 1);
        CHECK(tlen <= K8SSA_BEARER_MAX_TOKEN);
        CHECK(k8ssa_is_b64token(token, tlen) == 1);
        CHECK(entries == 1);
        /* re-encoding round trip: the entry is prefix + b64url(token), but for
         * the unused low bits of its last character (ignored on decoding, as
         * Go's non-strict base64.RawURLEncoding that Kubernetes uses does);
         * and the canonical entry decodes to the same token */
        {
            const size_t plen = sizeof(K8SSA_WS_BEARER_PREFIX) - 1;
            char *enc = b64url((const unsigned char *)token, tlen);
            size_t elen = strlen(enc);
            const char *payload = first + plen;
            CHECK(first_len - plen == elen);
            CHECK(memcmp(enc, payload, elen - 1) == 0);
            {
                static const char alpha[] = TEST_B64URL_ALPHABET;
                const char *a = strchr(alpha, enc[elen - 1]), *b = strchr(alpha, payload[elen - 1]);
                int unused = elen % 4 == 2 ? 15 : elen % 4 == 3 ? 3 : 0;
                CHECK(a != NULL && b != NULL && payload[elen - 1] != '\0');
                CHECK(((a - alpha) & ~unused) == ((b - alpha) & ~unused));
                CHECK(((a - alpha) & unused) == 0);
            }
            {
                const char *t4 = NULL, *o4 = NULL;
                CHECK(k8ssa_ws_bearer(pool, apr_pstrcat(pool, K8SSA_WS_BEARER_PREFIX, enc, NULL),
                                      &t4, &o4) == K8SSA_WS_FOUND);
                CHECK(strcmp(t4, token) == 0 && o4 == NULL);
            }
        }
        check_others(others, elements - entries);
        break;
    }
    case K8SSA_WS_MALFORMED:
        CHECK(entries >= 1);
        check_others(others, elements - entries);
        break;
    case K8SSA_WS_ABSENT:
        CHECK(entries == 0);
        break;
    default:
        CHECK(!"unknown status");
    }

    /* deterministic */
    {
        const char *t2 = NULL, *o2 = NULL;
        CHECK(k8ssa_ws_bearer(pool, v, &t2, &o2) == st);
        if (st != K8SSA_WS_ABSENT) {
            CHECK((o2 == NULL) == (others == NULL));
            if (o2 != NULL)
                CHECK(strcmp(o2, others) == 0);
        }
        if (st == K8SSA_WS_FOUND)
            CHECK(strcmp(t2, token) == 0);
    }

    /* the raw bytes as a token: encoded amid other protocols, they come back */
    if (k8ssa_is_b64token((const char *)data, size)) {
        char *e = apr_pstrcat(pool, "chat.v1, " K8SSA_WS_BEARER_PREFIX, b64url(data, size),
                              " ,\tsuperchat", NULL);
        const char *t3 = NULL, *o3 = NULL;
        k8ssa_ws_status s3 = k8ssa_ws_bearer(pool, e, &t3, &o3);
        CHECK(o3 != NULL && strcmp(o3, "chat.v1, superchat") == 0);
        if (size <= K8SSA_BEARER_MAX_TOKEN) {
            CHECK(s3 == K8SSA_WS_FOUND);
            CHECK(strlen(t3) == size && memcmp(t3, data, size) == 0);
        } else {
            CHECK(s3 == K8SSA_WS_MALFORMED);
        }
    }
    return 0;
}
