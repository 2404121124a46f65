/* Unit tests of src/lib/entry.c: the cache entry codec and its MAC. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "unit.h"

#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>

#include "entry.h"
#include "jwt.h"
#include "hmac.h"
#include "identity.h"

static const unsigned char secret[32] = "0123456789abcdef0123456789abcdef";
static const unsigned char secret2[32] = "0123456789abcdef0123456789abcdeX";
static unsigned char key[K8SSA_TOKENKEY_LEN];
static unsigned char key2[K8SSA_TOKENKEY_LEN];

#define REVIEWED_AT ((apr_time_t)1799996400 * APR_USEC_PER_SEC + 123456)
#define TOKEN_EXP INT64_C(1800000000)

static int keys_setup(void **state)
{
    size_t i;
    for (i = 0; i < K8SSA_TOKENKEY_LEN; i++) {
        key[i] = (unsigned char)(0x40 + i);
        key2[i] = (unsigned char)(0x40 + i);
    }
    key2[K8SSA_TOKENKEY_LEN - 1] ^= 1;
    return group_setup(state);
}

/* --- identities --- */

static const char *full_groups[] = { "system:serviceaccounts", "system:serviceaccounts:team-a",
                                     "system:authenticated", "d\xc3\xa9veloppeurs" };
static const char *extra0_vals[] = { "builder-7c9f", "b" };
static const char *extra1_vals[] = { "0f0e-11", "x y", "\xe2\x82\xac" };
static const char *extra2_vals[] = { "only" };
static k8ssa_extra full_extra[] = {
    { "authentication.kubernetes.io/pod-name", extra0_vals, 2 },
    { "authentication.kubernetes.io/pod-uid", extra1_vals, 3 },
    { "empty-values", NULL, 0 },
    { "k", extra2_vals, 1 },
};
static const char *full_auds[] = { "https://kubernetes.default.svc", "api" };

static const k8ssa_identity full_id = {
    "system:serviceaccount:team-a:builder",
    "9a8b-22cc-44dd",
    full_groups, 4,
    full_extra, 4,
    full_auds, 2,
};

static const k8ssa_identity minimal_id = { "u", "", NULL, 0, NULL, 0, NULL, 0 };

static k8ssa_entry positive(const k8ssa_identity *id)
{
    k8ssa_entry e = { 1, REVIEWED_AT, TOKEN_EXP, id, K8SSA_ENTRY_TOKEN };
    return e;
}

static k8ssa_entry negative(void)
{
    k8ssa_entry e = { 0, REVIEWED_AT, 0, NULL, K8SSA_ENTRY_TOKEN };
    return e;
}

static void assert_strs_equal(const char *const *a, size_t na, const char *const *b, size_t nb)
{
    size_t i;
    assert_int_equal(na, nb);
    for (i = 0; i < na; i++)
        assert_string_equal(a[i], b[i]);
}

static void assert_ids_equal(const k8ssa_identity *a, const k8ssa_identity *b)
{
    size_t i;
    assert_non_null(a);
    assert_non_null(b);
    assert_string_equal(a->username, b->username);
    assert_string_equal(a->uid ? a->uid : "", b->uid ? b->uid : "");
    assert_strs_equal(a->groups, a->ngroups, b->groups, b->ngroups);
    assert_int_equal(a->nextra, b->nextra);
    for (i = 0; i < a->nextra; i++) {
        assert_string_equal(a->extra[i].key, b->extra[i].key);
        assert_strs_equal(a->extra[i].values, a->extra[i].nvalues, b->extra[i].values,
                          b->extra[i].nvalues);
    }
    assert_strs_equal(a->audiences, a->naudiences, b->audiences, b->naudiences);
}

static void assert_entries_equal(const k8ssa_entry *a, const k8ssa_entry *b)
{
    assert_int_equal(a->positive, b->positive);
    assert_int_equal(a->reviewed_at, b->reviewed_at);
    assert_int_equal(a->token_exp, b->token_exp);
    if (a->positive)
        assert_ids_equal(a->id, b->id);
    else
        assert_null(b->id);
}

static size_t encode(const k8ssa_entry *e, unsigned char *buf)
{
    size_t len = 0;
    assert_int_equal(k8ssa_entry_encode(secret, sizeof(secret), key, e, buf, K8SSA_ENTRY_MAX, &len),
                     K8SSA_ENTRY_OK);
    assert_true(len > K8SSA_ENTRY_MAC_LEN);
    assert_true(len <= K8SSA_ENTRY_MAX);
    return len;
}

/* Decodes an exact-size heap copy (ASan sees any read past len). */
static k8ssa_entry_status decode_with(apr_pool_t *p, const unsigned char *sec, size_t seclen,
                                      const unsigned char *k, const unsigned char *buf, size_t len,
                                      k8ssa_entry *out)
{
    unsigned char *copy = malloc(len ? len : 1);
    k8ssa_entry_status st;

    assert_non_null(copy);
    if (len)
        memcpy(copy, buf, len);
    st = k8ssa_entry_decode(p, sec, seclen, k, K8SSA_ENTRY_TOKEN, copy, len, out);
    free(copy);
    return st;
}

static k8ssa_entry_status decode(apr_pool_t *p, const unsigned char *buf, size_t len,
                                 k8ssa_entry *out)
{
    return decode_with(p, secret, sizeof(secret), key, buf, len, out);
}

/* --- round trips --- */

