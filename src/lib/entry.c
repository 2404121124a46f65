/*
 * entry.c - cache entry codec.
 *
 * Layout (integers big-endian):
 *   u8 version | u8 kind | u8 flags (bit 0: positive) | i64 reviewed_at (us)
 *   | i64 token_exp (s; 0 for access decisions)
 *   positive token reviews only:
 *                  str username | str uid | u16 n, str groups[n]
 *                  | u16 n, { str key | u16 m, str values[m] }[n]
 *                  | u16 n, str audiences[n]
 *   | mac[32] = HMAC-SHA256(secret, "k8ssa-entry-v2" | key | everything before)
 * where str = u16 length | bytes.
 */
#include "entry.h"
#include "jwt.h"

#include "hmac.h"

#include <apr_strings.h>
#include <openssl/crypto.h>
#include <string.h>

#define MAC_CONTEXT "k8ssa-entry-v2"

typedef struct {
    unsigned char *buf;
    size_t cap, len;
    int overflow;
} writer;

static void put(writer *w, const void *data, size_t n)
{
    if (w->overflow || n > w->cap - w->len) {
        w->overflow = 1;
        return;
    }
    memcpy(w->buf + w->len, data, n);
    w->len += n;
}

static void put_u8(writer *w, unsigned v)
{
    unsigned char b = (unsigned char)v;
    put(w, &b, 1);
}

static void put_u16(writer *w, size_t v)
{
    unsigned char b[2] = { (unsigned char)(v >> 8), (unsigned char)v };
    if (v > 0xffff)
        w->overflow = 1;
    put(w, b, 2);
}

static void put_i64(writer *w, int64_t v)
{
    unsigned char b[8];
    uint64_t u = (uint64_t)v;
    int i;
    for (i = 7; i >= 0; i--, u >>= 8)
        b[i] = (unsigned char)(u & 0xff);
    put(w, b, 8);
}

static void put_str(writer *w, const char *s)
{
    size_t n = strlen(s);
    put_u16(w, n);
    put(w, s, n);
}

static int entry_mac(const k8ssa_hmac_key *keyed, const unsigned char key[K8SSA_TOKENKEY_LEN],
                     const unsigned char *data, size_t len,
                     unsigned char out[K8SSA_ENTRY_MAC_LEN])
{
    k8ssa_hmac h;
    int ok = keyed != NULL && k8ssa_hmac_begin(&h, keyed)
             && k8ssa_hmac_update(&h, MAC_CONTEXT, sizeof(MAC_CONTEXT))
             && k8ssa_hmac_update(&h, key, K8SSA_TOKENKEY_LEN)
             && k8ssa_hmac_update(&h, data, len);

    if (keyed != NULL)
        ok = k8ssa_hmac_end(&h, out) && ok;
    return ok;
}

k8ssa_entry_status k8ssa_entry_encode(const unsigned char *mac_secret, size_t secret_len,
                                      const unsigned char key[K8SSA_TOKENKEY_LEN],
                                      const k8ssa_entry *e, unsigned char *buf,
                                      size_t cap, size_t *len)
{
    k8ssa_hmac_key *keyed = k8ssa_hmac_key_new(mac_secret, secret_len);
    k8ssa_entry_status st = keyed != NULL
        ? k8ssa_entry_encode_keyed(keyed, key, e, buf, cap, len) : K8SSA_ENTRY_TOO_LARGE;

    k8ssa_hmac_key_free(keyed);
    return st;
}

