/*
 * fuzz_jose.c - libFuzzer target for src/lib/jose.c and src/lib/precheck.c.
 *
 * The input as a bearer token: a JWT is three non-empty-headed parts, every
 * string it yields is printable, times are in range, the signing input is the
 * token up to its last dot, the precheck never fails on what parse returns,
 * and parsing is deterministic.
 */
#include "fuzz.h"

#include "jose.h"
#include "precheck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    k8ssa_jws a, b;
    const char *tok = (const char *)data;
    const char *const auds[] = { "https://kubernetes.default.svc", "gw" };
    k8ssa_jose_status st;
    size_t i;

    init_once();
    st = k8ssa_jose_parse(pool, tok, size, &a);
    CHECK(st == K8SSA_JOSE_OK || st == K8SSA_JOSE_NOT_JWT);
    CHECK(k8ssa_jose_parse(pool, tok, size, &b) == st);
    if (st == K8SSA_JOSE_OK) {
        const char *last = memchr(tok, '.', size);
        CHECK(last != NULL);
        CHECK(a.signing_input == tok);
        CHECK(a.signing_input_len < size && tok[a.signing_input_len] == '.');
        CHECK(memchr(tok + a.signing_input_len + 1, '.', size - a.signing_input_len - 1) == NULL);
        CHECK(a.signature_len <= K8SSA_JOSE_MAX_SIGNATURE);
        CHECK(a.alg == NULL || printable(a.alg));
        CHECK(a.kid == NULL || printable(a.kid));
        CHECK(a.iss == NULL || printable(a.iss));
        CHECK(!a.has_aud || (a.naud >= 1 && a.naud <= K8SSA_JOSE_MAX_AUDIENCES));
        for (i = 0; a.has_aud && i < a.naud; i++)
            CHECK(printable(a.aud[i]) && strcmp(a.aud[i], b.aud[i]) == 0);
        CHECK(!a.has_exp || (a.exp >= 0 && a.exp == b.exp));
        CHECK(!a.has_nbf || (a.nbf >= 0 && a.nbf == b.nbf));
        CHECK(a.header_ok == b.header_ok);
        CHECK(k8ssa_precheck(&a, 1700000000, auds, 2) == k8ssa_precheck(&b, 1700000000, auds, 2));
        (void)k8ssa_precheck(&a, 0, NULL, 0);
    }
    apr_pool_clear(pool);
    return 0;
}