static void roundtrip(apr_pool_t *p, const k8ssa_entry *e)
{
    unsigned char buf[K8SSA_ENTRY_MAX], buf2[K8SSA_ENTRY_MAX];
    size_t len = encode(e, buf), len2;
    k8ssa_entry out;

    assert_int_equal(decode(p, buf, len, &out), K8SSA_ENTRY_OK);
    assert_entries_equal(e, &out);
    /* the encoding is canonical: re-encoding the decoded entry gives the same bytes */
    len2 = encode(&out, buf2);
    assert_int_equal(len, len2);
    assert_memory_equal(buf, buf2, len);
}

static void test_roundtrip_full(void **state)
{
    k8ssa_entry e = positive(&full_id);
    roundtrip(*state, &e);
}

static void test_roundtrip_minimal(void **state)
{
    k8ssa_entry e = positive(&minimal_id);
    k8ssa_identity nouid = minimal_id;
    unsigned char buf[K8SSA_ENTRY_MAX];
    k8ssa_entry out;
    size_t len;

    roundtrip(*state, &e);
    /* no token exp, reviewed at 0 */
    e.token_exp = 0;
    e.reviewed_at = 0;
    roundtrip(*state, &e);
    /* a NULL uid is encoded as "" */
    nouid.uid = NULL;
    e.id = &nouid;
    len = encode(&e, buf);
    assert_int_equal(decode(*state, buf, len, &out), K8SSA_ENTRY_OK);
    assert_non_null(out.id->uid);
    assert_string_equal(out.id->uid, "");
    assert_int_equal(out.id->ngroups, 0);
    assert_int_equal(out.id->nextra, 0);
    assert_int_equal(out.id->naudiences, 0);
    /* minimal layout: 18 header bytes, username "u", uid "", three zero counts, MAC */
    assert_int_equal(len, 19 + 3 + 2 + 2 + 2 + 2 + K8SSA_ENTRY_MAC_LEN);
}

static void test_roundtrip_negative(void **state)
{
    k8ssa_entry e = negative();
    unsigned char buf[K8SSA_ENTRY_MAX];
    size_t len;

    roundtrip(*state, &e);
    e.token_exp = TOKEN_EXP;
    e.reviewed_at = 5;
    roundtrip(*state, &e);
    /* a negative entry carries no identity, even if one is passed */
    e.id = &full_id;
    len = encode(&e, buf);
    assert_int_equal(len, 19 + K8SSA_ENTRY_MAC_LEN);
}

static void test_authenticated_is_boolean(void **state)
{
    k8ssa_entry e = positive(&minimal_id), out;
    unsigned char buf[K8SSA_ENTRY_MAX];
    size_t len;

    e.positive = 42;
    len = encode(&e, buf);
    assert_int_equal(decode(*state, buf, len, &out), K8SSA_ENTRY_OK);
    assert_int_equal(out.positive, 1);
}

/* --- the MAC --- */

static void test_mac_binds_key_and_secret(void **state)
{
    k8ssa_entry e = positive(&full_id), out;
    unsigned char buf[K8SSA_ENTRY_MAX], other[K8SSA_TOKENKEY_LEN];
    size_t len = encode(&e, buf), i;
    apr_pool_t *p = *state;

    assert_int_equal(decode_with(p, secret, 32, key2, buf, len, &out), K8SSA_ENTRY_FORGED);
    assert_int_equal(decode_with(p, secret2, 32, key, buf, len, &out), K8SSA_ENTRY_FORGED);
    assert_int_equal(decode_with(p, secret, 31, key, buf, len, &out), K8SSA_ENTRY_FORGED);
    /* every bit of the key matters */
    for (i = 0; i < K8SSA_TOKENKEY_LEN * 8; i++) {
        memcpy(other, key, sizeof(other));
        other[i / 8] ^= (unsigned char)(1u << (i % 8));
        assert_int_equal(decode_with(p, secret, 32, other, buf, len, &out), K8SSA_ENTRY_FORGED);
    }
    /* a forged entry yields nothing */
    assert_int_equal(out.positive, 0);
    assert_null(out.id);
    /* negative entries too */
    e = negative();
    len = encode(&e, buf);
    assert_int_equal(decode_with(p, secret, 32, key2, buf, len, &out), K8SSA_ENTRY_FORGED);
    assert_int_equal(decode_with(p, secret2, 32, key, buf, len, &out), K8SSA_ENTRY_FORGED);
}

/* The keyed forms (the module's) and the per-call ones make and accept the
 * same bytes; a keyed secret binds like the raw one; NULL keys nothing. */
static void test_keyed_forms_agree(void **state)
{
    k8ssa_entry e = positive(&full_id), out;
    unsigned char buf[K8SSA_ENTRY_MAX], kbuf[K8SSA_ENTRY_MAX];
    size_t len = encode(&e, buf), klen = 0;
    k8ssa_hmac_key *keyed = k8ssa_hmac_key_new(secret, sizeof(secret));
    k8ssa_hmac_key *other = k8ssa_hmac_key_new(secret2, 32);
    apr_pool_t *p = *state;

    assert_non_null(keyed);
    assert_non_null(other);
    assert_int_equal(k8ssa_entry_encode_keyed(keyed, key, &e, kbuf, K8SSA_ENTRY_MAX, &klen),
                     K8SSA_ENTRY_OK);
    assert_int_equal(klen, len);
    assert_memory_equal(kbuf, buf, len);
    assert_int_equal(k8ssa_entry_decode_keyed(p, keyed, key, K8SSA_ENTRY_TOKEN, buf, len, &out),
                     K8SSA_ENTRY_OK);
    assert_entries_equal(&e, &out);
    assert_int_equal(k8ssa_entry_decode_keyed(p, other, key, K8SSA_ENTRY_TOKEN, buf, len, &out),
                     K8SSA_ENTRY_FORGED);
    assert_null(out.id);
    assert_int_equal(k8ssa_entry_decode_keyed(p, keyed, key2, K8SSA_ENTRY_TOKEN, buf, len, &out),
                     K8SSA_ENTRY_FORGED);
    assert_int_equal(k8ssa_entry_decode_keyed(p, NULL, key, K8SSA_ENTRY_TOKEN, buf, len, &out),
                     K8SSA_ENTRY_FORGED);
    assert_int_equal(k8ssa_entry_encode_keyed(NULL, key, &e, kbuf, K8SSA_ENTRY_MAX, &klen),
                     K8SSA_ENTRY_TOO_LARGE);
    k8ssa_hmac_key_free(keyed);
    k8ssa_hmac_key_free(other);
}

