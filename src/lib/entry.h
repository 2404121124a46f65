/*
 * entry.h - a cached review as bytes: a versioned compact encoding of the
 * review result followed by an HMAC-SHA256 over the cache key and the
 * encoding. A shared cache (memcached, redis) is somebody else's memory: an
 * entry that does not verify, or does not decode exactly, is a miss, never an
 * identity. Each entry carries its kind (a token review, an access decision):
 * one is never read as the other.
 */
#ifndef K8SSA_ENTRY_H
#define K8SSA_ENTRY_H

#include <stddef.h>
#include <stdint.h>
#include <apr_pools.h>
#include <apr_time.h>

#include "identity.h"
#include "hmac.h"
#include "tokenkey.h"

#define K8SSA_ENTRY_VERSION 2
#define K8SSA_ENTRY_MAC_LEN 32
/* The largest entry the encoder writes, MAC included; also the retrieve
 * buffer size. A larger identity is served uncached. */
#define K8SSA_ENTRY_MAX 16384

/* What an entry holds; the tag is part of the authenticated bytes. */
typedef enum {
    K8SSA_ENTRY_TOKEN = 1,       /* a TokenReview: authenticated (with the identity) or not */
    K8SSA_ENTRY_ACCESS = 2       /* an access decision: allowed or not */
} k8ssa_entry_kind;

typedef struct {
    int positive;                /* 1: authenticated token / allowed access; 0: rejected / denied */
    apr_time_t reviewed_at;      /* when the API server answered */
    int64_t token_exp;           /* the token's JWT exp (seconds), 0: none */
    const k8ssa_identity *id;    /* positive token entries only */
    k8ssa_entry_kind kind;       /* what the entry is (encode) or was asked to be (decode) */
} k8ssa_entry;

typedef enum {
    K8SSA_ENTRY_OK = 0,
    K8SSA_ENTRY_TOO_LARGE,       /* encode: over K8SSA_ENTRY_MAX */
    K8SSA_ENTRY_FORGED,          /* decode: the MAC does not verify */
    K8SSA_ENTRY_BAD_VERSION,     /* decode: another format version */
    K8SSA_ENTRY_WRONG_KIND,      /* decode: an entry of another kind than asked for */
    K8SSA_ENTRY_MALFORMED        /* decode: truncated, trailing bytes, bad counts or strings */
} k8ssa_entry_status;

/*
 * Encodes e (of e->kind) for the cache key `key` into buf (cap bytes, at
 * least K8SSA_ENTRY_MAX), MAC included; *len is the encoded length.
 */
k8ssa_entry_status k8ssa_entry_encode(const unsigned char *mac_secret, size_t secret_len,
                                      const unsigned char key[K8SSA_TOKENKEY_LEN],
                                      const k8ssa_entry *e, unsigned char *buf,
                                      size_t cap, size_t *len);

/*
 * Verifies and decodes buf[0..len) stored under `key` as an entry of `kind`;
 * the identity is allocated in p. Strings obey the same rules as TokenReview
 * answers (printable strict UTF-8, identity.h limits).
 */
k8ssa_entry_status k8ssa_entry_decode(apr_pool_t *p, const unsigned char *mac_secret,
                                      size_t secret_len,
                                      const unsigned char key[K8SSA_TOKENKEY_LEN],
                                      k8ssa_entry_kind kind, const unsigned char *buf,
                                      size_t len, k8ssa_entry *out);

/* The same with the secret keyed once (hmac.h), as the module does: no
 * key schedule per entry. keyed NULL: TOO_LARGE / FORGED. */
k8ssa_entry_status k8ssa_entry_encode_keyed(const struct k8ssa_hmac_key *keyed,
                                            const unsigned char key[K8SSA_TOKENKEY_LEN],
                                            const k8ssa_entry *e, unsigned char *buf,
                                            size_t cap, size_t *len);
k8ssa_entry_status k8ssa_entry_decode_keyed(apr_pool_t *p, const struct k8ssa_hmac_key *keyed,
                                            const unsigned char key[K8SSA_TOKENKEY_LEN],
                                            k8ssa_entry_kind kind, const unsigned char *buf,
                                            size_t len, k8ssa_entry *out);

const char *k8ssa_entry_status_reason(k8ssa_entry_status st);

#endif