k8ssa_entry_status k8ssa_entry_encode_keyed(const k8ssa_hmac_key *keyed,
                                            const unsigned char key[K8SSA_TOKENKEY_LEN],
                                            const k8ssa_entry *e, unsigned char *buf,
                                            size_t cap, size_t *len)
{
    writer w = { buf, cap < K8SSA_ENTRY_MAX ? cap : K8SSA_ENTRY_MAX, 0, 0 };
    const k8ssa_identity *id = e->id;
    size_t i, j;

    if (e->kind != K8SSA_ENTRY_TOKEN && e->kind != K8SSA_ENTRY_ACCESS)
        return K8SSA_ENTRY_MALFORMED;
    w.cap -= K8SSA_ENTRY_MAC_LEN;  /* room for the MAC */
    put_u8(&w, K8SSA_ENTRY_VERSION);
    put_u8(&w, (unsigned)e->kind);
    put_u8(&w, e->positive ? 1 : 0);
    put_i64(&w, (int64_t)e->reviewed_at);
    put_i64(&w, e->kind == K8SSA_ENTRY_TOKEN ? e->token_exp : 0);
    if (e->kind == K8SSA_ENTRY_TOKEN && e->positive) {
        put_str(&w, id->username);
        put_str(&w, id->uid ? id->uid : "");
        put_u16(&w, id->ngroups);
        for (i = 0; i < id->ngroups; i++)
            put_str(&w, id->groups[i]);
        put_u16(&w, id->nextra);
        for (i = 0; i < id->nextra; i++) {
            put_str(&w, id->extra[i].key);
            put_u16(&w, id->extra[i].nvalues);
            for (j = 0; j < id->extra[i].nvalues; j++)
                put_str(&w, id->extra[i].values[j]);
        }
        put_u16(&w, id->naudiences);
        for (i = 0; i < id->naudiences; i++)
            put_str(&w, id->audiences[i]);
    }
    if (w.overflow)
        return K8SSA_ENTRY_TOO_LARGE;
    if (!entry_mac(keyed, key, buf, w.len, buf + w.len))
        return K8SSA_ENTRY_TOO_LARGE;
    *len = w.len + K8SSA_ENTRY_MAC_LEN;
    return K8SSA_ENTRY_OK;
}

typedef struct {
    apr_pool_t *p;
    const unsigned char *buf;
    size_t len, pos;
    int bad;
} reader;

static const unsigned char *take(reader *r, size_t n)
{
    const unsigned char *at;

    if (r->bad || n > r->len - r->pos) {
        r->bad = 1;
        return NULL;
    }
    at = r->buf + r->pos;
    r->pos += n;
    return at;
}

static unsigned get_u8(reader *r)
{
    const unsigned char *b = take(r, 1);
    return b ? b[0] : 0;
}

static size_t get_u16(reader *r)
{
    const unsigned char *b = take(r, 2);
    return b ? ((size_t)b[0] << 8) | b[1] : 0;
}

static int64_t get_i64(reader *r)
{
    const unsigned char *b = take(r, 8);
    uint64_t u = 0;
    int i;

    if (b == NULL)
        return 0;
    for (i = 0; i < 8; i++)
        u = (u << 8) | b[i];
    return (int64_t)u;
}

/* What a string of an entry must be: the rules a TokenReview answer's
 * strings pass (an entry older than those rules may not). */
typedef enum {
    TEXT,            /* printable: audiences */
    VALUE,           /* k8ssa_identity_value_ok, not empty */
    VALUE_OR_EMPTY   /* the same, or empty: uid */
} str_rule;

static const char *get_str(reader *r, str_rule rule)
{
    size_t n = get_u16(r);
    const unsigned char *b;
    int ok;

    if (n > K8SSA_MAX_STRING) {
        r->bad = 1;
        return NULL;
    }
    b = take(r, n);
    ok = b != NULL && (rule == TEXT ? k8ssa_is_printable((const char *)b, n)
                                    : k8ssa_identity_value_ok((const char *)b, n,
                                                              rule == VALUE_OR_EMPTY));
    if (!ok) {
        r->bad = 1;
        return NULL;
    }
    return apr_pstrmemdup(r->p, (const char *)b, n);
}

/* A count followed by that many strings, each at most max. */
static const char **get_strs(reader *r, size_t max, str_rule rule, size_t *n)
{
    const char **v;
    size_t i;

    *n = get_u16(r);
    if (r->bad || *n > max) {
        r->bad = 1;
        return NULL;
    }
    v = apr_pcalloc(r->p, (*n + 1) * sizeof(*v));
    for (i = 0; i < *n && !r->bad; i++)
        v[i] = get_str(r, rule);
    return v;
}

static k8ssa_identity *get_identity(reader *r)
{
    k8ssa_identity *id = apr_pcalloc(r->p, sizeof(*id));
    size_t i;

    id->username = get_str(r, VALUE);
    id->uid = get_str(r, VALUE_OR_EMPTY);
    id->groups = get_strs(r, K8SSA_MAX_GROUPS, VALUE, &id->ngroups);
    id->nextra = get_u16(r);
    if (r->bad || id->nextra > K8SSA_MAX_EXTRA_KEYS) {
        r->bad = 1;
        return NULL;
    }
    id->extra = apr_pcalloc(r->p, (id->nextra + 1) * sizeof(*id->extra));
    for (i = 0; i < id->nextra && !r->bad; i++) {
        id->extra[i].key = get_str(r, VALUE);
        id->extra[i].values = get_strs(r, K8SSA_MAX_EXTRA_VALS, VALUE,
                                       &id->extra[i].nvalues);
    }
    id->audiences = get_strs(r, K8SSA_MAX_AUDIENCES, TEXT, &id->naudiences);
    if (r->bad || id->username == NULL || id->username[0] == '\0')
        return NULL;
    return id;
}

