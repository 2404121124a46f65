/* hmac.c - HMAC-SHA256 from keyed digest states (see hmac.h). */
#include "hmac.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>

#define BLOCK 64    /* SHA-256's block size */

struct k8ssa_hmac_key {
    EVP_MD_CTX *inner;      /* after absorbing key ^ ipad */
    EVP_MD_CTX *outer;      /* after absorbing key ^ opad */
};

struct k8ssa_hmac {
    EVP_MD_CTX *md;
    const k8ssa_hmac_key *key;
    k8ssa_hmac_key *owned;  /* k8ssa_hmac_new's own key */
};

/* Fetched once per process: an implicit fetch (EVP_sha256() at every init)
 * costs more than hashing a token. */
static EVP_MD *sha256(void)
{
    static EVP_MD *md;
    EVP_MD *m = __atomic_load_n(&md, __ATOMIC_ACQUIRE), *expected = NULL;

    if (m != NULL)
        return m;
    m = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (m == NULL)
        return NULL;
    /* Another thread may have won the race: keep its fetch, drop ours. */
    if (!__atomic_compare_exchange_n(&md, &expected, m, 0, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE)) {
        EVP_MD_free(m);
        m = expected;
    }
    return m;
}

static EVP_MD_CTX *keyed_state(EVP_MD *md, const unsigned char *block, unsigned char pad)
{
    unsigned char padded[BLOCK];
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int i, ok;

    for (i = 0; i < BLOCK; i++)
        padded[i] = block[i] ^ pad;
    ok = ctx != NULL && EVP_DigestInit_ex(ctx, md, NULL) == 1
         && EVP_DigestUpdate(ctx, padded, BLOCK) == 1;
    OPENSSL_cleanse(padded, sizeof(padded));
    if (!ok) {
        EVP_MD_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

void k8ssa_hmac_key_free(k8ssa_hmac_key *key)
{
    if (key == NULL)
        return;
    EVP_MD_CTX_free(key->inner);
    EVP_MD_CTX_free(key->outer);
    OPENSSL_free(key);
}

k8ssa_hmac_key *k8ssa_hmac_key_new(const unsigned char *secret, size_t secret_len)
{
    unsigned char block[BLOCK];
    unsigned int n = 0;
    EVP_MD *md = sha256();
    k8ssa_hmac_key *key;

    if (md == NULL || (key = OPENSSL_zalloc(sizeof(*key))) == NULL)
        return NULL;
    /* RFC 2104: a key longer than a block is hashed first; the block is the
     * key padded with zeros. */
    memset(block, 0, sizeof(block));
    if (secret_len > BLOCK) {
        if (EVP_Digest(secret, secret_len, block, &n, md, NULL) != 1) {
            OPENSSL_free(key);
            return NULL;
        }
    } else if (secret_len > 0) {
        memcpy(block, secret, secret_len);
    }
    key->inner = keyed_state(md, block, 0x36);
    key->outer = keyed_state(md, block, 0x5c);
    OPENSSL_cleanse(block, sizeof(block));
    if (key->inner == NULL || key->outer == NULL) {
        k8ssa_hmac_key_free(key);
        return NULL;
    }
    return key;
}

k8ssa_hmac *k8ssa_hmac_start(const k8ssa_hmac_key *key)
{
    k8ssa_hmac *h;

    if (key == NULL || (h = OPENSSL_zalloc(sizeof(*h))) == NULL)
        return NULL;
    h->key = key;
    h->md = EVP_MD_CTX_new();
    if (h->md == NULL || EVP_MD_CTX_copy_ex(h->md, key->inner) != 1) {
        EVP_MD_CTX_free(h->md);
        OPENSSL_free(h);
        return NULL;
    }
    return h;
}

k8ssa_hmac *k8ssa_hmac_new(const unsigned char *secret, size_t secret_len)
{
    k8ssa_hmac_key *key = k8ssa_hmac_key_new(secret, secret_len);
    k8ssa_hmac *h = k8ssa_hmac_start(key);

    if (h == NULL) {
        k8ssa_hmac_key_free(key);
        return NULL;
    }
    h->owned = key;
    return h;
}

int k8ssa_hmac_update(k8ssa_hmac *h, const void *data, size_t len)
{
    return EVP_DigestUpdate(h->md, data, len) == 1;
}

int k8ssa_hmac_final(k8ssa_hmac *h, unsigned char out[K8SSA_HMAC_LEN])
{
    unsigned char inner[EVP_MAX_MD_SIZE];
    unsigned int n = 0, m = 0;
    int ok = EVP_DigestFinal_ex(h->md, inner, &n) == 1 && n == K8SSA_HMAC_LEN
             && EVP_MD_CTX_copy_ex(h->md, h->key->outer) == 1
             && EVP_DigestUpdate(h->md, inner, n) == 1
             && EVP_DigestFinal_ex(h->md, out, &m) == 1 && m == K8SSA_HMAC_LEN;

    OPENSSL_cleanse(inner, sizeof(inner));
    EVP_MD_CTX_free(h->md);
    k8ssa_hmac_key_free(h->owned);
    OPENSSL_free(h);
    return ok;
}
