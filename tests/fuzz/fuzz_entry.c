/*
 * fuzz_entry.c - libFuzzer target for src/lib/entry.c.
 *
 * The raw input is a cache entry as a shared cache might hand it back,
 * decoded with a fixed secret and key. A raw input almost never carries a
 * valid MAC, so the input is also decoded re-signed: its last 32 bytes
 * replaced by the MAC of the rest, which puts hostile but authenticated
 * content in front of the parser.
 *
 * Invariants: a status is one of the enum; on OK a positive entry has an
 * identity whose username is non-empty and every string is printable and
 * within the identity.h limits, and token_exp >= 0; re-encoding an OK entry
 * gives back exactly the bytes decoded (the encoding is canonical), and those
 * decode again to equal fields; another key never verifies.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#include "entry.h"
#include "hmac.h"
#include "identity.h"

/* The fixed secret and key of the seed corpus (tests/fuzz/corpus/entry). */
static const unsigned char secret[32] = "k8ssa-fuzz-entry-secret-32-bytes";
static const unsigned char key[K8SSA_TOKENKEY_LEN] = "k8ssa-fuzz-entry-tokenkey-32-byt";

static int strs_equal(const char *const *a, size_t na, const char *const *b, size_t nb)
{
    if (na != nb)
        return 0;
    for (size_t i = 0; i < na; i++)
        if (strcmp(a[i], b[i]) != 0)
            return 0;
    return 1;
}

static int entries_equal(const k8ssa_entry *a, const k8ssa_entry *b)
{
    if (a->kind != b->kind || a->positive != b->positive || a->reviewed_at != b->reviewed_at
        || a->token_exp != b->token_exp)
        return 0;
    /* only a positive token review carries an identity */
    if (a->kind != K8SSA_ENTRY_TOKEN || !a->positive)
        return a->id == NULL && b->id == NULL;
    const k8ssa_identity *x = a->id, *y = b->id;
    if (strcmp(x->username, y->username) != 0 || strcmp(x->uid, y->uid) != 0
        || !strs_equal(x->groups, x->ngroups, y->groups, y->ngroups)
        || !strs_equal(x->audiences, x->naudiences, y->audiences, y->naudiences)
        || x->nextra != y->nextra)
        return 0;
    for (size_t i = 0; i < x->nextra; i++)
        if (strcmp(x->extra[i].key, y->extra[i].key) != 0
            || !strs_equal(x->extra[i].values, x->extra[i].nvalues, y->extra[i].values,
                           y->extra[i].nvalues))
            return 0;
    return 1;
}

/* The input as an entry of one kind: whatever it decodes to obeys the
 * rules of that kind, and is refused as the other kind. */
static void check_decode_as(const unsigned char *buf, size_t len, k8ssa_entry_kind kind)
{
    static unsigned char again[K8SSA_ENTRY_MAX];
    k8ssa_entry e, e2;
    k8ssa_entry_kind other_kind = kind == K8SSA_ENTRY_TOKEN ? K8SSA_ENTRY_ACCESS
                                                            : K8SSA_ENTRY_TOKEN;
    k8ssa_entry_status st = k8ssa_entry_decode(pool, secret, sizeof(secret), key, kind, buf,
                                               len, &e);

    CHECK(st == K8SSA_ENTRY_OK || st == K8SSA_ENTRY_FORGED || st == K8SSA_ENTRY_BAD_VERSION
          || st == K8SSA_ENTRY_WRONG_KIND || st == K8SSA_ENTRY_MALFORMED);
    CHECK(k8ssa_entry_status_reason(st) != NULL);
    if (st != K8SSA_ENTRY_OK) {
        CHECK(e.id == NULL && e.positive == 0);
        return;
    }
    CHECK(len > K8SSA_ENTRY_MAC_LEN && len <= K8SSA_ENTRY_MAX);
    CHECK(e.kind == kind);
    CHECK(e.positive == 0 || e.positive == 1);
    CHECK(e.token_exp >= 0);
    if (kind == K8SSA_ENTRY_TOKEN && e.positive) {
        check_identity(e.id);
    } else {
        CHECK(e.id == NULL);
        if (kind == K8SSA_ENTRY_ACCESS)
            CHECK(e.token_exp == 0);
    }
    CHECK(k8ssa_entry_decode(pool, secret, sizeof(secret), key, other_kind, buf, len, &e2)
          == K8SSA_ENTRY_WRONG_KIND);

    /* canonical: re-encoding gives the very same bytes */
    size_t len2 = 0;
    CHECK(k8ssa_entry_encode(secret, sizeof(secret), key, &e, again, sizeof(again), &len2)
          == K8SSA_ENTRY_OK);
    CHECK(len2 == len);
    CHECK(memcmp(again, buf, len) == 0);
    CHECK(k8ssa_entry_decode(pool, secret, sizeof(secret), key, kind, again, len2, &e2)
          == K8SSA_ENTRY_OK);
    CHECK(entries_equal(&e, &e2));

    /* the MAC binds the key */
    unsigned char other[K8SSA_TOKENKEY_LEN];
    memcpy(other, key, sizeof(other));
    other[0] ^= 1;
    CHECK(k8ssa_entry_decode(pool, secret, sizeof(secret), other, kind, buf, len, &e2)
          == K8SSA_ENTRY_FORGED);
}

static void check_decode(const unsigned char *buf, size_t len)
{
    check_decode_as(buf, len, K8SSA_ENTRY_TOKEN);
    check_decode_as(buf, len, K8SSA_ENTRY_ACCESS);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init_once();
    apr_pool_clear(pool);

    /* exact-size copy: nothing beyond len may be read */
    unsigned char *buf = malloc(size ? size : 1);
    CHECK(buf != NULL);
    if (size)
        memcpy(buf, data, size);

    check_decode(buf, size);

    /* re-signed: the parser sees the body as authenticated content */
    if (size >= K8SSA_ENTRY_MAC_LEN) {
        k8ssa_hmac_key *keyed = k8ssa_hmac_key_new(secret, sizeof(secret));
        k8ssa_hmac h;
        CHECK(k8ssa_hmac_begin(&h, keyed));
        CHECK(k8ssa_hmac_update(&h, "k8ssa-entry-v2", 15));
        CHECK(k8ssa_hmac_update(&h, key, sizeof(key)));
        CHECK(k8ssa_hmac_update(&h, buf, size - K8SSA_ENTRY_MAC_LEN));
        CHECK(k8ssa_hmac_end(&h, buf + size - K8SSA_ENTRY_MAC_LEN));
        k8ssa_hmac_key_free(keyed);
        check_decode(buf, size);
    }
    free(buf);
    return 0;
}
