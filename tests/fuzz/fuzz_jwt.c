/*
 * fuzz_jwt.c - libFuzzer target for src/lib/jwt.c.
 *
 * The raw input is a bearer token, and also (base64url-encoded between a
 * header and a signature part) a JWT payload. Invariants: k8ssa_jwt_exp
 * returning 1 means 0 <= exp <= K8SSA_JWT_MAX_EXP; a payload decoding to more
 * than K8SSA_JWT_MAX_PAYLOAD bytes is not looked at; k8ssa_base64url_decode
 * returns -1 or exactly the unpadded decoded length, and what it decodes
 * encodes back to the input when the input's unused bits are zero.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#include "jwt.h"
#include "../common/b64url.h"

/* Unpadded base64url of d[0..n) into out (room for (n + 2) / 3 * 4); returns its length. */
static size_t encode(const unsigned char *d, size_t n, char *out)
{
    return test_b64url_encode(d, n, out);
}

static void check_exp(const char *token, size_t len)
{
    int64_t exp = -1;
    int rc = k8ssa_jwt_exp(token, len, &exp);
    CHECK(rc == 0 || rc == 1);
    if (rc == 1)
        CHECK(exp >= 0 && exp <= K8SSA_JWT_MAX_EXP);
}

static void check_base64url(const char *src, size_t len)
{
    size_t room = len * 3 / 4;
    unsigned char *dst = malloc(room ? room : 1);
    CHECK(dst != NULL);
    long n = k8ssa_base64url_decode(src, len, dst);
    if (n >= 0) {
        static const size_t tail[4] = { 0, 0, 1, 2 };
        CHECK(len % 4 != 1);
        CHECK((size_t)n == len / 4 * 3 + tail[len % 4]);
        CHECK((size_t)n <= room);
        for (size_t i = 0; i < len; i++)
            CHECK(strchr(TEST_B64URL_ALPHABET, src[i]) != NULL && src[i] != '\0');
        /* round trip, up to the unused low bits of the last character */
        char *back = malloc(len + 4);
        CHECK(back != NULL);
        CHECK(encode(dst, (size_t)n, back) == len);
        if (len > 0) {
            CHECK(len % 4 == 0 ? memcmp(back, src, len) == 0
                               : memcmp(back, src, len - 1) == 0);
        }
        free(back);
    }
    free(dst);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init_once();

    /* exact-size copy: nothing beyond len may be read */
    char *token = malloc(size ? size : 1);
    CHECK(token != NULL);
    if (size)
        memcpy(token, data, size);
    check_exp(token, size);
    check_base64url(token, size);
    free(token);

    /* the input as a JWT payload */
    static const char head[] = "eyJhbGciOiJSUzI1NiJ9.", sig[] = ".c2ln";
    size_t hl = sizeof(head) - 1, sl = sizeof(sig) - 1;
    char *jwt = malloc(hl + (size + 2) / 3 * 4 + sl);
    CHECK(jwt != NULL);
    memcpy(jwt, head, hl);
    size_t pl = encode(data, size, jwt + hl);
    memcpy(jwt + hl + pl, sig, sl);
    int64_t exp = -1;
    int rc = k8ssa_jwt_exp(jwt, hl + pl + sl, &exp);
    if (rc == 1)
        CHECK(exp >= 0 && exp <= K8SSA_JWT_MAX_EXP);
    if (size > K8SSA_JWT_MAX_PAYLOAD)
        CHECK(rc == 0);
    if (size == 0)
        CHECK(rc == 0);
    free(jwt);
    return 0;
}