/* A failed decode leaves nothing a careless caller could use. */
static k8ssa_entry_status malformed(k8ssa_entry *out)
{
    memset(out, 0, sizeof(*out));
    return K8SSA_ENTRY_MALFORMED;
}

k8ssa_entry_status k8ssa_entry_decode(apr_pool_t *p, const unsigned char *mac_secret,
                                      size_t secret_len,
                                      const unsigned char key[K8SSA_TOKENKEY_LEN],
                                      k8ssa_entry_kind kind, const unsigned char *buf,
                                      size_t len, k8ssa_entry *out)
{
    k8ssa_hmac_key *keyed = k8ssa_hmac_key_new(mac_secret, secret_len);
    k8ssa_entry_status st = k8ssa_entry_decode_keyed(p, keyed, key, kind, buf, len, out);

    k8ssa_hmac_key_free(keyed);
    return st;
}

k8ssa_entry_status k8ssa_entry_decode_keyed(apr_pool_t *p, const k8ssa_hmac_key *keyed,
                                            const unsigned char key[K8SSA_TOKENKEY_LEN],
                                            k8ssa_entry_kind kind, const unsigned char *buf,
                                            size_t len, k8ssa_entry *out)
{
    unsigned char want[K8SSA_ENTRY_MAC_LEN];
    reader r;
    unsigned flags;

    memset(out, 0, sizeof(*out));
    if (len < K8SSA_ENTRY_MAC_LEN + 2 || len > K8SSA_ENTRY_MAX)
        return K8SSA_ENTRY_MALFORMED;
    /* Authenticity first: nothing of a forged entry is even parsed. */
    if (!entry_mac(keyed, key, buf, len - K8SSA_ENTRY_MAC_LEN, want)
        || CRYPTO_memcmp(want, buf + len - K8SSA_ENTRY_MAC_LEN, K8SSA_ENTRY_MAC_LEN) != 0)
        return K8SSA_ENTRY_FORGED;
    r.p = p;
    r.buf = buf;
    r.len = len - K8SSA_ENTRY_MAC_LEN;
    r.pos = 0;
    r.bad = 0;
    if (get_u8(&r) != K8SSA_ENTRY_VERSION)
        return K8SSA_ENTRY_BAD_VERSION;
    if (get_u8(&r) != (unsigned)kind)
        return K8SSA_ENTRY_WRONG_KIND;
    flags = get_u8(&r);
    out->reviewed_at = (apr_time_t)get_i64(&r);
    out->token_exp = get_i64(&r);
    /* Times stay within year 9999, so lifetime arithmetic cannot overflow. */
    if (r.bad || (flags & ~1u) != 0 || out->token_exp < 0
        || out->token_exp > K8SSA_JWT_MAX_EXP || out->reviewed_at < 0
        || out->reviewed_at > apr_time_from_sec(K8SSA_JWT_MAX_EXP))
        return malformed(out);
    if (kind == K8SSA_ENTRY_ACCESS && out->token_exp != 0)
        return malformed(out);
    out->kind = kind;
    out->positive = (int)(flags & 1u);
    if (kind == K8SSA_ENTRY_TOKEN && out->positive && (out->id = get_identity(&r)) == NULL)
        return malformed(out);
    if (r.bad || r.pos != r.len)
        return malformed(out);
    return K8SSA_ENTRY_OK;
}

const char *k8ssa_entry_status_reason(k8ssa_entry_status st)
{
    switch (st) {
    case K8SSA_ENTRY_OK:          return "ok";
    case K8SSA_ENTRY_TOO_LARGE:   return "identity too large to cache";
    case K8SSA_ENTRY_FORGED:
        return "entry does not verify (forged, corrupted or another secret)";
    case K8SSA_ENTRY_BAD_VERSION: return "entry of another format version";
    case K8SSA_ENTRY_WRONG_KIND:  return "entry of another kind (token review / access decision)";
    case K8SSA_ENTRY_MALFORMED:   return "entry is truncated or malformed";
    }
    return "unknown";
}
