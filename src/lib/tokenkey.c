/* tokenkey.c - keyed names of tokens (see tokenkey.h). */
#include "tokenkey.h"

#include <apr_strings.h>

#include <openssl/rand.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int update_field_len(k8ssa_hmac *h, uint64_t n)
{
    unsigned char prefix[8];
    int i;

    for (i = 7; i >= 0; i--) {
        prefix[i] = (unsigned char)(n & 0xff);
        n >>= 8;
    }
    return k8ssa_hmac_update(h, prefix, sizeof(prefix));
}

/* Length prefixes keep ("ab","c") and ("a","bc") apart. */
static int update_field(k8ssa_hmac *h, const void *data, size_t len)
{
    return update_field_len(h, len) && k8ssa_hmac_update(h, data, len);
}

static int cmp_strings(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int k8ssa_tokenkey(const k8ssa_hmac_key *secret,
                   const char *server_url, const char *const *audiences,
                   size_t naudiences, const char *token, size_t token_len,
                   unsigned char out[K8SSA_TOKENKEY_LEN])
{
    const char *small[8], **sorted = small;
    k8ssa_hmac mac, *h = &mac;
    size_t i;
    int ok;

    if (naudiences > sizeof(small) / sizeof(small[0])) {
        sorted = malloc(naudiences * sizeof(*sorted));
        if (sorted == NULL)
            return -1;
    }
    if (naudiences > 0) {
        memcpy(sorted, audiences, naudiences * sizeof(*sorted));
        qsort(sorted, naudiences, sizeof(*sorted), cmp_strings);
    }
    ok = k8ssa_hmac_begin(h, secret)
         && update_field(h, K8SSA_KEY_LABEL_TOKEN, sizeof(K8SSA_KEY_LABEL_TOKEN) - 1)
         && update_field(h, server_url, strlen(server_url))
         /* the count, as an empty field whose length prefix is the count */
         && update_field_len(h, naudiences);
    for (i = 0; ok && i < naudiences; i++)
        ok = update_field(h, sorted[i], strlen(sorted[i]));
    ok = ok && update_field(h, token, token_len);
    ok = k8ssa_hmac_end(h, out) && ok;
    if (sorted != small)
        free(sorted);
    return ok ? 0 : -1;
}

static int update_string(k8ssa_hmac *h, const char *s)
{
    return update_field(h, s ? s : "", s ? strlen(s) : 0);
}

int k8ssa_accesskey(const k8ssa_hmac_key *secret, const char *server_url,
                    const k8ssa_identity *id, const k8ssa_access_attributes *a,
                    unsigned char out[K8SSA_TOKENKEY_LEN])
{
    const k8ssa_extra *small[8], **sorted = small;
    k8ssa_hmac mac, *h = &mac;
    size_t i, j;
    int ok;

    if (id->nextra > sizeof(small) / sizeof(small[0])) {
        sorted = malloc(id->nextra * sizeof(*sorted));
        if (sorted == NULL)
            return -1;
    }
    k8ssa_identity_sorted_extra(id, sorted);
    ok = k8ssa_hmac_begin(h, secret)
         && update_field(h, K8SSA_KEY_LABEL_ACCESS, sizeof(K8SSA_KEY_LABEL_ACCESS) - 1)
         && update_string(h, server_url) && update_string(h, id->username)
         && update_string(h, id->uid) && update_field_len(h, id->ngroups);
    for (i = 0; ok && i < id->ngroups; i++)
        ok = update_string(h, id->groups[i]);
    ok = ok && update_field_len(h, id->nextra);
    for (i = 0; ok && i < id->nextra; i++) {
        ok = update_string(h, sorted[i]->key) && update_field_len(h, sorted[i]->nvalues);
        for (j = 0; ok && j < sorted[i]->nvalues; j++)
            ok = update_string(h, sorted[i]->values[j]);
    }
    ok = ok && update_string(h, a->verb) && update_string(h, a->group)
         && update_string(h, a->resource) && update_string(h, a->subresource)
         && update_string(h, a->ns) && update_string(h, a->name) && update_string(h, a->path);
    ok = k8ssa_hmac_end(h, out) && ok;
    if (sorted != small)
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
