/* jose.c - a compact JWS taken apart without trusting it (see jose.h). */
#include "jose.h"
#include "identity.h"
#include "json.h"
#include "jwt.h"

#include <apr_strings.h>
#include <string.h>

/* The longest string claim or header value kept (an issuer URL, a kid). */
#define MAX_STRING 1024

typedef struct {
    unsigned char *buf;
    size_t len;
} decoded_part;

/* The three parts re-encoded are the bearer token: they go when the pool is
 * cleared, as the module's other copies of a token do. */
static apr_status_t wipe_part(void *data)
{
    decoded_part *d = data;
    memset(d->buf, 0, d->len);
    return APR_SUCCESS;
}

/* Decodes s[0..len) into pool memory; NULL for anything but unpadded
 * base64url of at most max decoded bytes. */
static unsigned char *decode_part(apr_pool_t *p, const char *s, size_t len, size_t max,
                                  size_t *out_len)
{
    size_t declen = len / 4 * 3 + (len % 4 == 3 ? 2 : len % 4 == 2 ? 1 : 0);
    unsigned char *buf;
    long n;

    if (len % 4 == 1 || declen > max)
        return NULL;
    buf = apr_palloc(p, declen + 3);
    n = k8ssa_base64url_decode(s, len, buf);    /* it checks every character */
    if (n < 0) {
        memset(buf, 0, declen + 3);     /* it decodes the rest all the same */
        return NULL;
    }
    buf[n] = '\0';
    {
        decoded_part *d = apr_palloc(p, sizeof(*d));
        d->buf = buf;
        d->len = (size_t)n + 1;
        apr_pool_cleanup_register(p, d, wipe_part, apr_pool_cleanup_null);
    }
    *out_len = (size_t)n;
    return buf;
}

static json_object *parse_object(const unsigned char *buf, size_t len)
{
    const char *why = NULL;
    json_object *o;

    if (len == 0)
        return NULL;
    o = k8ssa_json_parse_strict((const char *)buf, len, K8SSA_JOSE_MAX_PART, &why);
    if (o != NULL && !json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        return NULL;
    }
    return o;
}

/* A printable string member, copied into p; NULL otherwise. */
static const char *string_member(apr_pool_t *p, json_object *o, const char *key)
{
    json_object *v;
    const char *s;
    size_t n;

    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    s = json_object_get_string(v);
    n = (size_t)json_object_get_string_len(v);
    if (n == 0 || n > MAX_STRING || strlen(s) != n || !k8ssa_is_printable(s, n))
        return NULL;
    return apr_pstrmemdup(p, s, n);
}

static int time_member(json_object *o, const char *key, int64_t *out)
{
    json_object *v;

    return json_object_object_get_ex(o, key, &v) && k8ssa_jwt_numeric_date(v, out);
}

/* aud: a string, or an array of strings (RFC 7519 section 4.1.3). Anything
 * else, one bad element included, leaves the claim absent. */
static void audience_member(apr_pool_t *p, json_object *o, k8ssa_jws *out)
{
    json_object *v;
    const char **list;
    size_t n, i;

    if (!json_object_object_get_ex(o, "aud", &v))
        return;
    if (json_object_is_type(v, json_type_string)) {
        const char *s = string_member(p, o, "aud");
        if (s == NULL)
            return;
        list = apr_palloc(p, sizeof(*list));
        list[0] = s;
        out->aud = list;
        out->naud = 1;
        out->has_aud = 1;
        return;
    }
    if (!json_object_is_type(v, json_type_array))
        return;
    n = json_object_array_length(v);
    if (n == 0 || n > K8SSA_JOSE_MAX_AUDIENCES)
        return;
    list = apr_palloc(p, n * sizeof(*list));
    for (i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(v, i);
        const char *s;
        size_t len;
        if (!json_object_is_type(e, json_type_string))
            return;
        s = json_object_get_string(e);
        len = (size_t)json_object_get_string_len(e);
        if (len == 0 || len > MAX_STRING || strlen(s) != len || !k8ssa_is_printable(s, len))
            return;
        list[i] = apr_pstrmemdup(p, s, len);
    }
    out->aud = list;
    out->naud = n;
    out->has_aud = 1;
}

k8ssa_jose_status k8ssa_jose_parse(apr_pool_t *p, const char *token, size_t len,
                                   k8ssa_jws *out)
{
    const char *dot1, *dot2;
    unsigned char *header, *payload, *sig;
    size_t hlen, plen, slen;
    json_object *claims, *hdr;

    memset(out, 0, sizeof(*out));
    dot1 = memchr(token, '.', len);
    if (dot1 == NULL || dot1 == token)
        return K8SSA_JOSE_NOT_JWT;
    dot2 = memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token));
    if (dot2 == NULL || dot2 == dot1 + 1
        || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)) != NULL)
        return K8SSA_JOSE_NOT_JWT;

    payload = decode_part(p, dot1 + 1, (size_t)(dot2 - dot1 - 1), K8SSA_JOSE_MAX_PART, &plen);
    header = decode_part(p, token, (size_t)(dot1 - token), K8SSA_JOSE_MAX_PART, &hlen);
    sig = decode_part(p, dot2 + 1, len - (size_t)(dot2 + 1 - token), K8SSA_JOSE_MAX_SIGNATURE,
                      &slen);
    if (payload == NULL || header == NULL || sig == NULL)
        return K8SSA_JOSE_NOT_JWT;
    claims = parse_object(payload, plen);
    if (claims == NULL)
        return K8SSA_JOSE_NOT_JWT;

    out->iss = string_member(p, claims, "iss");
    out->has_exp = time_member(claims, "exp", &out->exp);
    out->has_nbf = time_member(claims, "nbf", &out->nbf);
    audience_member(p, claims, out);
    json_object_put(claims);

    hdr = parse_object(header, hlen);
    if (hdr != NULL) {
        out->header_ok = 1;
        out->alg = string_member(p, hdr, "alg");
        out->kid = string_member(p, hdr, "kid");
        json_object_put(hdr);
    }
    out->signing_input = token;
    out->signing_input_len = (size_t)(dot2 - token);
    out->signature = sig;
    out->signature_len = slen;
    return K8SSA_JOSE_OK;
}
