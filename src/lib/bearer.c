/*
 * bearer.c - RFC 6750 section 2.1:
 *   credentials = "Bearer" 1*SP b64token
 *   b64token    = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
 */
#include "bearer.h"

#include <string.h>

/* A table: every request's token goes through it, some 800 bytes. */
#define B64 1
static const unsigned char b64token_char[256] = {
    ['A'] = B64, ['B'] = B64, ['C'] = B64, ['D'] = B64, ['E'] = B64, ['F'] = B64,
    ['G'] = B64, ['H'] = B64, ['I'] = B64, ['J'] = B64, ['K'] = B64, ['L'] = B64,
    ['M'] = B64, ['N'] = B64, ['O'] = B64, ['P'] = B64, ['Q'] = B64, ['R'] = B64,
    ['S'] = B64, ['T'] = B64, ['U'] = B64, ['V'] = B64, ['W'] = B64, ['X'] = B64,
    ['Y'] = B64, ['Z'] = B64,
    ['a'] = B64, ['b'] = B64, ['c'] = B64, ['d'] = B64, ['e'] = B64, ['f'] = B64,
    ['g'] = B64, ['h'] = B64, ['i'] = B64, ['j'] = B64, ['k'] = B64, ['l'] = B64,
    ['m'] = B64, ['n'] = B64, ['o'] = B64, ['p'] = B64, ['q'] = B64, ['r'] = B64,
    ['s'] = B64, ['t'] = B64, ['u'] = B64, ['v'] = B64, ['w'] = B64, ['x'] = B64,
    ['y'] = B64, ['z'] = B64,
    ['0'] = B64, ['1'] = B64, ['2'] = B64, ['3'] = B64, ['4'] = B64, ['5'] = B64,
    ['6'] = B64, ['7'] = B64, ['8'] = B64, ['9'] = B64,
    ['-'] = B64, ['.'] = B64, ['_'] = B64, ['~'] = B64, ['+'] = B64, ['/'] = B64,
};


int k8ssa_is_b64token(const char *s, size_t len)
{
    size_t end = len, i;
    unsigned char all = B64;

    while (end > 0 && s[end - 1] == '=')
        end--;                  /* the padding, at the end only */
    if (end == 0)
        return 0;
    /* No branch per byte: every request's token comes through here. */
    for (i = 0; i < end; i++)
        all &= b64token_char[(unsigned char)s[i]];
    return all == B64;
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
