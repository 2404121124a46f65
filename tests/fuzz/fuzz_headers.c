/*
 * fuzz_headers.c - libFuzzer target for src/lib/headers.c.
 *
 * The input is split at its first NUL (or, failing that, newline) into a
 * header name and a configured name/prefix/extra key. Invariants: the
 * comparisons agree with a reference implementation and with each other; an
 * encoded extra key holds tchars only and percent-decodes back to the key.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#include "headers.h"


static int is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static unsigned char fold(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return (unsigned char)(c - 'A' + 'a');
    if (c == '_')
        return '-';
    return c;
}

static int ref_has_prefix(const char *name, const char *prefix)
{
    size_t i;
    for (i = 0; prefix[i]; i++)
        if (!name[i] || fold((unsigned char)name[i]) != fold((unsigned char)prefix[i]))
            return 0;
    return 1;
}

static int ref_equals(const char *a, const char *b)
{
    return strlen(a) == strlen(b) && ref_has_prefix(a, b);
}

static int ref_is_header_name(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!is_tchar((unsigned char)*s))
            return 0;
    return 1;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;    /* lower-case hex is not what the header promises */
}

static void check_encode(const char *key)
{
    const char *enc = k8ssa_extra_key_encode(pool, key);
    CHECK(enc != NULL);
    size_t klen = strlen(key), elen = strlen(enc);
    CHECK(elen >= klen && elen <= 3 * klen);
    if (klen)
        CHECK(k8ssa_is_header_name(enc) == 1);
    /* decode back */
    char *dec = apr_palloc(pool, elen + 1);
    size_t n = 0;
    for (size_t i = 0; i < elen; i++) {
        unsigned char c = (unsigned char)enc[i];
        CHECK(is_tchar(c));
        if (c == '%') {
            CHECK(i + 2 < elen);
            int hi = hexval(enc[i + 1]), lo = hexval(enc[i + 2]);
            CHECK(hi >= 0 && lo >= 0);
            unsigned char d = (unsigned char)(hi * 16 + lo);
            /* only what had to be escaped was */
            CHECK(d == '%' || !is_tchar(d));
            dec[n++] = (char)d;
            i += 2;
        } else {
            dec[n++] = (char)c;
        }
    }
    dec[n] = '\0';
    CHECK(n == klen && memcmp(dec, key, klen) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init_once();
    apr_pool_clear(pool);

    char *buf = apr_palloc(pool, size + 1);
    memcpy(buf, data, size);
    buf[size] = '\0';

    /* split: NUL first, else newline, else the whole input twice */
    const char *a = buf, *b = buf;
    const uint8_t *nul = memchr(data, 0, size);
    if (nul) {
        b = buf + (nul - data) + 1;        /* stops at the next NUL or the end */
    } else {
        char *nl = memchr(buf, '\n', size);
        if (nl) {
            *nl = '\0';
            b = nl + 1;
        }
    }

    int eq = k8ssa_header_name_equals(a, b);
    int eq_rev = k8ssa_header_name_equals(b, a);
    int pre = k8ssa_header_name_has_prefix(a, b);
    CHECK(eq == 0 || eq == 1);
    CHECK(eq == eq_rev);
    CHECK(eq == ref_equals(a, b));
    CHECK(pre == ref_has_prefix(a, b));
    if (eq)
        CHECK(pre == 1 && k8ssa_header_name_has_prefix(b, a) == 1);
    if (pre && strlen(a) == strlen(b))
        CHECK(eq == 1);
    CHECK(k8ssa_header_name_equals(a, a) == 1);
    CHECK(k8ssa_header_name_has_prefix(a, a) == 1);

    CHECK(k8ssa_is_header_name(a) == ref_is_header_name(a));
    CHECK(k8ssa_is_header_name(b) == ref_is_header_name(b));

    check_encode(a);
    check_encode(b);
    return 0;
}
