/*
 * bearer.c - RFC 6750 section 2.1:
 *   credentials = "Bearer" 1*SP b64token
 *   b64token    = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
 */
#include "bearer.h"
#include "lanes.h"

#include <string.h>

/* One byte of the set: letters, '-' '.' '/' and digits (0x2d-0x39, one
 * run), '+', '_', '~'. For the bytes after the last 16-byte block. */
static inline unsigned is_b64token_char(unsigned char c)
{
    return ((unsigned char)((c | 0x20) - 'a') < 26) | ((unsigned char)(c - '-') < 13)
           | (c == '+') | (c == '_') | (c == '~');
}

/* The same test on a block of 16 bytes: ANDs its lanes into *acc. */
static void and_block_lanes(const unsigned char *s, k8ssa_bytes16 *acc)
{
    k8ssa_bytes16 c, ok;

    k8ssa_lanes_load(&c, s);
    ok = (k8ssa_bytes16)((k8ssa_bytes16)((c | 0x20) - 'a') < 26);
    ok |= (k8ssa_bytes16)((k8ssa_bytes16)(c - '-') < 13);
    ok |= (k8ssa_bytes16)(c == '+') | (k8ssa_bytes16)(c == '_') | (k8ssa_bytes16)(c == '~');
    *acc &= ok;
}

int k8ssa_is_b64token(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t end = len, i = 0;
    unsigned all = 1;
    k8ssa_bytes16 lanes = { 0 };

    lanes = ~lanes;
    while (end > 0 && s[end - 1] == '=')
        end--;                  /* the padding, at the end only */
    if (end == 0)
        return 0;
    /* No early exit: every request's token comes through here, whole. */
    for (; i + K8SSA_LANES <= end; i += K8SSA_LANES)
        and_block_lanes(u + i, &lanes);
    all = (unsigned)k8ssa_lanes_all(&lanes);
    for (; i < end; i++)
        all &= is_b64token_char(u[i]);
    return (int)all;
}

static int ascii_lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

k8ssa_bearer_status k8ssa_bearer_parse(const char *header, size_t *token_off,
                                       size_t *token_len)
{
    static const char scheme[] = "bearer";
    const size_t scheme_len = sizeof(scheme) - 1;
    size_t i, start, end;

    if (header == NULL)
        return K8SSA_BEARER_ABSENT;
    for (i = 0; i < scheme_len; i++) {
        if (header[i] == '\0' || ascii_lower((unsigned char)header[i]) != scheme[i])
            return K8SSA_BEARER_ABSENT;
    }
    /* "Bearerfoo" is another scheme; "Bearer" alone is an empty credential. */
    if (header[i] != '\0' && header[i] != ' ' && header[i] != '\t')
        return K8SSA_BEARER_ABSENT;

    while (header[i] == ' ')
        i++;
    start = i;
    end = start + strlen(header + start);
    /* httpd keeps trailing whitespace of a field value; it is not part of it. */
    while (end > start && (header[end - 1] == ' ' || header[end - 1] == '\t'))
        end--;
    if (end == start)
        return K8SSA_BEARER_EMPTY;
    if (start == scheme_len)  /* a tab, not 1*SP, after the scheme */
        return K8SSA_BEARER_BAD_SYNTAX;
    if (end - start > K8SSA_BEARER_MAX_TOKEN)
        return K8SSA_BEARER_TOO_LONG;
    if (!k8ssa_is_b64token(header + start, end - start))
        return K8SSA_BEARER_BAD_SYNTAX;
    *token_off = start;
    *token_len = end - start;
    return K8SSA_BEARER_OK;
}

const char *k8ssa_bearer_status_reason(k8ssa_bearer_status st)
{
    switch (st) {
    case K8SSA_BEARER_OK:         return "ok";
    case K8SSA_BEARER_ABSENT:     return "no Bearer credentials";
    case K8SSA_BEARER_EMPTY:      return "empty Bearer token";
    case K8SSA_BEARER_BAD_SYNTAX: return "Bearer token is not an RFC 6750 b64token";
    case K8SSA_BEARER_TOO_LONG:   return "Bearer token longer than 16 KiB";
    }
    return "unknown";
}
