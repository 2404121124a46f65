/* Unit tests of src/lib/tokenkey.c: keyed token names. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <apr_general.h>

#include "hmac.h"
#include "tokenkey.h"

#include <stdio.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>

static const unsigned char secret[32] = "0123456789abcdef0123456789abcdef";
static const unsigned char secret2[32] = "0123456789abcdef0123456789abcdeX";

static void key_of(const unsigned char *sec, const char *url, const char *const *aud, size_t n,
                   const char *token, unsigned char out[K8SSA_TOKENKEY_LEN])
{
    k8ssa_hmac_key *k = k8ssa_hmac_key_new(sec, 32);

    assert_non_null(k);
    assert_int_equal(k8ssa_tokenkey(k, url, aud, n, token, strlen(token), out), 0);
    k8ssa_hmac_key_free(k);
}

static void test_deterministic_and_order_free(void **state)
{
    const char *a1[] = { "b", "a", "c" }, *a2[] = { "c", "b", "a" };
    unsigned char k1[32], k2[32];
    (void)state;
    key_of(secret, "https://k", a1, 3, "tok", k1);
    key_of(secret, "https://k", a2, 3, "tok", k2);
    assert_memory_equal(k1, k2, 32);
}

static void test_every_input_matters(void **state)
{
    const char *a[] = { "x" }, *b[] = { "y" }, *ab[] = { "x", "y" };
    unsigned char base[32], k[32];
    (void)state;
    key_of(secret, "https://k", a, 1, "tok", base);
    key_of(secret2, "https://k", a, 1, "tok", k);
    assert_memory_not_equal(base, k, 32);
    key_of(secret, "https://k2", a, 1, "tok", k);
    assert_memory_not_equal(base, k, 32);
    key_of(secret, "https://k", b, 1, "tok", k);
    assert_memory_not_equal(base, k, 32);
    key_of(secret, "https://k", ab, 2, "tok", k);
    assert_memory_not_equal(base, k, 32);
    key_of(secret, "https://k", NULL, 0, "tok", k);
    assert_memory_not_equal(base, k, 32);
    key_of(secret, "https://k", a, 1, "tok2", k);
    assert_memory_not_equal(base, k, 32);
}

/* Field boundaries are length-prefixed: moving bytes between fields changes
 * the key. */
static void test_fields_do_not_run_together(void **state)
{
    const char *a1[] = { "ab" }, *a2[] = { "a" };
    unsigned char k1[32], k2[32];
    (void)state;
    key_of(secret, "https://k", a1, 1, "c", k1);
    key_of(secret, "https://k", a2, 1, "bc", k2);
    assert_memory_not_equal(k1, k2, 32);
    key_of(secret, "https://ka", NULL, 0, "b", k1);
    key_of(secret, "https://k", NULL, 0, "ab", k2);
    assert_memory_not_equal(k1, k2, 32);
}

static void test_fingerprint(void **state)
{
    apr_pool_t *p;
    unsigned char k[32];
    const char *fp;
    size_t i;
    (void)state;
    apr_pool_create(&p, NULL);
    for (i = 0; i < 32; i++)
        k[i] = (unsigned char)(0xa0 + i);
    fp = k8ssa_tokenkey_fingerprint(p, k);
    assert_string_equal(fp, "a0a1a2a3a4a5");
    apr_pool_destroy(p);
}

static void test_random_bytes(void **state)
{
    unsigned char a[32], b[32];
    (void)state;
    assert_int_equal(k8ssa_random_bytes(a, sizeof(a)), 0);
    assert_int_equal(k8ssa_random_bytes(b, sizeof(b)), 0);
    assert_memory_not_equal(a, b, 32);
}

/* libcrypto's own HMAC, to check src/lib/hmac.c and the key definitions
 * against something they do not share code with. */
static EVP_MAC_CTX *ref_new(const unsigned char *key, size_t klen)
{
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *c = EVP_MAC_CTX_new(mac);
    OSSL_PARAM params[2];

    params[0] = OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();
    assert_non_null(c);
    assert_int_equal(EVP_MAC_init(c, key, klen, params), 1);
    EVP_MAC_free(mac);
    return c;
}

static int ref_update(EVP_MAC_CTX *c, const void *data, size_t len)
{
    return EVP_MAC_update(c, data, len) == 1;
}

static int ref_final(EVP_MAC_CTX *c, unsigned char out[32])
{
    size_t n = 0;
    int ok = EVP_MAC_final(c, out, &n, 32) == 1 && n == 32;
    EVP_MAC_CTX_free(c);
    return ok;
}

