/* hmac.c - HMAC-SHA256 contexts over OpenSSL 3's EVP_MAC. */
#include "hmac.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>

struct k8ssa_hmac {
    EVP_MAC_CTX *ctx;
};

static EVP_MAC *algorithm(void)
{
    static EVP_MAC *mac;
    EVP_MAC *m = __atomic_load_n(&mac, __ATOMIC_ACQUIRE), *expected = NULL;

    if (m != NULL)
        return m;
    m = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (m == NULL)
        return NULL;
    /* Another thread may have won the race: keep its fetch, drop ours. */
    if (!__atomic_compare_exchange_n(&mac, &expected, m, 0, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE)) {
        EVP_MAC_free(m);
        m = expected;
    }
    return m;
}

k8ssa_hmac *k8ssa_hmac_new(const unsigned char *secret, size_t secret_len)
{
    EVP_MAC *m = algorithm();
    OSSL_PARAM params[2];
    k8ssa_hmac *h;

    if (m == NULL || (h = OPENSSL_malloc(sizeof(*h))) == NULL)
        return NULL;
    h->ctx = EVP_MAC_CTX_new(m);
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();
    if (h->ctx == NULL || !EVP_MAC_init(h->ctx, secret, secret_len, params)) {
        EVP_MAC_CTX_free(h->ctx);
        OPENSSL_free(h);
        return NULL;
    }
    return h;
}

int k8ssa_hmac_update(k8ssa_hmac *h, const void *data, size_t len)
{
    return EVP_MAC_update(h->ctx, data, len) == 1;
}

int k8ssa_hmac_final(k8ssa_hmac *h, unsigned char out[K8SSA_HMAC_LEN])
{
    size_t outlen = 0;
    int ok = EVP_MAC_final(h->ctx, out, &outlen, K8SSA_HMAC_LEN) == 1
             && outlen == K8SSA_HMAC_LEN;

    EVP_MAC_CTX_free(h->ctx);
    OPENSSL_free(h);
    return ok;
}
