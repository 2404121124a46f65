/*
 * fuzz_tokenreview.c - libFuzzer target for src/lib/tokenreview.c.
 *
 * The raw input is an API server answer, parsed with and without requested
 * audiences. Invariants: AUTHENTICATED implies an identity whose username is
 * non-empty and printable and whose uid, groups and extra are printable and
 * within the limits; with audiences requested, one of them is among
 * status.audiences; a result's detail is printable. The input is also used as
 * a token for the request builder, whose output must be one JSON object that
 * carries the token back exactly.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include <json-c/json.h>

#include "tokenreview.h"
#include "identity.h"


static void check_result(const k8ssa_review_result *r, const char *const *auds, size_t nauds)
{
    CHECK(r->outcome == K8SSA_REVIEW_AUTHENTICATED || r->outcome == K8SSA_REVIEW_REJECTED ||
          r->outcome == K8SSA_REVIEW_UNPARSEABLE);
    if (r->detail)
        CHECK(k8ssa_is_printable(r->detail, strlen(r->detail)));
    if (r->outcome != K8SSA_REVIEW_AUTHENTICATED)
        return;
    const k8ssa_identity *id = r->id;
    check_identity(id);
    if (nauds) {
        int shared = 0;
        for (size_t i = 0; i < id->naudiences && !shared; i++)
            for (size_t j = 0; j < nauds && !shared; j++)
                shared = strcmp(id->audiences[i], auds[j]) == 0;
        CHECK(shared);
    }
}

static void check_request(const uint8_t *data, size_t size)
{
    static const char *const auds[] = { "api", "a\"b\\c" };
    char *body = k8ssa_tokenreview_request(pool, (const char *)data, size, auds, 2);
    CHECK(body != NULL);
    json_tokener *tok = json_tokener_new();
    CHECK(tok != NULL);
    json_object *o = json_tokener_parse_ex(tok, body, (int)strlen(body));
    CHECK(o != NULL);
    CHECK(json_tokener_get_error(tok) == json_tokener_success);
    CHECK(json_tokener_get_parse_end(tok) == strlen(body));
    json_tokener_free(tok);
    json_object *spec = NULL, *t = NULL, *a = NULL;
    CHECK(json_object_object_get_ex(o, "spec", &spec));
    CHECK(json_object_object_get_ex(spec, "token", &t));
    CHECK(json_object_is_type(t, json_type_string));
    CHECK((size_t)json_object_get_string_len(t) == size);
    CHECK(size == 0 || memcmp(json_object_get_string(t), data, size) == 0);
    CHECK(json_object_object_get_ex(spec, "audiences", &a));
    CHECK(json_object_array_length(a) == 2);
    CHECK(strcmp(json_object_get_string(json_object_array_get_idx(a, 1)), auds[1]) == 0);
    json_object_put(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const auds[] = { "https://kubernetes.default.svc", "api" };
    k8ssa_review_result r;

    init_once();
    apr_pool_clear(pool);

    /* exact-size copy: nothing beyond len may be read */
    char *body = malloc(size ? size : 1);
    CHECK(body != NULL);
    if (size)
        memcpy(body, data, size);

    memset(&r, 0, sizeof(r));
    k8ssa_tokenreview_parse(pool, body, size, NULL, 0, &r);
    check_result(&r, NULL, 0);
    k8ssa_review_outcome without = r.outcome;

    memset(&r, 0, sizeof(r));
    k8ssa_tokenreview_parse(pool, body, size, auds, 2, &r);
    check_result(&r, auds, 2);
    /* requesting audiences can only make the answer stricter */
    if (r.outcome == K8SSA_REVIEW_AUTHENTICATED)
        CHECK(without == K8SSA_REVIEW_AUTHENTICATED);
    if (without == K8SSA_REVIEW_UNPARSEABLE)
        CHECK(r.outcome == K8SSA_REVIEW_UNPARSEABLE);

    free(body);

    if (size <= 4096)
        check_request(data, size);
    return 0;
}