/* entry.c: HMAC-SHA256(secret, "k8ssa-entry-v2\0" | key | body), appended. */
static void sign(const unsigned char *sec, size_t seclen, const unsigned char *k,
                 const unsigned char *body, size_t n, unsigned char mac[K8SSA_ENTRY_MAC_LEN])
{
    k8ssa_hmac_key *keyed = k8ssa_hmac_key_new(sec, seclen);
    k8ssa_hmac h;
    assert_true(k8ssa_hmac_begin(&h, keyed));
    assert_true(k8ssa_hmac_update(&h, "k8ssa-entry-v2", 15));
    assert_true(k8ssa_hmac_update(&h, k, K8SSA_TOKENKEY_LEN));
    assert_true(k8ssa_hmac_update(&h, body, n));
    assert_true(k8ssa_hmac_end(&h, mac));
    k8ssa_hmac_key_free(keyed);
}

static void test_mac_definition(void **state)
{
    k8ssa_entry e = positive(&full_id);
    unsigned char buf[K8SSA_ENTRY_MAX], mac[K8SSA_ENTRY_MAC_LEN];
    size_t len = encode(&e, buf);
    (void)state;
    sign(secret, 32, key, buf, len - K8SSA_ENTRY_MAC_LEN, mac);
    assert_memory_equal(mac, buf + len - K8SSA_ENTRY_MAC_LEN, K8SSA_ENTRY_MAC_LEN);
}

static void test_truncation_every_offset(void **state)
{
    k8ssa_entry e = positive(&full_id), out;
    unsigned char buf[K8SSA_ENTRY_MAX];
    size_t len, i;
    int pass;

    for (pass = 0; pass < 2; pass++) {
        if (pass == 1)
            e = negative();
        len = encode(&e, buf);
        for (i = 0; i < len; i++) {
            k8ssa_entry_status st = decode(*state, buf, i, &out);
            if (st != K8SSA_ENTRY_FORGED && st != K8SSA_ENTRY_MALFORMED)
                print_error("truncated to %zu of %zu: %s\n", i, len, k8ssa_entry_status_reason(st));
            assert_true(st == K8SSA_ENTRY_FORGED || st == K8SSA_ENTRY_MALFORMED);
            assert_null(out.id);
        }
        /* and extended by a byte */
        buf[len] = 0;
        assert_int_not_equal(decode(*state, buf, len + 1, &out), K8SSA_ENTRY_OK);
    }
}

static void test_bit_flips(void **state)
{
    k8ssa_entry e = positive(&full_id), out;
    unsigned char buf[K8SSA_ENTRY_MAX];
    size_t len, i;
    int bit, pass;

    for (pass = 0; pass < 2; pass++) {
        if (pass == 1)
            e = negative();
        len = encode(&e, buf);
        for (i = 0; i < len; i++)
            for (bit = 0; bit < 8; bit++) {
                k8ssa_entry_status st;
                buf[i] ^= (unsigned char)(1u << bit);
                st = decode(*state, buf, len, &out);
                buf[i] ^= (unsigned char)(1u << bit);
                if (st != K8SSA_ENTRY_FORGED)
                    print_error("byte %zu bit %d: %s\n", i, bit, k8ssa_entry_status_reason(st));
                assert_int_equal(st, K8SSA_ENTRY_FORGED);
            }
        assert_int_equal(decode(*state, buf, len, &out), K8SSA_ENTRY_OK);
    }
}

static void test_short_and_long_buffers(void **state)
{
    unsigned char *big = calloc(1, K8SSA_ENTRY_MAX + 64);
    k8ssa_entry out;
    size_t body = K8SSA_ENTRY_MAX + 1 - K8SSA_ENTRY_MAC_LEN;

    assert_non_null(big);
    assert_int_equal(decode(*state, big, 0, &out), K8SSA_ENTRY_MALFORMED);
    assert_int_equal(decode(*state, big, 1, &out), K8SSA_ENTRY_MALFORMED);
    assert_int_equal(decode(*state, big, K8SSA_ENTRY_MAC_LEN, &out), K8SSA_ENTRY_MALFORMED);
    /* over K8SSA_ENTRY_MAX, even with a valid MAC */
    sign(secret, 32, key, big, body, big + body);
    assert_int_equal(decode(*state, big, K8SSA_ENTRY_MAX + 1, &out), K8SSA_ENTRY_MALFORMED);
    free(big);
}

/* --- hostile authenticated content: crafted bodies with a valid MAC --- */

typedef struct {
    unsigned char buf[K8SSA_ENTRY_MAX * 2];
    size_t len;
} body;

static void b_u8(body *b, unsigned v)
{
    assert_true(b->len + 1 <= sizeof(b->buf));
    b->buf[b->len++] = (unsigned char)v;
}

