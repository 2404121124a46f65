/* jwt.c - unverified exp of a JWT (see jwt.h). */
#include "jwt.h"
#include "identity.h"

#include <json-c/json.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int b64url_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

long k8ssa_base64url_decode(const char *src, size_t len, unsigned char *dst)
{
    unsigned long acc = 0;
    int bits = 0;
    long out = 0;
    size_t i;

    if (len % 4 == 1)  /* 6 bits cannot end a byte */
        return -1;
    for (i = 0; i < len; i++) {
        int v = b64url_value((unsigned char)src[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (unsigned long)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            dst[out++] = (unsigned char)((acc >> bits) & 0xff);
        }
    }
    return out;
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
            obj = json_tokener_parse_ex(tok, (const char *)buf, (int)n);
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
