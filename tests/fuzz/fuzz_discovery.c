/*
 * fuzz_discovery.c - libFuzzer target for the discovery-document parser
 * (k8ssa_discovery_issuer in src/lib/jwks.c): an issuer it returns is a
 * printable https URL without spaces, at most 1024 bytes, and parsing is
 * deterministic.
 */
#include "fuzz.h"

#include "jwks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *why = NULL, *iss, *again;

    init_once();
    iss = k8ssa_discovery_issuer(pool, (const char *)data, size, &why);
    again = k8ssa_discovery_issuer(pool, (const char *)data, size, &why);
    CHECK((iss == NULL) == (again == NULL));
    if (iss != NULL) {
        CHECK(strcmp(iss, again) == 0);
        CHECK(strncmp(iss, "https://", 8) == 0);
        CHECK(strlen(iss) <= 1024 && printable(iss) && strchr(iss, ' ') == NULL);
    } else {
        CHECK(why != NULL);
    }
    apr_pool_clear(pool);
    return 0;
}
