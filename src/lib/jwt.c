/* jwt.c - unverified exp of a JWT (see jwt.h). */
#include "jwt.h"
#include "identity.h"
#include "json.h"

#include <json-c/json.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* One more than the value of each base64url character, 0 for any other
 * byte: every token reviewed is decoded here, some 900 characters. */
static const unsigned char b64url_values[256] = {
    ['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6, ['G'] = 7,
    ['H'] = 8, ['I'] = 9, ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14,
    ['O'] = 15, ['P'] = 16, ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21,
    ['V'] = 22, ['W'] = 23, ['X'] = 24, ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28,
    ['c'] = 29, ['d'] = 30, ['e'] = 31, ['f'] = 32, ['g'] = 33, ['h'] = 34, ['i'] = 35,
    ['j'] = 36, ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41, ['p'] = 42,
    ['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48, ['w'] = 49,
    ['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56,
    ['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['-'] = 63,
    ['_'] = 64,
};

static int b64url_value(unsigned char c)
{
    return (int)b64url_values[c] - 1;
}

/* Four characters, three bytes; a bad character is noted, not branched on. */
long k8ssa_base64url_decode(const char *src, size_t len, unsigned char *dst)
{
    const unsigned char *s = (const unsigned char *)src;
    unsigned char *out = dst;
    size_t i = 0, rest;
    unsigned bad = 0;

    if (len % 4 == 1)  /* 6 bits cannot end a byte */
        return -1;
    for (; i + 4 <= len; i += 4) {
        unsigned a = b64url_values[s[i]], b = b64url_values[s[i + 1]];
        unsigned c = b64url_values[s[i + 2]], d = b64url_values[s[i + 3]];
        unsigned v = ((a - 1) << 18) | ((b - 1) << 12) | ((c - 1) << 6) | (d - 1);
        bad |= !a | !b | !c | !d;
        out[0] = (unsigned char)(v >> 16);
        out[1] = (unsigned char)(v >> 8);
        out[2] = (unsigned char)v;
        out += 3;
    }
    rest = len - i;
    if (rest >= 2) {            /* 2 or 3 left: 1 or 2 bytes */
        unsigned a = b64url_values[s[i]], b = b64url_values[s[i + 1]];
        unsigned c = rest == 3 ? b64url_values[s[i + 2]] : 1;
        unsigned v = ((a - 1) << 18) | ((b - 1) << 12) | ((c - 1) << 6);
        bad |= !a | !b | !c;
        *out++ = (unsigned char)(v >> 16);
        if (rest == 3)
            *out++ = (unsigned char)(v >> 8);
    }
    return bad ? -1 : (long)(out - dst);
}

int k8ssa_jwt_numeric_date(json_object *v, int64_t *out)
{
    if (json_object_is_type(v, json_type_int)) {
        /* json-c saturates beyond int64: the range check catches that. */
        int64_t n = json_object_get_int64(v);
        if (n < 0 || n > K8SSA_JWT_MAX_EXP)
            return 0;
        *out = n;
        return 1;
    }
    if (json_object_is_type(v, json_type_double)) {
        double d = json_object_get_double(v);
        if (!isfinite(d) || d < 0 || d > (double)K8SSA_JWT_MAX_EXP)
            return 0;
        *out = (int64_t)floor(d);
        return 1;
    }
    return 0;
}

static int exp_of(json_object *payload, int64_t *exp)
{
    json_object *v;

    return json_object_is_type(payload, json_type_object)
        && json_object_object_get_ex(payload, "exp", &v) && k8ssa_jwt_numeric_date(v, exp);
}

static int is_base64url(const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++)
        if (b64url_value((unsigned char)s[i]) < 0)
            return 0;
    return 1;
}

int k8ssa_jwt_exp(const char *token, size_t len, int64_t *exp)
{
    const char *dot1, *dot2, *payload;
    size_t plen, declen;
    unsigned char *buf;
    long n;
    struct json_tokener *tok;
    json_object *obj;
    int found = 0;

    dot1 = memchr(token, '.', len);
    if (dot1 == NULL)
        return 0;
    payload = dot1 + 1;
    dot2 = memchr(payload, '.', len - (size_t)(payload - token));
    if (dot2 == NULL || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)) != NULL)
        return 0;
    plen = (size_t)(dot2 - payload);
    /* the exact decoded length: 3 bytes per 4 characters, 1 or 2 for a tail */
    declen = plen / 4 * 3 + (plen % 4 == 3 ? 2 : plen % 4 == 2 ? 1 : 0);
    if (plen == 0 || dot1 == token || declen > K8SSA_JWT_MAX_PAYLOAD
        || !is_base64url(token, (size_t)(dot1 - token))
        || !is_base64url(dot2 + 1, len - (size_t)(dot2 + 1 - token)))
        return 0;
    buf = malloc(declen + 3);
    if (buf == NULL)
        return 0;
    n = k8ssa_base64url_decode(payload, plen, buf);
    if (n > 0 && k8ssa_is_utf8_text((const char *)buf, (size_t)n)) {
        tok = json_tokener_new_ex(8);
        if (tok != NULL) {
            json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
            obj = k8ssa_json_tokener_parse(tok, (const char *)buf, (size_t)n);
            if (obj != NULL && json_tokener_get_error(tok) == json_tokener_success
                && json_tokener_get_parse_end(tok) == (size_t)n)
                found = exp_of(obj, exp);
            json_object_put(obj);
            json_tokener_free(tok);
        }
    }
    free(buf);
    return found;
}
