/* tokenkey.c - keyed names of tokens (see tokenkey.h). */
#include "tokenkey.h"

#include <apr_strings.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int update_field_len(EVP_MAC_CTX *ctx, uint64_t n)
{
    unsigned char prefix[8];
    int i;

    for (i = 7; i >= 0; i--) {
        prefix[i] = (unsigned char)(n & 0xff);
        n >>= 8;
    }
    return EVP_MAC_update(ctx, prefix, sizeof(prefix));
}

/* Length prefixes keep ("ab","c") and ("a","bc") apart. */
static int update_field(EVP_MAC_CTX *ctx, const void *data, size_t len)
{
    return update_field_len(ctx, len) && EVP_MAC_update(ctx, data, len);
}

static int cmp_strings(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int k8ssa_tokenkey(const unsigned char *secret, size_t secret_len,
                   const char *server_url, const char *const *audiences,
                   size_t naudiences, const char *token, size_t token_len,
                   unsigned char out[K8SSA_TOKENKEY_LEN])
{
    static EVP_MAC *mac;  /* fetched once: the fetch is the slow part */
    OSSL_PARAM params[2];
    const char **sorted = NULL;
    EVP_MAC_CTX *ctx;
    size_t i, outlen = 0;
    int ok;

    if (mac == NULL) {
        EVP_MAC *m = EVP_MAC_fetch(NULL, "HMAC", NULL);
        if (m == NULL)
            return -1;
        if (!__atomic_compare_exchange_n(&mac, &(EVP_MAC *){NULL}, m, 0,
                                         __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            EVP_MAC_free(m);
    }
    if (naudiences > 0) {
        sorted = malloc(naudiences * sizeof(*sorted));
        if (sorted == NULL)
            return -1;
        memcpy(sorted, audiences, naudiences * sizeof(*sorted));
        qsort(sorted, naudiences, sizeof(*sorted), cmp_strings);
    }
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();
    ctx = EVP_MAC_CTX_new(mac);
    ok = ctx != NULL && EVP_MAC_init(ctx, secret, secret_len, params)
         && update_field(ctx, server_url, strlen(server_url));
    /* The count, as an empty field whose length prefix is the count. */
    ok = ok && update_field_len(ctx, naudiences);
    for (i = 0; ok && i < naudiences; i++)
        ok = update_field(ctx, sorted[i], strlen(sorted[i]));
    ok = ok && update_field(ctx, token, token_len)
         && EVP_MAC_final(ctx, out, &outlen, K8SSA_TOKENKEY_LEN)
         && outlen == K8SSA_TOKENKEY_LEN;
    EVP_MAC_CTX_free(ctx);
    free(sorted);
    return ok ? 0 : -1;
}

const char *k8ssa_tokenkey_fingerprint(apr_pool_t *p,
                                       const unsigned char key[K8SSA_TOKENKEY_LEN])
{
    static const char hex[] = "0123456789abcdef";
    char *out = apr_palloc(p, 13);
    int i;

    for (i = 0; i < 6; i++) {
        out[2 * i] = hex[key[i] >> 4];
        out[2 * i + 1] = hex[key[i] & 0x0f];
    }
    out[12] = '\0';
    return out;
}

int k8ssa_random_bytes(unsigned char *buf, size_t len)
{
    return RAND_bytes(buf, (int)len) == 1 ? 0 : -1;
}
