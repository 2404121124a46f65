/*
 * fuzz_accessreview.c - libFuzzer target for src/lib/accessreview.c.
 *
 * The input as a SubjectAccessReview answer: the outcome is one of the
 * three, an ALLOWED answer is a JSON object of kind SubjectAccessReview whose
 * status.allowed is true and status.denied not true (checked with json-c
 * independently), the detail is printable, and parsing is deterministic.
 * Then the input split at NULs as attribute values of a request: the body is
 * JSON that parses back with those values.
 */
#include "fuzz.h"

#include <json-c/json.h>

#include "accessreview.h"

static int reference_allowed(const uint8_t *data, size_t size)
{
    struct json_tokener *tok = json_tokener_new();
    json_object *root, *kind, *status, *allowed, *denied = NULL;
    int ok = 0;

    root = json_tokener_parse_ex(tok, (const char *)data, (int)size);
    if (root != NULL && json_object_object_get_ex(root, "kind", &kind)
        && json_object_is_type(kind, json_type_string)
        && strcmp(json_object_get_string(kind), "SubjectAccessReview") == 0
        && json_object_object_get_ex(root, "status", &status)
        && json_object_object_get_ex(status, "allowed", &allowed)
        && json_object_is_type(allowed, json_type_boolean) && json_object_get_boolean(allowed)
        && !(json_object_object_get_ex(status, "denied", &denied) && denied != NULL
             && json_object_get_boolean(denied)))
        ok = 1;
    json_object_put(root);
    json_tokener_free(tok);
    return ok;
}

static void check_request(const uint8_t *data, size_t size)
{
    const char *w[7] = { "", "", "", "", "", "", "" };
    char *copy = apr_palloc(pool, size + 1);
    size_t i, n = 0;
    json_object *root, *spec, *attrs, *v;

    memcpy(copy, data, size);
    copy[size] = '\0';
    w[0] = copy;
    for (i = 0; i < size && n < 6; i++)
        if (copy[i] == '\0')
            w[++n] = copy + i + 1;
    /* the request writes what it is given; the module gives printable text */
    for (i = 0; i < 7; i++)
        if (!k8ssa_is_printable(w[i], strlen(w[i])))
            return;
    k8ssa_identity id = { "u", "", NULL, 0, NULL, 0, NULL, 0 };
    k8ssa_access_attributes a = { w[0], w[1], w[2], w[3], w[4], w[5], w[6] };
    const char *body = k8ssa_accessreview_request(pool, &id, &a);
    CHECK(body != NULL);
    root = json_tokener_parse(body);
    CHECK(root != NULL);
    CHECK(json_object_object_get_ex(root, "spec", &spec));
    if (*w[6] && !*w[2]) {
        CHECK(json_object_object_get_ex(spec, "nonResourceAttributes", &attrs));
        CHECK(json_object_object_get_ex(attrs, "path", &v));
        CHECK(strcmp(json_object_get_string(v), w[6]) == 0);
    } else {
        CHECK(json_object_object_get_ex(spec, "resourceAttributes", &attrs));
        if (*w[4]) {
            CHECK(json_object_object_get_ex(attrs, "namespace", &v));
            CHECK(strcmp(json_object_get_string(v), w[4]) == 0);
        } else {
            CHECK(!json_object_object_get_ex(attrs, "namespace", &v));
        }
        if (*w[0]) {
            CHECK(json_object_object_get_ex(attrs, "verb", &v));
            CHECK(strcmp(json_object_get_string(v), w[0]) == 0);
        }
    }
    json_object_put(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    k8ssa_access_result r, r2;

    init_once();
    apr_pool_clear(pool);

    /* exact-size copy: nothing beyond size may be read */
    char *body = malloc(size ? size : 1);
    CHECK(body != NULL);
    memcpy(body, data, size);
    k8ssa_accessreview_parse(pool, body, size, &r);
    k8ssa_accessreview_parse(pool, body, size, &r2);
    free(body);

    CHECK(r.outcome == K8SSA_ACCESS_ALLOWED || r.outcome == K8SSA_ACCESS_DENIED
          || r.outcome == K8SSA_ACCESS_UNPARSEABLE);
    CHECK(r.outcome == r2.outcome);
    if (r.outcome == K8SSA_ACCESS_UNPARSEABLE)
        CHECK(r.detail != NULL);
    if (r.detail != NULL)
        CHECK(k8ssa_is_printable(r.detail, strlen(r.detail)));
    if (r.outcome == K8SSA_ACCESS_ALLOWED)
        CHECK(reference_allowed(data, size));
    check_request(data, size);
    return 0;
}