static void b_u16(body *b, unsigned v)
{
    b_u8(b, (v >> 8) & 0xff);
    b_u8(b, v & 0xff);
}

static void b_i64(body *b, int64_t v)
{
    uint64_t u = (uint64_t)v;
    int i;
    for (i = 7; i >= 0; i--)
        b_u8(b, (unsigned)((u >> (8 * i)) & 0xff));
}

static void b_bytes(body *b, const void *s, size_t n)
{
    assert_true(b->len + n <= sizeof(b->buf));
    memcpy(b->buf + b->len, s, n);
    b->len += n;
}

static void b_strn(body *b, const char *s, size_t n)
{
    b_u16(b, (unsigned)n);
    b_bytes(b, s, n);
}

static void b_str(body *b, const char *s)
{
    b_strn(b, s, strlen(s));
}

static void b_head(body *b, unsigned version, unsigned flags, int64_t exp)
{
    b->len = 0;
    b_u8(b, version);
    b_u8(b, K8SSA_ENTRY_TOKEN);
    b_u8(b, flags);
    b_i64(b, REVIEWED_AT);
    b_i64(b, exp);
}

/* Signs b with the test secret and key, decodes it. */
static k8ssa_entry_status decode_signed(apr_pool_t *p, body *b, k8ssa_entry *out)
{
    assert_true(b->len + K8SSA_ENTRY_MAC_LEN <= sizeof(b->buf));
    sign(secret, 32, key, b->buf, b->len, b->buf + b->len);
    return decode(p, b->buf, b->len + K8SSA_ENTRY_MAC_LEN, out);
}

static void expect_signed(apr_pool_t *p, body *b, k8ssa_entry_status want, const char *what)
{
    k8ssa_entry out;
    k8ssa_entry_status st = decode_signed(p, b, &out);
    if (st != want)
        print_error("%s: got \"%s\", want \"%s\"\n", what, k8ssa_entry_status_reason(st),
                    k8ssa_entry_status_reason(want));
    assert_int_equal(st, want);
}

/*
 * A positive body with one field replaced. `which` selects the field that gets
 * the string s[0..n): 0 username, 1 uid, 2 group, 3 extra key, 4 extra value,
 * 5 audience.
 */
static void b_positive_with(body *b, int which, const char *s, size_t n)
{
    b_head(b, K8SSA_ENTRY_VERSION, 1, TOKEN_EXP);
    if (which == 0) b_strn(b, s, n); else b_str(b, "user");
    if (which == 1) b_strn(b, s, n); else b_str(b, "uid");
    b_u16(b, 2);
    b_str(b, "g0");
    if (which == 2) b_strn(b, s, n); else b_str(b, "g1");
    b_u16(b, 1);
    if (which == 3) b_strn(b, s, n); else b_str(b, "k");
    b_u16(b, 2);
    b_str(b, "v0");
    if (which == 4) b_strn(b, s, n); else b_str(b, "v1");
    b_u16(b, 1);
    if (which == 5) b_strn(b, s, n); else b_str(b, "aud");
}

static void test_crafted_valid(void **state)
{
    body *b = malloc(sizeof(*b));
    k8ssa_entry out;
    int which;

    assert_non_null(b);
    /* the crafted layout is what the encoder writes */
    for (which = 0; which < 6; which++) {
        b_positive_with(b, which, "s\xc3\xa9", 3);
        assert_int_equal(decode_signed(*state, b, &out), K8SSA_ENTRY_OK);
        assert_int_equal(out.positive, 1);
        assert_int_equal(out.reviewed_at, REVIEWED_AT);
        assert_int_equal(out.token_exp, TOKEN_EXP);
        assert_int_equal(out.id->ngroups, 2);
        assert_int_equal(out.id->nextra, 1);
        assert_int_equal(out.id->extra[0].nvalues, 2);
        assert_int_equal(out.id->naudiences, 1);
    }
    assert_string_equal(out.id->audiences[0], "s\xc3\xa9");
    b_head(b, K8SSA_ENTRY_VERSION, 0, 0);
    expect_signed(*state, b, K8SSA_ENTRY_OK, "negative");
    free(b);
}

static void test_crafted_bad_version(void **state)
{
    static const unsigned versions[] = { 0, 1, 3, 0x7f, 0x80, 0xff };
    body *b = malloc(sizeof(*b));
    size_t i;

    assert_non_null(b);
    for (i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
        b_head(b, versions[i], 0, 0);
        expect_signed(*state, b, K8SSA_ENTRY_BAD_VERSION, "negative of another version");
        b_positive_with(b, -1, "", 0);
        b->buf[0] = (unsigned char)versions[i];
        expect_signed(*state, b, K8SSA_ENTRY_BAD_VERSION, "positive of another version");
        /* a newer version may be laid out any way: two bytes */
        b->len = 2;
        expect_signed(*state, b, K8SSA_ENTRY_BAD_VERSION, "version and kind only");
    }
    free(b);
}

static void test_crafted_flags(void **state)
{
    static const unsigned flags[] = { 2, 3, 4, 0x80, 0x81, 0xfe, 0xff };
    body *b = malloc(sizeof(*b));
    size_t i;

    assert_non_null(b);
    for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        b_head(b, K8SSA_ENTRY_VERSION, flags[i], 0);
        expect_signed(*state, b, K8SSA_ENTRY_MALFORMED, "unknown flags, negative layout");
        b_positive_with(b, -1, "", 0);
        b->buf[2] = (unsigned char)flags[i];
        expect_signed(*state, b, K8SSA_ENTRY_MALFORMED, "unknown flags, positive layout");
    }
    free(b);
}