static void put_len(EVP_MAC_CTX *h, uint64_t n)
{
    unsigned char b[8];
    int i;
    for (i = 7; i >= 0; i--, n >>= 8)
        b[i] = (unsigned char)(n & 0xff);
    assert_true(ref_update(h, b, 8));
}

static void put_field(EVP_MAC_CTX *h, const char *s)
{
    put_len(h, strlen(s));
    assert_true(ref_update(h, s, strlen(s)));
}

/* The definition: HMAC(secret, label | url | count | sorted audiences |
 * token), each length-prefixed; the label keeps token keys apart from the
 * keys of access decisions. */
static void test_key_definition(void **state)
{
    const char *aud[] = { "b", "a" };
    unsigned char want[32], got[32];
    EVP_MAC_CTX *h = ref_new(secret, 32);
    (void)state;

    assert_non_null(h);
    put_field(h, "k8ssa-key-token-v1");
    put_field(h, "https://k");
    put_len(h, 2);
    put_field(h, "a");
    put_field(h, "b");
    put_field(h, "tok");
    assert_true(ref_final(h, want));
    key_of(secret, "https://k", aud, 2, "tok", got);
    assert_memory_equal(want, got, 32);
}

/* --- access-decision keys --- */

static const char *g2[] = { "g1", "g2" }, *g2r[] = { "g2", "g1" };
static const char *vals[] = { "v1", "v2" }, *vals_r[] = { "v2", "v1" };

static void akey(const k8ssa_identity *id, const k8ssa_access_attributes *a,
                 unsigned char out[32])
{
    k8ssa_hmac_key *k = k8ssa_hmac_key_new(secret, 32);

    assert_non_null(k);
    assert_int_equal(k8ssa_accesskey(k, "https://k", id, a, out), 0);
    k8ssa_hmac_key_free(k);
}

static void test_access_key_inputs(void **state)
{
    k8ssa_extra x[] = { { "a", vals, 2 }, { "b", vals, 1 } };
    k8ssa_extra xr[] = { { "b", vals, 1 }, { "a", vals, 2 } };
    k8ssa_extra xv[] = { { "a", vals_r, 2 }, { "b", vals, 1 } };
    k8ssa_identity id = { "u", "uid", g2, 2, x, 2, NULL, 0 }, v;
    k8ssa_access_attributes a = { "get", "apps", "deployments", "scale", "ns", "web", NULL }, b;
    unsigned char base[32], k[32];
    const char **fields[] = { &b.verb, &b.group, &b.resource, &b.subresource, &b.ns, &b.name,
                              &b.path };
    size_t i;
    (void)state;

    akey(&id, &a, base);
    /* extra keys are a map: their order does not matter */
    v = id;
    v.extra = xr;
    akey(&v, &a, k);
    assert_memory_equal(base, k, 32);
    /* group order, value order, and every field do */
    v = id;
    v.groups = g2r;
    akey(&v, &a, k);
    assert_memory_not_equal(base, k, 32);
    v = id;
    v.extra = xv;
    akey(&v, &a, k);
    assert_memory_not_equal(base, k, 32);
    v = id;
    v.uid = "other";
    akey(&v, &a, k);
    assert_memory_not_equal(base, k, 32);
    v = id;
    v.username = "u2";
    akey(&v, &a, k);
    assert_memory_not_equal(base, k, 32);
    v = id;
    v.nextra = 1;
    akey(&v, &a, k);
    assert_memory_not_equal(base, k, 32);
    for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        b = a;
        *fields[i] = "x";
        akey(&id, &b, k);
        assert_memory_not_equal(base, k, 32);
    }
    /* a value moved between fields is another question */
    b = a;
    b.ns = "web";
    b.name = "ns";
    akey(&id, &b, k);
    assert_memory_not_equal(base, k, 32);
    /* unset and empty ask the same (the body omits both) */
    b = a;
    b.group = NULL;
    akey(&id, &b, base);
    b.group = "";
    akey(&id, &b, k);
    assert_memory_equal(base, k, 32);
}

/* The labels keep the two kinds apart even for lookalike inputs. */
static void test_access_key_is_never_a_token_key(void **state)
{
    k8ssa_identity id = { "u", "", NULL, 0, NULL, 0, NULL, 0 };
    k8ssa_access_attributes a = { NULL, NULL, NULL, NULL, NULL, NULL, NULL };
    unsigned char t[32], k[32];
    unsigned char want[32];
    EVP_MAC_CTX *h = ref_new(secret, 32);
    int i;
    (void)state;

    key_of(secret, "https://k", NULL, 0, "u", t);
    akey(&id, &a, k);
    assert_memory_not_equal(t, k, 32);
    /* the definition */
    assert_non_null(h);
    put_field(h, "k8ssa-key-access-v1");
    put_field(h, "https://k");
    put_field(h, "u");
    put_field(h, "");
    put_len(h, 0);
    put_len(h, 0);
    for (i = 0; i < 7; i++)
        put_field(h, "");
    assert_true(ref_final(h, want));
    assert_memory_equal(want, k, 32);
}

