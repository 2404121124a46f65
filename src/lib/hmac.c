/* hmac.c - HMAC-SHA256 from keyed digest states (see hmac.h). */
#include "hmac.h"

/* The low-level SHA-256 interface is deprecated in OpenSSL 3 for the EVP
 * one, which allocates on every context copy; it stays available. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <string.h>

_Static_assert(sizeof(SHA256_CTX) <= sizeof(((k8ssa_hmac *)0)->state),
               "k8ssa_hmac's state must hold a SHA256_CTX");

#define SHA(h) ((SHA256_CTX *)(void *)(h)->state.bytes)

#define BLOCK SHA256_CBLOCK     /* SHA-256's block size, 64 */

struct k8ssa_hmac_key {
    SHA256_CTX inner;           /* after absorbing key ^ ipad */
    SHA256_CTX outer;           /* after absorbing key ^ opad */
};

static int keyed_state(SHA256_CTX *ctx, const unsigned char *block, unsigned char pad)
{
    unsigned char padded[BLOCK];
    int i, ok;

    for (i = 0; i < BLOCK; i++)
        padded[i] = block[i] ^ pad;
    ok = SHA256_Init(ctx) == 1 && SHA256_Update(ctx, padded, BLOCK) == 1;
    OPENSSL_cleanse(padded, sizeof(padded));
    return ok;
}

void k8ssa_hmac_key_free(k8ssa_hmac_key *key)
{
    if (key == NULL)
        return;
    OPENSSL_cleanse(key, sizeof(*key));
    OPENSSL_free(key);
}

k8ssa_hmac_key *k8ssa_hmac_key_new(const unsigned char *secret, size_t secret_len)
{
    unsigned char block[BLOCK];
    k8ssa_hmac_key *key = OPENSSL_zalloc(sizeof(*key));
    int ok;

    if (key == NULL)
        return NULL;
    /* RFC 2104: a key longer than a block is hashed first; the block is the
     * key padded with zeros. */
    memset(block, 0, sizeof(block));
    if (secret_len > BLOCK)
        ok = SHA256(secret, secret_len, block) != NULL;
    else {
        if (secret_len > 0)
            memcpy(block, secret, secret_len);
        ok = 1;
    }
    ok = ok && keyed_state(&key->inner, block, 0x36) && keyed_state(&key->outer, block, 0x5c);
    OPENSSL_cleanse(block, sizeof(block));
    if (!ok) {
        k8ssa_hmac_key_free(key);
        return NULL;
    }
    return key;
}

int k8ssa_hmac_begin(k8ssa_hmac *h, const k8ssa_hmac_key *key)
{
    h->key = key;
    if (key == NULL)
        return 0;
    *SHA(h) = key->inner;
    return 1;
}

int k8ssa_hmac_update(k8ssa_hmac *h, const void *data, size_t len)
{
    return h->key != NULL && SHA256_Update(SHA(h), data, len) == 1;
}

int k8ssa_hmac_end(k8ssa_hmac *h, unsigned char out[K8SSA_HMAC_LEN])
{
    unsigned char inner[K8SSA_HMAC_LEN];
    int ok = h->key != NULL && SHA256_Final(inner, SHA(h)) == 1;

    if (ok) {
        *SHA(h) = h->key->outer;
        ok = SHA256_Update(SHA(h), inner, sizeof(inner)) == 1
             && SHA256_Final(out, SHA(h)) == 1;
    }
    OPENSSL_cleanse(inner, sizeof(inner));
    OPENSSL_cleanse(h->state.bytes, sizeof(h->state.bytes));
    return ok;
}