static void test_crafted_token_exp(void **state)
{
    body *b = malloc(sizeof(*b));
    assert_non_null(b);
    b_head(b, K8SSA_ENTRY_VERSION, 0, -1);
    expect_signed(*state, b, K8SSA_ENTRY_MALFORMED, "negative exp -1");
    b_head(b, K8SSA_ENTRY_VERSION, 0, INT64_MIN);
    expect_signed(*state, b, K8SSA_ENTRY_MALFORMED, "negative exp INT64_MIN");
    b_positive_with(b, -1, "", 0);
    b->buf[11] = 0x80;   /* token_exp's top byte: negative */
    expect_signed(*state, b, K8SSA_ENTRY_MALFORMED, "positive, negative exp");
    b_head(b, K8SSA_ENTRY_VERSION, 0, 0);
    expect_signed(*state, b, K8SSA_ENTRY_OK, "exp 0");
    /* times past year 9999 would overflow the lifetime arithmetic */
    b_head(b, K8SSA_ENTRY_VERSION, 0, K8SSA_JWT_MAX_EXP);
    expect_signed(*state, b, K8SSA_ENTRY_OK, "exp at the limit");
    b_head(b, K8SSA_ENTRY_VERSION, 0, K8SSA_JWT_MAX_EXP + 1);
    expect_signed(*state, b, K8SSA_ENTRY_MALFORMED, "exp past the limit");
    b_head(b, K8SSA_ENTRY_VERSION, 0, INT64_MAX);
    expect_signed(*state, b, K8SSA_ENTRY_MALFORMED, "exp INT64_MAX");
    b_head(b, K8SSA_ENTRY_VERSION, 0, 0);
    b->buf[3] = 0x80;    /* reviewed_at's top byte: negative */
    expect_signed(*state, b, K8SSA_ENTRY_MALFORMED, "negative reviewed_at");
    b_head(b, K8SSA_ENTRY_VERSION, 0, 0);
    b->buf[3] = 0x7f;    /* reviewed_at far past year 9999 */
    expect_signed(*state, b, K8SSA_ENTRY_MALFORMED, "reviewed_at past the limit");
    free(b);
}

static void test_crafted_truncated_head(void **state)
{
    body *b = malloc(sizeof(*b));
    size_t n;

    assert_non_null(b);
    /* a body shorter than the fixed head, validly signed: 2..17 bytes */
    for (n = 2; n < 18; n++) {
        b_head(b, K8SSA_ENTRY_VERSION, 0, 0);
        b->len = n;
        expect_signed(*state, b, K8SSA_ENTRY_MALFORMED, "short head");
    }
    /* a positive entry cut anywhere inside its identity */
    b_positive_with(b, -1, "", 0);
    for (n = 18; n < b->len; n++) {
        body *c = malloc(sizeof(*c));
        assert_non_null(c);
        memcpy(c->buf, b->buf, n);
        c->len = n;
        expect_signed(*state, c, K8SSA_ENTRY_MALFORMED, "positive cut short");
        free(c);
    }
    free(b);
}

static void test_crafted_trailing_bytes(void **state)
{
    body *b = malloc(sizeof(*b));
    assert_non_null(b);
    b_head(b, K8SSA_ENTRY_VERSION, 0, 0);
    b_u8(b, 0);
    expect_signed(*state, b, K8SSA_ENTRY_MALFORMED, "negative + 1 byte");
    /* a negative entry followed by a whole identity */
    b_head(b, K8SSA_ENTRY_VERSION, 0, 0);
    b_str(b, "user");
    b_str(b, "");
    b_u16(b, 0);
    b_u16(b, 0);
    b_u16(b, 0);
    expect_signed(*state, b, K8SSA_ENTRY_MALFORMED, "negative + identity");
    b_positive_with(b, -1, "", 0);
    b_u8(b, 0);
    expect_signed(*state, b, K8SSA_ENTRY_MALFORMED, "positive + 1 byte");
    b_positive_with(b, -1, "", 0);
    b_bytes(b, "\0\0\0\0\0\0\0\0", 8);
    expect_signed(*state, b, K8SSA_ENTRY_MALFORMED, "positive + 8 zero bytes");
    free(b);
}

static void test_crafted_empty_username(void **state)
{
    body *b = malloc(sizeof(*b));
    assert_non_null(b);
    b_positive_with(b, 0, "", 0);
    expect_signed(*state, b, K8SSA_ENTRY_MALFORMED, "empty username");
    /* an empty uid or audience is fine; an empty group, extra key or extra
     * value would be a header field the backend cannot tell from none */
    for (int which = 1; which < 6; which++) {
        b_positive_with(b, which, "", 0);
        expect_signed(*state, b, which == 1 || which == 5 ? K8SSA_ENTRY_OK
                                                          : K8SSA_ENTRY_MALFORMED,
                      "empty non-username string");
    }
    free(b);
}

/* An identity value with surrounding whitespace would become another value
 * once a backend trims it (" system:masters"): the rules of TokenReview
 * answers hold for entries too (older entries may predate them). */
