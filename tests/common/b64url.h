/*
 * b64url.h - the tests' own unpadded base64url encoder (RFC 4648 section 5),
 * so that expectations never come from the decoder under test.
 */
#ifndef K8SSA_TEST_B64URL_H
#define K8SSA_TEST_B64URL_H

#include <stddef.h>

#define TEST_B64URL_ALPHABET \
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

/* Encodes d[0..n) into out (room for (n + 2) / 3 * 4 bytes, no NUL written);
 * returns the encoded length. */
static inline size_t test_b64url_encode(const unsigned char *d, size_t n, char *out)
{
    static const char alpha[] = TEST_B64URL_ALPHABET;
    char *o = out;
    size_t i;

    for (i = 0; i + 2 < n; i += 3) {
        *o++ = alpha[d[i] >> 2];
        *o++ = alpha[((d[i] & 3) << 4) | (d[i + 1] >> 4)];
        *o++ = alpha[((d[i + 1] & 15) << 2) | (d[i + 2] >> 6)];
        *o++ = alpha[d[i + 2] & 63];
    }
    if (n - i == 1) {
        *o++ = alpha[d[i] >> 2];
        *o++ = alpha[(d[i] & 3) << 4];
    } else if (n - i == 2) {
        *o++ = alpha[d[i] >> 2];
        *o++ = alpha[((d[i] & 3) << 4) | (d[i + 1] >> 4)];
        *o++ = alpha[(d[i + 1] & 15) << 2];
    }
    return (size_t)(o - out);
}

#endif
