/* jws.c - RS256 / ES256 signature checks (see jws.h). */
#include "jws.h"

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <string.h>

static int rs256_verifies(EVP_PKEY *pkey, const k8ssa_jws *t)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok;

    /* PKCS#1 v1.5 (the default padding): a signature is exactly the
     * modulus's size. */
    ok = md != NULL && (int)t->signature_len == EVP_PKEY_get_size(pkey)
        && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pkey) == 1
        && EVP_DigestVerify(md, t->signature, t->signature_len,
                            (const unsigned char *)t->signing_input,
                            t->signing_input_len) == 1;
    EVP_MD_CTX_free(md);
    return ok;
}

static int es256_verifies(EVP_PKEY *pkey, const k8ssa_jws *t)
{
    ECDSA_SIG *sig;
    BIGNUM *r, *s;
    unsigned char *der = NULL;
    EVP_MD_CTX *md;
    int der_len, ok;

    /* JWS carries r||s, 32 bytes each; a DER signature is not ES256. */
    if (t->signature_len != 64)
        return 0;
    sig = ECDSA_SIG_new();
    r = BN_bin2bn(t->signature, 32, NULL);
    s = BN_bin2bn(t->signature + 32, 32, NULL);
    if (sig == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(sig, r, s) != 1) {
        ECDSA_SIG_free(sig);
        BN_free(r);
        BN_free(s);
        return 0;
    }
    der_len = i2d_ECDSA_SIG(sig, &der);
    ECDSA_SIG_free(sig);
    if (der_len <= 0)
        return 0;
    md = EVP_MD_CTX_new();
    ok = md != NULL && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pkey) == 1
        && EVP_DigestVerify(md, der, (size_t)der_len, (const unsigned char *)t->signing_input,
                            t->signing_input_len) == 1;
    EVP_MD_CTX_free(md);
    OPENSSL_clear_free(der, (size_t)der_len);
    return ok;
}

k8ssa_jws_status k8ssa_jws_verify(const k8ssa_jws *t, const k8ssa_jwks *set)
{
    k8ssa_jwk_type want;
    int (*verifies)(EVP_PKEY *, const k8ssa_jws *);
    int candidates = 0, tries = 0, untried = 0;
    size_t i;

    if (!t->header_ok || t->alg == NULL)
        return K8SSA_JWS_BAD_ALG;
    if (strcmp(t->alg, "RS256") == 0) {
        want = K8SSA_JWK_RSA;
        verifies = rs256_verifies;
    } else if (strcmp(t->alg, "ES256") == 0) {
        want = K8SSA_JWK_EC_P256;
        verifies = es256_verifies;
    } else {
        return K8SSA_JWS_BAD_ALG;
    }
    for (i = 0; i < set->nkeys; i++) {
        const k8ssa_jwk *k = &set->keys[i];
        if (t->kid != NULL && (k->kid == NULL || strcmp(k->kid, t->kid) != 0))
            continue;
        candidates++;
        if (k->type != want)
            continue;
        if (tries++ == K8SSA_JWS_MAX_TRIES) {
            untried = 1;
            break;
        }
        if (verifies(k->pkey, t))
            return K8SSA_JWS_VALID;
    }
    if (candidates == 0)
        return K8SSA_JWS_UNKNOWN_KID;
    return untried ? K8SSA_JWS_TOO_MANY_KEYS : K8SSA_JWS_BAD_SIGNATURE;
}

const char *k8ssa_jws_status_reason(k8ssa_jws_status st)
{
    switch (st) {
    case K8SSA_JWS_VALID:
        return "valid signature";
    case K8SSA_JWS_UNKNOWN_KID:
        return "signed with a key the issuer does not publish (unknown kid)";
    case K8SSA_JWS_BAD_ALG:
        return "alg is not RS256 or ES256";
    case K8SSA_JWS_BAD_SIGNATURE:
        return "the signature does not verify";
    case K8SSA_JWS_TOO_MANY_KEYS:
        return "more keys fit the token than are tried";
    }
    return "?";
}