static void test_crafted_space_padded_values(void **state)
{
    static const char *const padded[] = {
        " a", "a ", " ", "\xc2\xa0" "a", "a\xc2\xa0", "\xe2\x80\x80" "a", "a\xe2\x80\x8a",
        "\xe2\x80\xa8" "a", "a\xe2\x80\xa9", "\xe2\x80\xaf" "a", "a\xe2\x81\x9f",
        "\xe3\x80\x80" "a", "a\xe1\x9a\x80",
    };
    static const char *const fine[] = { "a b", "a\xc2\xa0" "b", "\xe2\x80\x8bzero-width" };
    body *b = malloc(sizeof(*b));
    size_t i;

    assert_non_null(b);
    for (int which = 0; which < 6; which++) {
        for (i = 0; i < sizeof(padded) / sizeof(padded[0]); i++) {
            b_positive_with(b, which, padded[i], strlen(padded[i]));
            /* audiences are never exported: printable is enough */
            expect_signed(*state, b, which == 5 ? K8SSA_ENTRY_OK : K8SSA_ENTRY_MALFORMED,
                          padded[i]);
        }
        for (i = 0; i < sizeof(fine) / sizeof(fine[0]); i++) {
            b_positive_with(b, which, fine[i], strlen(fine[i]));
            expect_signed(*state, b, K8SSA_ENTRY_OK, fine[i]);
        }
    }
    free(b);
}

static void test_crafted_bad_strings(void **state)
{
    static const struct { const char *s; size_t n; } bad[] = {
        { "\0", 1 }, { "a\0b", 3 }, { "\x01", 1 }, { "a\nb", 3 }, { "a\rb", 3 },
        { "\t", 1 }, { "\x1b[31m", 5 }, { "\x7f", 1 }, { "\xc2\x85", 2 }, { "\xc2\x9f", 2 },
        { "\xff", 1 }, { "\x80", 1 }, { "\xc0\xaf", 2 }, { "\xe0\x80\xaf", 3 },
        { "\xed\xa0\x80", 3 }, { "\xf4\x90\x80\x80", 4 }, { "\xe2\x82", 2 },
        { "ok\xc3", 3 }, { "\xf8\x88\x80\x80\x80", 5 },
    };
    body *b = malloc(sizeof(*b));
    size_t i;
    int which;

    assert_non_null(b);
    for (which = 0; which < 6; which++)
        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            b_positive_with(b, which, bad[i].s, bad[i].n);
            if (decode_signed(*state, b, &(k8ssa_entry){ 0 }) != K8SSA_ENTRY_MALFORMED)
                print_error("field %d, bad string #%zu\n", which, i);
            expect_signed(*state, b, K8SSA_ENTRY_MALFORMED, "bad string");
        }
    free(b);
}

static void test_crafted_string_lengths(void **state)
{
    body *b = malloc(sizeof(*b));
    char *s = malloc(K8SSA_MAX_STRING + 2);
    int which;

    assert_non_null(b);
    assert_non_null(s);
    memset(s, 'x', K8SSA_MAX_STRING + 1);
    for (which = 0; which < 6; which++) {
        b_positive_with(b, which, s, K8SSA_MAX_STRING);
        expect_signed(*state, b, K8SSA_ENTRY_OK, "string at K8SSA_MAX_STRING");
        b_positive_with(b, which, s, K8SSA_MAX_STRING + 1);
        expect_signed(*state, b, K8SSA_ENTRY_MALFORMED, "string over K8SSA_MAX_STRING");
    }
    /* a length running past the end of the body */
    b_head(b, K8SSA_ENTRY_VERSION, 1, 0);
    b_u16(b, 100);
    b_bytes(b, "only ten b", 10);
    expect_signed(*state, b, K8SSA_ENTRY_MALFORMED, "length past the end");
    b_head(b, K8SSA_ENTRY_VERSION, 1, 0);
    b_u16(b, 0xffff);
    b_bytes(b, s, 64);
    expect_signed(*state, b, K8SSA_ENTRY_MALFORMED, "length 0xffff");
    /* a length of 1 cut after its first byte (half a u16) */
    b_head(b, K8SSA_ENTRY_VERSION, 1, 0);
    b_u8(b, 0);
    expect_signed(*state, b, K8SSA_ENTRY_MALFORMED, "half a length");
    /* the length of the last audience running into the MAC */
    b_positive_with(b, -1, "", 0);
    b->buf[b->len - 5] = 0;
    b->buf[b->len - 4] = 3 + K8SSA_ENTRY_MAC_LEN;   /* "aud" length now covers the MAC */
    expect_signed(*state, b, K8SSA_ENTRY_MALFORMED, "string into the MAC");
    free(s);
    free(b);
}

/*
 * A positive body whose list `which` (0 groups, 1 extra keys, 2 values of one
 * key, 3 audiences) announces `count` entries and carries `present` of them.
 */
static void b_positive_counts(body *b, int which, unsigned count, unsigned present)
{
    unsigned i;
    b_head(b, K8SSA_ENTRY_VERSION, 1, 0);
    b_str(b, "user");
    b_str(b, "");
    b_u16(b, which == 0 ? count : 0);
    if (which == 0)
        for (i = 0; i < present; i++)
            b_str(b, "g");
    if (which == 1) {
        b_u16(b, count);
        for (i = 0; i < present; i++) {
            b_str(b, "k");
            b_u16(b, 0);
        }
    } else if (which == 2) {
        b_u16(b, 1);
        b_str(b, "k");
        b_u16(b, count);
        for (i = 0; i < present; i++)
            b_str(b, "v");
    } else {
        b_u16(b, 0);
    }
    b_u16(b, which == 3 ? count : 0);
    if (which == 3)
        for (i = 0; i < present; i++)
            b_str(b, "a");
}