/* --- HMAC-SHA256 itself: RFC 4231's test cases, and libcrypto's HMAC()
 * for keys around the block size, in pieces and reused keys --- */

static void unhex(const char *hex, unsigned char *out)
{
    size_t i;

    for (i = 0; hex[2 * i]; i++) {
        unsigned v;
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
        out[i] = (unsigned char)v;
    }
}

static void mac_of(const unsigned char *key, size_t klen, const void *data, size_t len,
                   unsigned char out[32])
{
    k8ssa_hmac_key *k = k8ssa_hmac_key_new(key, klen);
    k8ssa_hmac h;

    assert_true(k8ssa_hmac_begin(&h, k));
    assert_true(k8ssa_hmac_update(&h, data, len));
    assert_true(k8ssa_hmac_end(&h, out));
    k8ssa_hmac_key_free(k);
}

static void test_hmac_rfc4231(void **state)
{
    unsigned char key[131], want[32], got[32];
    (void)state;

    /* test case 1 */
    memset(key, 0x0b, 20);
    unhex("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7", want);
    mac_of(key, 20, "Hi There", 8, got);
    assert_memory_equal(want, got, 32);
    /* test case 2: a key shorter than the block */
    unhex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", want);
    mac_of((const unsigned char *)"Jefe", 4, "what do ya want for nothing?", 28, got);
    assert_memory_equal(want, got, 32);
    /* test case 6: a key longer than the block is hashed first */
    memset(key, 0xaa, 131);
    unhex("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54", want);
    mac_of(key, 131, "Test Using Larger Than Block-Size Key - Hash Key First", 54, got);
    assert_memory_equal(want, got, 32);
}

static void test_hmac_matches_libcrypto(void **state)
{
    static const size_t klens[] = { 0, 1, 32, 63, 64, 65, 200 };
    unsigned char key[200], data[300], want[32], got[32];
    size_t i, k;
    (void)state;

    for (i = 0; i < sizeof(key); i++)
        key[i] = (unsigned char)(i * 7 + 1);
    for (i = 0; i < sizeof(data); i++)
        data[i] = (unsigned char)(i * 13 + 5);
    for (k = 0; k < sizeof(klens) / sizeof(klens[0]); k++) {
        k8ssa_hmac_key *prepared = k8ssa_hmac_key_new(key, klens[k]);
        int round;

        assert_non_null(prepared);
        {
            EVP_MAC_CTX *ref = ref_new(key, klens[k]);
            assert_true(ref_update(ref, data, sizeof(data)));
            assert_true(ref_final(ref, want));
        }
        /* the same prepared key twice: starting a MAC never changes it */
        for (round = 0; round < 2; round++) {
            k8ssa_hmac h;
            assert_true(k8ssa_hmac_begin(&h, prepared));
            assert_true(k8ssa_hmac_update(&h, data, 100));
            assert_true(k8ssa_hmac_update(&h, data + 100, 0));
            assert_true(k8ssa_hmac_update(&h, data + 100, sizeof(data) - 100));
            assert_true(k8ssa_hmac_end(&h, got));
            assert_memory_equal(want, got, 32);
        }
        k8ssa_hmac_key_free(prepared);
    }
    {
        k8ssa_hmac h;
        assert_false(k8ssa_hmac_begin(&h, NULL));
        assert_false(k8ssa_hmac_update(&h, data, 1));
        assert_false(k8ssa_hmac_end(&h, got));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deterministic_and_order_free),
        cmocka_unit_test(test_every_input_matters),
        cmocka_unit_test(test_fields_do_not_run_together),
        cmocka_unit_test(test_key_definition),
        cmocka_unit_test(test_access_key_inputs),
        cmocka_unit_test(test_access_key_is_never_a_token_key),
        cmocka_unit_test(test_fingerprint),
        cmocka_unit_test(test_random_bytes),
        cmocka_unit_test(test_hmac_rfc4231),
        cmocka_unit_test(test_hmac_matches_libcrypto),
    };
    int rc;
    apr_initialize();
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_terminate();
    return rc;
}