static void test_crafted_counts(void **state)
{
    static const unsigned limit[] = { K8SSA_MAX_GROUPS, K8SSA_MAX_EXTRA_KEYS,
                                      K8SSA_MAX_EXTRA_VALS, K8SSA_MAX_AUDIENCES };
    body *b = malloc(sizeof(*b));
    int which;

    assert_non_null(b);
    for (which = 0; which < 4; which++) {
        unsigned max = limit[which];
        b_positive_counts(b, which, max, max);
        expect_signed(*state, b, K8SSA_ENTRY_OK, "count at the limit");
        b_positive_counts(b, which, max + 1, max + 1);
        expect_signed(*state, b, K8SSA_ENTRY_MALFORMED, "count over the limit");
        b_positive_counts(b, which, 0xffff, 0);
        expect_signed(*state, b, K8SSA_ENTRY_MALFORMED, "count 0xffff, nothing follows");
        b_positive_counts(b, which, 0xffff, max);
        expect_signed(*state, b, K8SSA_ENTRY_MALFORMED, "count 0xffff");
        b_positive_counts(b, which, 2, 1);
        expect_signed(*state, b, K8SSA_ENTRY_MALFORMED, "count larger than present");
        b_positive_counts(b, which, 1, 2);
        expect_signed(*state, b, K8SSA_ENTRY_MALFORMED, "count smaller than present");
    }
    free(b);
}

/* --- sizes --- */

static void test_too_large(void **state)
{
    k8ssa_identity id = minimal_id;
    const char **groups = malloc(200 * sizeof(*groups));
    char *g = malloc(201);
    unsigned char *buf = malloc(K8SSA_ENTRY_MAX);
    k8ssa_entry e;
    size_t len = 12345, i;
    (void)state;

    assert_non_null(groups);
    assert_non_null(g);
    assert_non_null(buf);
    memset(g, 'g', 200);
    g[200] = '\0';
    for (i = 0; i < 200; i++)
        groups[i] = g;
    id.groups = groups;
    id.ngroups = 200;
    e = positive(&id);
    assert_int_equal(k8ssa_entry_encode(secret, 32, key, &e, buf, K8SSA_ENTRY_MAX, &len),
                     K8SSA_ENTRY_TOO_LARGE);
    /* a bigger buffer does not raise the limit */
    {
        unsigned char *huge = malloc(4 * K8SSA_ENTRY_MAX);
        assert_non_null(huge);
        assert_int_equal(k8ssa_entry_encode(secret, 32, key, &e, huge, 4 * K8SSA_ENTRY_MAX, &len),
                         K8SSA_ENTRY_TOO_LARGE);
        free(huge);
    }
    free(buf);
    free(g);
    free(groups);
}

/*
 * Username of U bytes, 7 groups of 2329: 18 head + (2 + U) + 2 (uid "") + 2
 * + 7 * (2 + 2329) + 2 + 2 + 32 MAC = 16377 + U; U = 7 gives exactly
 * K8SSA_ENTRY_MAX.
 */
static void test_size_limit_exact(void **state)
{
    k8ssa_identity id = minimal_id;
    const char *groups[7];
    char *g = malloc(2330);
    unsigned char *buf = malloc(K8SSA_ENTRY_MAX), *big = malloc(2 * K8SSA_ENTRY_MAX);
    k8ssa_entry e, out;
    size_t len = 0, i;

    assert_non_null(g);
    assert_non_null(buf);
    assert_non_null(big);
    memset(g, 'g', 2329);
    g[2329] = '\0';
    for (i = 0; i < 7; i++)
        groups[i] = g;
    id.username = "uuuuuu";      /* 16384 bytes with the 19-byte header */
    id.groups = groups;
    id.ngroups = 7;
    e = positive(&id);
    assert_int_equal(k8ssa_entry_encode(secret, 32, key, &e, buf, K8SSA_ENTRY_MAX, &len),
                     K8SSA_ENTRY_OK);
    assert_int_equal(len, K8SSA_ENTRY_MAX);
    assert_int_equal(decode(*state, buf, len, &out), K8SSA_ENTRY_OK);
    assert_entries_equal(&e, &out);
    /* one byte under */
    groups[6] = apr_pstrndup(*state, g, 2328);
    assert_int_equal(k8ssa_entry_encode(secret, 32, key, &e, buf, K8SSA_ENTRY_MAX, &len),
                     K8SSA_ENTRY_OK);
    assert_int_equal(len, K8SSA_ENTRY_MAX - 1);
    assert_int_equal(decode(*state, buf, len, &out), K8SSA_ENTRY_OK);
    assert_entries_equal(&e, &out);
    /* one byte over, whatever the buffer */
    groups[6] = apr_pstrcat(*state, g, "g", NULL);
    assert_int_equal(k8ssa_entry_encode(secret, 32, key, &e, buf, K8SSA_ENTRY_MAX, &len),
                     K8SSA_ENTRY_TOO_LARGE);
    assert_int_equal(k8ssa_entry_encode(secret, 32, key, &e, big, 2 * K8SSA_ENTRY_MAX, &len),
                     K8SSA_ENTRY_TOO_LARGE);
    free(big);
    free(buf);
    free(g);
}

/* --- kinds: a token review is never read as an access decision, nor the reverse --- */

static void test_access_roundtrip(void **state)
{
    unsigned char buf[K8SSA_ENTRY_MAX];
    k8ssa_entry e = { 1, REVIEWED_AT, TOKEN_EXP, &full_id, K8SSA_ENTRY_ACCESS }, out;
    size_t len = 0;
    int positive;

    for (positive = 0; positive < 2; positive++) {
        e.positive = positive;
        assert_int_equal(k8ssa_entry_encode(secret, sizeof(secret), key, &e, buf,
                                            sizeof(buf), &len), K8SSA_ENTRY_OK);
        /* header only: an access decision carries no identity and no exp */
        assert_int_equal(len, 19 + K8SSA_ENTRY_MAC_LEN);
        assert_int_equal(k8ssa_entry_decode(*state, secret, sizeof(secret), key,
                                            K8SSA_ENTRY_ACCESS, buf, len, &out), K8SSA_ENTRY_OK);
        assert_int_equal(out.kind, K8SSA_ENTRY_ACCESS);
        assert_int_equal(out.positive, positive);
        assert_int_equal(out.reviewed_at, REVIEWED_AT);
        assert_int_equal(out.token_exp, 0);
        assert_null(out.id);
        /* presented as a token review: refused, and nothing is left */
        assert_int_equal(k8ssa_entry_decode(*state, secret, sizeof(secret), key,
                                            K8SSA_ENTRY_TOKEN, buf, len, &out),
                         K8SSA_ENTRY_WRONG_KIND);
        assert_null(out.id);
        assert_int_equal(out.positive, 0);
    }
}

static void test_token_entry_is_no_access_decision(void **state)
{
    unsigned char buf[K8SSA_ENTRY_MAX];
    k8ssa_entry e = positive(&full_id), out;
    size_t len = encode(&e, buf);

    assert_int_equal(k8ssa_entry_decode(*state, secret, sizeof(secret), key, K8SSA_ENTRY_ACCESS,
                                        buf, len, &out), K8SSA_ENTRY_WRONG_KIND);
    assert_int_equal(out.positive, 0);
    e = negative();
    len = encode(&e, buf);
    assert_int_equal(k8ssa_entry_decode(*state, secret, sizeof(secret), key, K8SSA_ENTRY_ACCESS,
                                        buf, len, &out), K8SSA_ENTRY_WRONG_KIND);
}

static void test_crafted_kinds(void **state)
{
    static const unsigned kinds[] = { 0, 3, 0x7f, 0x80, 0xff };
    body *b = malloc(sizeof(*b));
    k8ssa_entry out;
    size_t i;

    assert_non_null(b);
    for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        b_positive_with(b, -1, "", 0);
        b->buf[1] = (unsigned char)kinds[i];
        expect_signed(*state, b, K8SSA_ENTRY_WRONG_KIND, "unknown kind");
    }
    /* an access decision with an exp, or with an identity after it */
    b_head(b, K8SSA_ENTRY_VERSION, 1, TOKEN_EXP);
    b->buf[1] = K8SSA_ENTRY_ACCESS;
    sign(secret, 32, key, b->buf, b->len, b->buf + b->len);
    assert_int_equal(k8ssa_entry_decode(*state, secret, sizeof(secret), key, K8SSA_ENTRY_ACCESS,
                                        b->buf, b->len + K8SSA_ENTRY_MAC_LEN, &out),
                     K8SSA_ENTRY_MALFORMED);
    b_positive_with(b, -1, "", 0);
    b->buf[1] = K8SSA_ENTRY_ACCESS;
    memset(b->buf + 11, 0, 8);                  /* token_exp 0 */
    sign(secret, 32, key, b->buf, b->len, b->buf + b->len);
    assert_int_equal(k8ssa_entry_decode(*state, secret, sizeof(secret), key, K8SSA_ENTRY_ACCESS,
                                        b->buf, b->len + K8SSA_ENTRY_MAC_LEN, &out),
                     K8SSA_ENTRY_MALFORMED);
    free(b);
}

static void test_encode_refuses_unknown_kinds(void **state)
{
    unsigned char buf[K8SSA_ENTRY_MAX];
    k8ssa_entry e = negative();
    size_t len = 0;
    (void)state;

    e.kind = (k8ssa_entry_kind)0;
    assert_int_not_equal(k8ssa_entry_encode(secret, sizeof(secret), key, &e, buf, sizeof(buf),
                                            &len), K8SSA_ENTRY_OK);
    e.kind = (k8ssa_entry_kind)3;
    assert_int_not_equal(k8ssa_entry_encode(secret, sizeof(secret), key, &e, buf, sizeof(buf),
                                            &len), K8SSA_ENTRY_OK);
}

static void test_status_reasons(void **state)
{
    k8ssa_entry_status st;
    (void)state;
    for (st = K8SSA_ENTRY_OK; st <= K8SSA_ENTRY_MALFORMED; st++) {
        const char *r = k8ssa_entry_status_reason(st);
        assert_non_null(r);
        assert_true(r[0] != '\0');
    }
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, pool_setup, pool_teardown)
    const struct CMUnitTest tests[] = {
        T(test_roundtrip_full),
        T(test_roundtrip_minimal),
        T(test_roundtrip_negative),
        T(test_authenticated_is_boolean),
        T(test_mac_binds_key_and_secret),
        T(test_keyed_forms_agree),
        T(test_mac_definition),
        T(test_truncation_every_offset),
        T(test_bit_flips),
        T(test_short_and_long_buffers),
        T(test_crafted_valid),
        T(test_crafted_bad_version),
        T(test_crafted_flags),
        T(test_crafted_token_exp),
        T(test_crafted_truncated_head),
        T(test_crafted_trailing_bytes),
        T(test_crafted_empty_username),
        T(test_crafted_space_padded_values),
        T(test_crafted_bad_strings),
        T(test_crafted_string_lengths),
        T(test_crafted_counts),
        T(test_too_large),
        T(test_size_limit_exact),
        T(test_access_roundtrip),
        T(test_token_entry_is_no_access_decision),
        T(test_crafted_kinds),
        T(test_encode_refuses_unknown_kinds),
        T(test_status_reasons),
    };
#undef T
    return cmocka_run_group_tests(tests, keys_setup, group_teardown);
}
