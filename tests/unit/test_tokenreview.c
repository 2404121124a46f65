/*
 * test_tokenreview.c - unit tests of src/lib/tokenreview.c against
 * src/lib/tokenreview.h: the request body (parsed back with json-c) and the
 * interpretation of well-formed, rejecting and hostile API server answers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "unit.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <json-c/json.h>

#include "tokenreview.h"
#include "json.h"
#include "identity.h"

/* ============================================================ helpers */

static const char *outcome_name(k8ssa_review_outcome o)
{
    switch (o) {
    case K8SSA_REVIEW_AUTHENTICATED: return "AUTHENTICATED";
    case K8SSA_REVIEW_REJECTED: return "REJECTED";
    case K8SSA_REVIEW_UNPARSEABLE: return "UNPARSEABLE";
    }
    return "?";
}

static int printable(const char *s)
{
    return s != NULL && k8ssa_is_printable(s, strlen(s));
}

/* What must hold of every result, whatever the input. */
static void check_result_sane(const k8ssa_review_result *r)
{
    if (r->detail)
        assert_true(printable(r->detail));   /* log-safe */
    if (r->outcome != K8SSA_REVIEW_AUTHENTICATED)
        return;
    const k8ssa_identity *id = r->id;
    assert_non_null(id);
    assert_non_null(id->username);
    assert_true(id->username[0] != '\0');
    assert_true(printable(id->username));
    assert_true(strlen(id->username) <= K8SSA_MAX_STRING);
    assert_non_null(id->uid);
    assert_true(printable(id->uid));
    assert_true(id->ngroups <= K8SSA_MAX_GROUPS);
    for (size_t i = 0; i < id->ngroups; i++) {
        assert_true(printable(id->groups[i]));
        assert_true(strlen(id->groups[i]) <= K8SSA_MAX_STRING);
    }
    assert_true(id->nextra <= K8SSA_MAX_EXTRA_KEYS);
    for (size_t i = 0; i < id->nextra; i++) {
        assert_true(printable(id->extra[i].key));
        assert_true(id->extra[i].nvalues <= K8SSA_MAX_EXTRA_VALS);
        for (size_t j = 0; j < id->extra[i].nvalues; j++)
            assert_true(printable(id->extra[i].values[j]));
    }
    assert_true(id->naudiences <= K8SSA_MAX_AUDIENCES);
    for (size_t i = 0; i < id->naudiences; i++)
        assert_non_null(id->audiences[i]);
}

/* Parses body[0..len) from an exact-size heap copy (so ASan sees any read
 * past len, and any result pointing into the body is caught after free). */
static k8ssa_review_result parse_n(apr_pool_t *p, const char *body, size_t len,
                                   const char *const *auds, size_t nauds)
{
    k8ssa_review_result r;
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    if (len)
        memcpy(copy, body, len);
    memset(&r, 0x5a, sizeof(r));
    k8ssa_tokenreview_parse(p, copy, len, auds, nauds, &r);
    memset(copy, 'X', len);
    free(copy);
    check_result_sane(&r);
    return r;
}

static k8ssa_review_result parse_s(apr_pool_t *p, const char *body,
                                   const char *const *auds, size_t nauds)
{
    return parse_n(p, body, strlen(body), auds, nauds);
}

static void expect_outcome(apr_pool_t *p, const char *body, size_t len,
                           const char *const *auds, size_t nauds,
                           k8ssa_review_outcome want)
{
    k8ssa_review_result r = parse_n(p, body, len, auds, nauds);
    if (r.outcome != want)
        print_error("outcome %s, expected %s (detail %s) for body: %.*s\n",
                    outcome_name(r.outcome), outcome_name(want),
                    r.detail ? r.detail : "(null)", (int)(len > 400 ? 400 : len), body);
    assert_int_equal(r.outcome, want);
}

#define UNPARSEABLE(p, body) \
    expect_outcome((p), (body), strlen(body), NULL, 0, K8SSA_REVIEW_UNPARSEABLE)

/* A TokenReview answer whose status object holds `status_inner`. */
static const char *answer(apr_pool_t *p, const char *status_inner)
{
    return apr_psprintf(p,
        "{\"kind\":\"TokenReview\",\"apiVersion\":\"authentication.k8s.io/v1\","
        "\"metadata\":{\"creationTimestamp\":null},"
        "\"spec\":{\"token\":\"eyJhbGciOiJSUzI1NiJ9.e30.c2ln\"},"
        "\"status\":{%s}}", status_inner);
}

/* An authenticated answer with the given user object. */
static const char *answer_user(apr_pool_t *p, const char *user_inner)
{
    return answer(p, apr_psprintf(p, "\"authenticated\":true,\"user\":{%s}", user_inner));
}

#define GOOD_USER \
    "\"username\":\"system:serviceaccount:ns:sa\",\"uid\":\"u-1\"," \
    "\"groups\":[\"g1\",\"g2\"],\"extra\":{\"k/x\":[\"v\"]}"

/* A genuine answer of a Kubernetes 1.30 API server (201), newline included:
 * the Go encoder ends its output with one. */
static const char REAL_ANSWER[] =
    "{\"kind\":\"TokenReview\",\"apiVersion\":\"authentication.k8s.io/v1\","
    "\"metadata\":{\"creationTimestamp\":null},"
    "\"spec\":{\"token\":\"eyJhbGciOiJSUzI1NiIsImtpZCI6IkFCQyJ9.eyJzdWIiOiJ4In0.c2ln\","
    "\"audiences\":[\"https://kubernetes.default.svc.cluster.local\"]},"
    "\"status\":{\"authenticated\":true,"
    "\"user\":{\"username\":\"system:serviceaccount:kubeflow:pipeline-runner\","
    "\"uid\":\"0b3f5c1e-3f0d-4b7c-9d1e-2a5c7e9f1a2b\","
    "\"groups\":[\"system:serviceaccounts\",\"system:serviceaccounts:kubeflow\",\"system:authenticated\"],"
    "\"extra\":{\"authentication.kubernetes.io/credential-id\":[\"JTI=4d9c1a2b-7e3f-4a5b-8c6d-9e0f1a2b3c4d\"],"
    "\"authentication.kubernetes.io/node-name\":[\"kind-control-plane\"],"
    "\"authentication.kubernetes.io/node-uid\":[\"5e2f0a9c-1b3d-4e5f-8a7b-6c9d0e1f2a3b\"],"
    "\"authentication.kubernetes.io/pod-name\":[\"ml-pipeline-7d9f8b6c5-xk2lp\"],"
    "\"authentication.kubernetes.io/pod-uid\":[\"a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d\"]}},"
    "\"audiences\":[\"https://kubernetes.default.svc.cluster.local\"]}}\n";

static const k8ssa_extra *find_extra(const k8ssa_identity *id, const char *key)
{
    for (size_t i = 0; i < id->nextra; i++)
        if (strcmp(id->extra[i].key, key) == 0)
            return &id->extra[i];
    return NULL;
}

/* ====================================================== request builder */

static json_object *parse_json_exact(const char *s)
{
    json_tokener *tok = json_tokener_new();
    json_object *o = json_tokener_parse_ex(tok, s, (int)strlen(s));
    assert_int_equal(json_tokener_get_error(tok), json_tokener_success);
    assert_int_equal(json_tokener_get_parse_end(tok), strlen(s));
    json_tokener_free(tok);
    assert_non_null(o);
    return o;
}

static json_object *get(json_object *o, const char *key)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(o, key, &v))
        return NULL;
    return v;
}

static void check_request(apr_pool_t *p, const char *token, size_t token_len,
                          const char *const *auds, size_t nauds)
{
    char *body = k8ssa_tokenreview_request(p, token, token_len, auds, nauds);
    assert_non_null(body);
    json_object *o = parse_json_exact(body);
    assert_true(json_object_is_type(o, json_type_object));

    json_object *v = get(o, "apiVersion");
    assert_non_null(v);
    assert_string_equal(json_object_get_string(v), "authentication.k8s.io/v1");
    v = get(o, "kind");
    assert_non_null(v);
    assert_string_equal(json_object_get_string(v), "TokenReview");

    json_object *spec = get(o, "spec");
    assert_non_null(spec);
    assert_true(json_object_is_type(spec, json_type_object));
    v = get(spec, "token");
    assert_non_null(v);
    assert_true(json_object_is_type(v, json_type_string));
    assert_int_equal((size_t)json_object_get_string_len(v), token_len);
    assert_memory_equal(json_object_get_string(v), token, token_len);

    v = get(spec, "audiences");
    if (nauds == 0) {
        assert_null(v);
    } else {
        assert_non_null(v);
        assert_true(json_object_is_type(v, json_type_array));
        assert_int_equal(json_object_array_length(v), nauds);
        for (size_t i = 0; i < nauds; i++) {
            json_object *a = json_object_array_get_idx(v, i);
            assert_true(json_object_is_type(a, json_type_string));
            assert_string_equal(json_object_get_string(a), auds[i]);
        }
    }
    json_object_put(o);
}

static void test_request_basic(void **state)
{
    apr_pool_t *p = *state;
    const char *tok = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln-_~+/==";
    check_request(p, tok, strlen(tok), NULL, 0);
}

static void test_request_audiences(void **state)
{
    apr_pool_t *p = *state;
    const char *one[] = { "https://kubernetes.default.svc" };
    const char *two[] = { "api", "kubeflow \"pipelines\"\\x" };
    check_request(p, "abc", 3, one, 1);
    check_request(p, "abc", 3, two, 2);
}

static void test_request_token_slice(void **state)
{
    apr_pool_t *p = *state;
    /* only token[0..token_len): the header value goes on after it */
    const char *hdr = "abcdef  trailing";
    check_request(p, hdr, 3, NULL, 0);
    char *body = k8ssa_tokenreview_request(p, hdr, 3, NULL, 0);
    assert_null(strstr(body, "trailing"));
    assert_null(strstr(body, "abcd"));
}

static void test_request_escaping(void **state)
{
    apr_pool_t *p = *state;
    const char *nasty[] = {
        "a\"b", "a\\b", "\"", "\\", "\\\"", "a\"},\"status\":{\"x\":\"",
        "/\b\f\n\r\t", "\x01\x1f\x7f", "</script>", "caf\xc3\xa9",
    };
    for (size_t i = 0; i < sizeof(nasty) / sizeof(nasty[0]); i++)
        check_request(p, nasty[i], strlen(nasty[i]), NULL, 0);
    /* an embedded NUL within token_len */
    check_request(p, "a\0b", 3, NULL, 0);
}

static void test_request_long_token(void **state)
{
    apr_pool_t *p = *state;
    size_t n = 16384;
    char *tok = apr_palloc(p, n + 1);
    memset(tok, 'x', n);
    tok[n] = '\0';
    check_request(p, tok, n, NULL, 0);
}

/* The escaper copies 16-byte blocks that need no escape and goes byte by
 * byte through any other: every byte value at every position of tokens of
 * 1..48 bytes (three blocks and a tail) gives what the plain byte-by-byte
 * rule gives. */
static size_t reference_escape(char *o, const unsigned char *s, size_t len)
{
    size_t n = 0;

    /* RFC 8259 section 7, written independently of the module's escaper:
     * quote and backslash escaped by a backslash, C0 controls as \u00XX */
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"' || s[i] == '\\')
            n += (size_t)sprintf(o + n, "\\%c", s[i]);
        else if (s[i] < 0x20)
            n += (size_t)sprintf(o + n, "\\u%04x", s[i]);
        else
            o[n++] = (char)s[i];
    }
    return n;
}

static void test_request_escaping_every_position(void **state)
{
    apr_pool_t *p = *state;
    static const char head[] =
        "{\"apiVersion\":\"authentication.k8s.io/v1\",\"kind\":\"TokenReview\","
        "\"spec\":{\"token\":\"";
    unsigned char tok[48];
    char want[sizeof(head) + 48 * 6 + 8];

    for (size_t len = 1; len <= sizeof(tok); len++) {
        for (size_t pos = 0; pos < len; pos++) {
            for (unsigned b = 0; b < 256; b++) {
                apr_pool_t *sub;
                apr_pool_create(&sub, p);
                memset(tok, 'A', len);
                tok[pos] = (unsigned char)b;
                size_t n = sizeof(head) - 1;
                memcpy(want, head, n);
                n += reference_escape(want + n, tok, len);
                memcpy(want + n, "\"}}", 4);
                char *body = k8ssa_tokenreview_request(sub, (const char *)tok, len, NULL, 0);
                if (strcmp(body, want) != 0)
                    fail_msg("length %zu, byte 0x%02x at %zu: %s", len, b, pos, body);
                apr_pool_destroy(sub);
            }
        }
    }
}

/* ======================================================= good answers */

static void test_parse_real_answer(void **state)
{
    apr_pool_t *p = *state;
    k8ssa_review_result r = parse_s(p, REAL_ANSWER, NULL, 0);
    assert_int_equal(r.outcome, K8SSA_REVIEW_AUTHENTICATED);
    const k8ssa_identity *id = r.id;
    assert_string_equal(id->username, "system:serviceaccount:kubeflow:pipeline-runner");
    assert_string_equal(id->uid, "0b3f5c1e-3f0d-4b7c-9d1e-2a5c7e9f1a2b");
    assert_int_equal(id->ngroups, 3);
    assert_string_equal(id->groups[0], "system:serviceaccounts");
    assert_string_equal(id->groups[1], "system:serviceaccounts:kubeflow");
    assert_string_equal(id->groups[2], "system:authenticated");
    assert_int_equal(id->nextra, 5);
    const k8ssa_extra *e = find_extra(id, "authentication.kubernetes.io/pod-name");
    assert_non_null(e);
    assert_int_equal(e->nvalues, 1);
    assert_string_equal(e->values[0], "ml-pipeline-7d9f8b6c5-xk2lp");
    e = find_extra(id, "authentication.kubernetes.io/credential-id");
    assert_non_null(e);
    assert_int_equal(e->nvalues, 1);
    assert_string_equal(e->values[0], "JTI=4d9c1a2b-7e3f-4a5b-8c6d-9e0f1a2b3c4d");
    e = find_extra(id, "authentication.kubernetes.io/node-name");
    assert_non_null(e);
    assert_string_equal(e->values[0], "kind-control-plane");
    assert_non_null(find_extra(id, "authentication.kubernetes.io/node-uid"));
    assert_non_null(find_extra(id, "authentication.kubernetes.io/pod-uid"));
    assert_int_equal(id->naudiences, 1);
    assert_string_equal(id->audiences[0], "https://kubernetes.default.svc.cluster.local");

    /* with the audience requested, too */
    const char *aud[] = { "https://kubernetes.default.svc.cluster.local" };
    r = parse_s(p, REAL_ANSWER, aud, 1);
    assert_int_equal(r.outcome, K8SSA_REVIEW_AUTHENTICATED);
    assert_string_equal(r.id->username, "system:serviceaccount:kubeflow:pipeline-runner");

    /* without the trailing newline */
    r = parse_n(p, REAL_ANSWER, strlen(REAL_ANSWER) - 1, NULL, 0);
    assert_int_equal(r.outcome, K8SSA_REVIEW_AUTHENTICATED);
}

static void test_parse_minimal_user(void **state)
{
    apr_pool_t *p = *state;
    /* uid, groups, extra and audiences all absent */
    k8ssa_review_result r = parse_s(p, answer_user(p, "\"username\":\"alice\""), NULL, 0);
    assert_int_equal(r.outcome, K8SSA_REVIEW_AUTHENTICATED);
    assert_string_equal(r.id->username, "alice");
    assert_string_equal(r.id->uid, "");
    assert_int_equal(r.id->ngroups, 0);
    assert_int_equal(r.id->nextra, 0);
    assert_int_equal(r.id->naudiences, 0);

    /* empty arrays and objects */
    r = parse_s(p, answer(p, "\"authenticated\":true,\"user\":{\"username\":\"bob\","
                             "\"uid\":\"\",\"groups\":[],\"extra\":{}},\"audiences\":[]"),
                NULL, 0);
    assert_int_equal(r.outcome, K8SSA_REVIEW_AUTHENTICATED);
    assert_string_equal(r.id->username, "bob");
    assert_int_equal(r.id->ngroups, 0);
    assert_int_equal(r.id->nextra, 0);
}

static void test_parse_unicode_and_escapes(void **state)
{
    apr_pool_t *p = *state;
    k8ssa_review_result r = parse_s(p,
        answer_user(p, "\"username\":\"caf\xc3\xa9 \\u00e9\\\"q\\\\s\\/\","
                       "\"groups\":[\"\xe2\x82\xac\",\"\xf0\x9f\x98\x80\"]"),
        NULL, 0);
    assert_int_equal(r.outcome, K8SSA_REVIEW_AUTHENTICATED);
    assert_string_equal(r.id->username, "caf\xc3\xa9 \xc3\xa9\"q\\s/");
    assert_int_equal(r.id->ngroups, 2);
    assert_string_equal(r.id->groups[0], "\xe2\x82\xac");
    assert_string_equal(r.id->groups[1], "\xf0\x9f\x98\x80");
}

static void test_parse_extra_multi(void **state)
{
    apr_pool_t *p = *state;
    k8ssa_review_result r = parse_s(p,
        answer_user(p, "\"username\":\"u\",\"extra\":{\"scopes\":[\"a\",\"b\",\"c\"],\"empty\":[]}"),
        NULL, 0);
    assert_int_equal(r.outcome, K8SSA_REVIEW_AUTHENTICATED);
    const k8ssa_extra *e = find_extra(r.id, "scopes");
    assert_non_null(e);
    assert_int_equal(e->nvalues, 3);
    assert_string_equal(e->values[0], "a");
    assert_string_equal(e->values[1], "b");
    assert_string_equal(e->values[2], "c");
}

/* ========================================================== rejections */

static void test_rejected_false_with_error(void **state)
{
    apr_pool_t *p = *state;
    const char *err = "[invalid bearer token, square/go-jose: error in cryptographic primitive, token lookup failed]";
    k8ssa_review_result r = parse_s(p,
        answer(p, apr_psprintf(p, "\"authenticated\":false,\"user\":{},\"error\":\"%s\"", err)),
        NULL, 0);
    assert_int_equal(r.outcome, K8SSA_REVIEW_REJECTED);
    assert_non_null(r.detail);
    assert_string_equal(r.detail, err);
}

/* What Kubernetes really sends for a bad token: authenticated omitted. */
static void test_rejected_omitted(void **state)
{
    apr_pool_t *p = *state;
    const char *err = "[invalid bearer token, token lookup failed]";
    k8ssa_review_result r = parse_s(p,
        answer(p, apr_psprintf(p, "\"user\":{},\"error\":\"%s\"", err)), NULL, 0);
    assert_int_equal(r.outcome, K8SSA_REVIEW_REJECTED);
    assert_non_null(r.detail);
    assert_string_equal(r.detail, err);

    r = parse_s(p, apr_pstrcat(p, answer(p, "\"user\":{}"), "\n", NULL), NULL, 0);
    assert_int_equal(r.outcome, K8SSA_REVIEW_REJECTED);

    /* a false answer with a user: still a rejection */
    r = parse_s(p, answer(p, "\"authenticated\":false,\"user\":{\"username\":\"alice\"}"), NULL, 0);
    assert_int_equal(r.outcome, K8SSA_REVIEW_REJECTED);
}

static void test_rejected_no_status(void **state)
{
    apr_pool_t *p = *state;
    k8ssa_review_result r = parse_s(p,
        "{\"kind\":\"TokenReview\",\"apiVersion\":\"authentication.k8s.io/v1\",\"spec\":{}}",
        NULL, 0);
    assert_int_not_equal(r.outcome, K8SSA_REVIEW_AUTHENTICATED);
    r = parse_s(p, answer(p, ""), NULL, 0);
    assert_int_not_equal(r.outcome, K8SSA_REVIEW_AUTHENTICATED);
    r = parse_s(p, "{}", NULL, 0);
    assert_int_not_equal(r.outcome, K8SSA_REVIEW_AUTHENTICATED);
}

/* status.error is logged: it must come out log-safe whatever it holds. */
static void test_rejected_error_control_chars(void **state)
{
    apr_pool_t *p = *state;
    k8ssa_review_result r = parse_s(p,
        answer(p, "\"authenticated\":false,\"error\":\"bad\\r\\ninjected: \\u0000\\u001b[31m\""),
        NULL, 0);
    assert_int_not_equal(r.outcome, K8SSA_REVIEW_AUTHENTICATED);
    /* check_result_sane() verified that any detail is printable */
}

/* ============================================================ audiences */

static void test_audiences_intersect(void **state)
{
    apr_pool_t *p = *state;
    const char *req[] = { "a", "b" };
    k8ssa_review_result r = parse_s(p,
        answer(p, "\"authenticated\":true,\"user\":{\"username\":\"u\"},\"audiences\":[\"b\",\"c\"]"),
        req, 2);
    assert_int_equal(r.outcome, K8SSA_REVIEW_AUTHENTICATED);
    assert_int_equal(r.id->naudiences, 2);
    assert_string_equal(r.id->audiences[0], "b");
    assert_string_equal(r.id->audiences[1], "c");

    r = parse_s(p,
        answer(p, "\"authenticated\":true,\"user\":{\"username\":\"u\"},\"audiences\":[\"a\"]"),
        req, 2);
    assert_int_equal(r.outcome, K8SSA_REVIEW_AUTHENTICATED);
}

static void test_audiences_disjoint(void **state)
{
    apr_pool_t *p = *state;
    const char *req[] = { "a", "b" };
    k8ssa_review_result r = parse_s(p,
        answer(p, "\"authenticated\":true,\"user\":{\"username\":\"u\"},\"audiences\":[\"c\",\"d\"]"),
        req, 2);
    assert_int_equal(r.outcome, K8SSA_REVIEW_REJECTED);

    /* exact match only: no prefix, case or whitespace games */
    const char *one[] = { "api" };
    const char *near[] = { "\"API\"", "\"api \"", "\"ap\"", "\"apis\"", "\"\"" };
    for (size_t i = 0; i < sizeof(near) / sizeof(near[0]); i++) {
        r = parse_s(p, answer(p, apr_psprintf(p,
                "\"authenticated\":true,\"user\":{\"username\":\"u\"},\"audiences\":[%s]", near[i])),
            one, 1);
        assert_int_equal(r.outcome, K8SSA_REVIEW_REJECTED);
    }
}

static void test_audiences_requested_none_answered(void **state)
{
    apr_pool_t *p = *state;
    const char *req[] = { "a" };
    k8ssa_review_result r = parse_s(p,
        answer(p, "\"authenticated\":true,\"user\":{\"username\":\"u\"},\"audiences\":[]"),
        req, 1);
    assert_int_equal(r.outcome, K8SSA_REVIEW_REJECTED);
    r = parse_s(p, answer(p, "\"authenticated\":true,\"user\":{\"username\":\"u\"}"), req, 1);
    assert_int_equal(r.outcome, K8SSA_REVIEW_REJECTED);
}

static void test_audiences_not_requested(void **state)
{
    apr_pool_t *p = *state;
    k8ssa_review_result r = parse_s(p,
        answer(p, "\"authenticated\":true,\"user\":{\"username\":\"u\"},\"audiences\":[\"x\"]"),
        NULL, 0);
    assert_int_equal(r.outcome, K8SSA_REVIEW_AUTHENTICATED);
    assert_int_equal(r.id->naudiences, 1);
    assert_string_equal(r.id->audiences[0], "x");
    r = parse_s(p, answer(p, "\"authenticated\":true,\"user\":{\"username\":\"u\"},\"audiences\":[]"),
                NULL, 0);
    assert_int_equal(r.outcome, K8SSA_REVIEW_AUTHENTICATED);
    r = parse_s(p, answer(p, "\"authenticated\":true,\"user\":{\"username\":\"u\"}"), NULL, 0);
    assert_int_equal(r.outcome, K8SSA_REVIEW_AUTHENTICATED);
    assert_int_equal(r.id->naudiences, 0);
}

/* ====================================================== hostile: syntax */

static void test_hostile_not_json(void **state)
{
    apr_pool_t *p = *state;
    expect_outcome(p, "", 0, NULL, 0, K8SSA_REVIEW_UNPARSEABLE);
    UNPARSEABLE(p, " ");
    UNPARSEABLE(p, "\n");
    UNPARSEABLE(p, "not json");
    UNPARSEABLE(p, "<html><body>502 Bad Gateway</body></html>");
    UNPARSEABLE(p, "null");
    UNPARSEABLE(p, "true");
    UNPARSEABLE(p, "42");
    UNPARSEABLE(p, "\"TokenReview\"");
    UNPARSEABLE(p, "[]");
    UNPARSEABLE(p, "[{\"status\":{\"authenticated\":true,\"user\":{\"username\":\"u\"}}}]");
    UNPARSEABLE(p, "{");
    UNPARSEABLE(p, "}");
    UNPARSEABLE(p, "{\"status\":");
    UNPARSEABLE(p, "{'status':{'authenticated':true,'user':{'username':'u'}}}");
    UNPARSEABLE(p, "{status:{authenticated:true,user:{username:\"u\"}}}");
}

/* Every strict prefix of a valid answer is unparseable. */
static void test_hostile_truncated(void **state)
{
    apr_pool_t *p = *state;
    size_t full = strlen(REAL_ANSWER) - 1;   /* without the newline */
    for (size_t n = 0; n < full; n++) {
        apr_pool_t *sub;
        assert_int_equal(apr_pool_create(&sub, p), APR_SUCCESS);
        k8ssa_review_result r = parse_n(sub, REAL_ANSWER, n, NULL, 0);
        if (r.outcome != K8SSA_REVIEW_UNPARSEABLE)
            print_error("prefix of %zu bytes: %s\n", n, outcome_name(r.outcome));
        assert_int_equal(r.outcome, K8SSA_REVIEW_UNPARSEABLE);
        apr_pool_destroy(sub);
    }
}

static void test_hostile_trailing_garbage(void **state)
{
    apr_pool_t *p = *state;
    size_t full = strlen(REAL_ANSWER) - 1;
    const char *tails[] = { "x", "}", "]", "{}", " {}", "\n{}", ",", " null",
                            "\n{\"status\":{\"authenticated\":false}}" };
    for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
        char *b = apr_pstrcat(p, apr_pstrndup(p, REAL_ANSWER, full), tails[i], NULL);
        UNPARSEABLE(p, b);
    }
}

/* A NUL byte before the end of the body: len > strlen(body). */
static void test_hostile_embedded_nul(void **state)
{
    apr_pool_t *p = *state;
    size_t full = strlen(REAL_ANSWER) - 1;
    char *b = apr_palloc(p, full + 16);

    /* valid answer, NUL, garbage */
    memcpy(b, REAL_ANSWER, full);
    memcpy(b + full, "\0garbage", 8);
    expect_outcome(p, b, full + 8, NULL, 0, K8SSA_REVIEW_UNPARSEABLE);

    /* valid answer then a lone NUL */
    k8ssa_review_result r = parse_n(p, b, full + 1, NULL, 0);
    assert_int_not_equal(r.outcome, K8SSA_REVIEW_AUTHENTICATED);

    /* a NUL inside the username string (raw) */
    const char *a = answer_user(p, "\"username\":\"alice@@bob\"");
    char *c = apr_pstrdup(p, a);
    char *at = strstr(c, "@@");
    at[0] = '\0';
    at[1] = 'x';
    expect_outcome(p, c, strlen(a), NULL, 0, K8SSA_REVIEW_UNPARSEABLE);

    /* a NUL in the middle of the object, between members */
    c = apr_pstrdup(p, a);
    at = strstr(c, ",\"user\"");
    at[0] = '\0';
    r = parse_n(p, c, strlen(a), NULL, 0);
    assert_int_not_equal(r.outcome, K8SSA_REVIEW_AUTHENTICATED);
}

static void test_hostile_deep_nesting(void **state)
{
    apr_pool_t *p = *state;
    size_t n = 10000;
    char *b = apr_palloc(p, 2 * n + 1);
    memset(b, '[', n);
    expect_outcome(p, b, n, NULL, 0, K8SSA_REVIEW_UNPARSEABLE);
    memset(b + n, ']', n);
    expect_outcome(p, b, 2 * n, NULL, 0, K8SSA_REVIEW_UNPARSEABLE);

    /* deeper than K8SSA_MAX_JSON_DEPTH inside an otherwise good answer */
    const char *deep = "";
    for (int i = 0; i < K8SSA_MAX_JSON_DEPTH + 4; i++)
        deep = apr_pstrcat(p, "{\"a\":", deep, i == 0 ? "1}" : "}", NULL);
    const char *ans = apr_psprintf(p,
        "{\"kind\":\"TokenReview\",\"metadata\":%s,"
        "\"status\":{\"authenticated\":true,\"user\":{\"username\":\"u\"}}}", deep);
    UNPARSEABLE(p, ans);

    /* 10000 objects deep */
    char *o = apr_palloc(p, 6 * n + 2);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        memcpy(o + k, "{\"a\":", 5);
        k += 5;
    }
    expect_outcome(p, o, k, NULL, 0, K8SSA_REVIEW_UNPARSEABLE);
}

static void test_hostile_too_large(void **state)
{
    apr_pool_t *p = *state;
    /* a good answer padded past K8SSA_MAX_RESPONSE_BYTES with a metadata string */
    size_t pad = K8SSA_MAX_RESPONSE_BYTES;
    char *s = apr_palloc(p, pad + 1);
    memset(s, 'a', pad);
    s[pad] = '\0';
    const char *ans = apr_psprintf(p,
        "{\"kind\":\"TokenReview\",\"metadata\":{\"annotations\":{\"x\":\"%s\"}},"
        "\"status\":{\"authenticated\":true,\"user\":{\"username\":\"u\"}}}", s);
    UNPARSEABLE(p, ans);

    /* or with whitespace */
    const char *good = answer_user(p, "\"username\":\"u\"");
    size_t glen = strlen(good);
    char *ws = apr_palloc(p, glen + pad + 1);
    memcpy(ws, good, glen);
    memset(ws + glen, ' ', pad);
    ws[glen + pad] = '\0';
    UNPARSEABLE(p, ws);
}

static void test_hostile_duplicate_keys(void **state)
{
    apr_pool_t *p = *state;
    const char *bodies[] = {
        "\"authenticated\":false,\"authenticated\":true,\"user\":{\"username\":\"u\"}",
        "\"authenticated\":true,\"authenticated\":false,\"user\":{\"username\":\"u\"}",
        "\"authenticated\":true,\"user\":{\"username\":\"a\",\"username\":\"b\"}",
        "\"authenticated\":true,\"user\":{\"username\":\"a\"},\"user\":{\"username\":\"b\"}",
        "\"authenticated\":true,\"user\":{\"username\":\"a\",\"username\":\"bad\\r\\n\"}",
        "\"authenticated\":true,\"user\":{\"username\":\"a\",\"extra\":{\"k\":[\"1\"],\"k\":[\"2\"]}}",
    };
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        const char *b = answer(p, bodies[i]);
        k8ssa_review_result r1 = parse_s(p, b, NULL, 0);
        k8ssa_review_result r2 = parse_s(p, b, NULL, 0);
        assert_int_equal(r1.outcome, r2.outcome);
        if (r1.outcome == K8SSA_REVIEW_AUTHENTICATED)
            assert_string_equal(r1.id->username, r2.id->username);
    }
    /* the status object twice */
    const char *b = "{\"status\":{\"authenticated\":true,\"user\":{\"username\":\"u\"}},"
                    "\"status\":{\"authenticated\":false}}";
    k8ssa_review_result r1 = parse_s(p, b, NULL, 0);
    k8ssa_review_result r2 = parse_s(p, b, NULL, 0);
    assert_int_equal(r1.outcome, r2.outcome);
}

/* ======================================================= hostile: types */

static void test_hostile_wrong_types(void **state)
{
    apr_pool_t *p = *state;
    const char *status[] = {
        "\"authenticated\":\"true\",\"user\":{\"username\":\"u\"}",
        "\"authenticated\":1,\"user\":{\"username\":\"u\"}",
        "\"authenticated\":[true],\"user\":{\"username\":\"u\"}",
        "\"authenticated\":{},\"user\":{\"username\":\"u\"}",
        "\"authenticated\":true,\"user\":{\"username\":42}",
        "\"authenticated\":true,\"user\":{\"username\":true}",
        "\"authenticated\":true,\"user\":{\"username\":null}",
        "\"authenticated\":true,\"user\":{\"username\":[\"u\"]}",
        "\"authenticated\":true,\"user\":{\"username\":{\"u\":1}}",
        "\"authenticated\":true,\"user\":{\"username\":\"u\",\"uid\":7}",
        "\"authenticated\":true,\"user\":{\"username\":\"u\",\"uid\":[]}",
        "\"authenticated\":true,\"user\":{\"username\":\"u\",\"groups\":{\"g\":1}}",
        "\"authenticated\":true,\"user\":{\"username\":\"u\",\"groups\":\"g\"}",
        "\"authenticated\":true,\"user\":{\"username\":\"u\",\"groups\":[\"g\",1]}",
        "\"authenticated\":true,\"user\":{\"username\":\"u\",\"groups\":[null]}",
        "\"authenticated\":true,\"user\":{\"username\":\"u\",\"groups\":[[\"g\"]]}",
        "\"authenticated\":true,\"user\":{\"username\":\"u\",\"extra\":[]}",
        "\"authenticated\":true,\"user\":{\"username\":\"u\",\"extra\":\"k\"}",
        "\"authenticated\":true,\"user\":{\"username\":\"u\",\"extra\":{\"k\":\"v\"}}",
        "\"authenticated\":true,\"user\":{\"username\":\"u\",\"extra\":{\"k\":{\"v\":1}}}",
        "\"authenticated\":true,\"user\":{\"username\":\"u\",\"extra\":{\"k\":[1]}}",
        "\"authenticated\":true,\"user\":{\"username\":\"u\",\"extra\":{\"k\":[\"v\",null]}}",
        "\"authenticated\":true,\"user\":{\"username\":\"u\"},\"audiences\":\"x\"",
        "\"authenticated\":true,\"user\":{\"username\":\"u\"},\"audiences\":[1]",
        "\"authenticated\":true,\"user\":{\"username\":\"u\"},\"audiences\":{\"x\":1}",
        "\"authenticated\":true,\"user\":[\"u\"]",
        "\"authenticated\":true,\"user\":\"u\"",
        "\"authenticated\":true,\"user\":null",
        "\"authenticated\":true",                                   /* user missing */
        "\"authenticated\":true,\"user\":{}",                       /* username missing */
        "\"authenticated\":true,\"user\":{\"username\":\"\"}",      /* username empty */
        "\"authenticated\":true,\"user\":{\"uid\":\"x\",\"groups\":[\"g\"]}",
    };
    for (size_t i = 0; i < sizeof(status) / sizeof(status[0]); i++)
        UNPARSEABLE(p, answer(p, status[i]));

    /* status itself of the wrong type */
    UNPARSEABLE(p, "{\"status\":[{\"authenticated\":true,\"user\":{\"username\":\"u\"}}]}");
    UNPARSEABLE(p, "{\"status\":\"authenticated\"}");
    UNPARSEABLE(p, "{\"status\":true}");
    UNPARSEABLE(p, "{\"status\":42}");
}

/* With audiences requested the types still matter. */
static void test_hostile_wrong_types_audiences(void **state)
{
    apr_pool_t *p = *state;
    const char *req[] = { "x" };
    expect_outcome(p, answer(p, "\"authenticated\":true,\"user\":{\"username\":\"u\"},\"audiences\":\"x\""),
                   strlen(answer(p, "\"authenticated\":true,\"user\":{\"username\":\"u\"},\"audiences\":\"x\"")),
                   req, 1, K8SSA_REVIEW_UNPARSEABLE);
    const char *b = answer(p, "\"authenticated\":true,\"user\":{\"username\":\"u\"},\"audiences\":[\"x\",2]");
    expect_outcome(p, b, strlen(b), req, 1, K8SSA_REVIEW_UNPARSEABLE);
}

/* ======================================================= hostile: sizes */

static char *repeat(apr_pool_t *p, char c, size_t n)
{
    char *s = apr_palloc(p, n + 1);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* Replaces the first "%s" of tmpl with value (no format string involved). */
static const char *subst(apr_pool_t *p, const char *tmpl, const char *value)
{
    const char *at = strstr(tmpl, "%s");
    assert_non_null(at);
    return apr_pstrcat(p, apr_pstrndup(p, tmpl, (apr_size_t)(at - tmpl)), value, at + 2, NULL);
}

/* A JSON array of n strings "<prefix><i>". */
static const char *string_array(apr_pool_t *p, const char *prefix, size_t n)
{
    const char **items = apr_palloc(p, (n ? n : 1) * sizeof(*items));
    for (size_t i = 0; i < n; i++)
        items[i] = apr_psprintf(p, "%s%u", prefix, (unsigned)i);
    size_t total = 3;
    for (size_t i = 0; i < n; i++)
        total += strlen(items[i]) + 3;
    char *s = apr_palloc(p, total), *w = s;
    *w++ = '[';
    for (size_t i = 0; i < n; i++) {
        if (i)
            *w++ = ',';
        *w++ = '"';
        size_t l = strlen(items[i]);
        memcpy(w, items[i], l);
        w += l;
        *w++ = '"';
    }
    *w++ = ']';
    *w = '\0';
    return s;
}

static void test_groups_limit(void **state)
{
    apr_pool_t *p = *state;
    k8ssa_review_result r = parse_s(p, answer_user(p, apr_psprintf(p,
        "\"username\":\"u\",\"groups\":%s", string_array(p, "g", K8SSA_MAX_GROUPS))), NULL, 0);
    assert_int_equal(r.outcome, K8SSA_REVIEW_AUTHENTICATED);
    assert_int_equal(r.id->ngroups, K8SSA_MAX_GROUPS);
    assert_string_equal(r.id->groups[K8SSA_MAX_GROUPS - 1],
                        apr_psprintf(p, "g%u", (unsigned)(K8SSA_MAX_GROUPS - 1)));

    UNPARSEABLE(p, answer_user(p, apr_psprintf(p,
        "\"username\":\"u\",\"groups\":%s", string_array(p, "g", K8SSA_MAX_GROUPS + 1))));
    UNPARSEABLE(p, answer_user(p, apr_psprintf(p,
        "\"username\":\"u\",\"groups\":%s", string_array(p, "g", 100000))));
}

static void test_audiences_limit(void **state)
{
    apr_pool_t *p = *state;
    const char *req[] = { "a0" };
    const char *b = answer(p, apr_psprintf(p,
        "\"authenticated\":true,\"user\":{\"username\":\"u\"},\"audiences\":%s",
        string_array(p, "a", K8SSA_MAX_AUDIENCES)));
    k8ssa_review_result r = parse_s(p, b, req, 1);
    assert_int_equal(r.outcome, K8SSA_REVIEW_AUTHENTICATED);
    assert_int_equal(r.id->naudiences, K8SSA_MAX_AUDIENCES);

    b = answer(p, apr_psprintf(p,
        "\"authenticated\":true,\"user\":{\"username\":\"u\"},\"audiences\":%s",
        string_array(p, "a", K8SSA_MAX_AUDIENCES + 1)));
    expect_outcome(p, b, strlen(b), req, 1, K8SSA_REVIEW_UNPARSEABLE);
    expect_outcome(p, b, strlen(b), NULL, 0, K8SSA_REVIEW_UNPARSEABLE);
}

static void test_extra_limits(void **state)
{
    apr_pool_t *p = *state;
    /* K8SSA_MAX_EXTRA_KEYS keys: fine; one more: unparseable */
    for (int over = 0; over <= 1; over++) {
        const char *ex = "";
        for (unsigned i = 0; i < K8SSA_MAX_EXTRA_KEYS + (unsigned)over; i++)
            ex = apr_psprintf(p, "%s%s\"k%u\":[\"v\"]", ex, i ? "," : "", i);
        const char *b = answer_user(p, apr_psprintf(p, "\"username\":\"u\",\"extra\":{%s}", ex));
        expect_outcome(p, b, strlen(b), NULL, 0,
                       over ? K8SSA_REVIEW_UNPARSEABLE : K8SSA_REVIEW_AUTHENTICATED);
    }
    /* K8SSA_MAX_EXTRA_VALS values under one key: fine; one more: unparseable */
    for (int over = 0; over <= 1; over++) {
        const char *b = answer_user(p, apr_psprintf(p, "\"username\":\"u\",\"extra\":{\"k\":%s}",
            string_array(p, "v", K8SSA_MAX_EXTRA_VALS + (size_t)over)));
        expect_outcome(p, b, strlen(b), NULL, 0,
                       over ? K8SSA_REVIEW_UNPARSEABLE : K8SSA_REVIEW_AUTHENTICATED);
    }
}

static void test_string_limits(void **state)
{
    apr_pool_t *p = *state;
    const char *ok = repeat(p, 'a', K8SSA_MAX_STRING);
    const char *big = repeat(p, 'a', K8SSA_MAX_STRING + 1);
    const char *fmts[] = {
        "\"username\":\"%s\"",
        "\"username\":\"u\",\"uid\":\"%s\"",
        "\"username\":\"u\",\"groups\":[\"g\",\"%s\"]",
        "\"username\":\"u\",\"extra\":{\"%s\":[\"v\"]}",
        "\"username\":\"u\",\"extra\":{\"k\":[\"%s\"]}",
    };
    for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
        const char *b = answer_user(p, subst(p, fmts[i], ok));
        expect_outcome(p, b, strlen(b), NULL, 0, K8SSA_REVIEW_AUTHENTICATED);
        b = answer_user(p, subst(p, fmts[i], big));
        expect_outcome(p, b, strlen(b), NULL, 0, K8SSA_REVIEW_UNPARSEABLE);
    }
    /* an over-long audience */
    const char *b = answer(p, apr_psprintf(p,
        "\"authenticated\":true,\"user\":{\"username\":\"u\"},\"audiences\":[\"%s\"]", big));
    expect_outcome(p, b, strlen(b), NULL, 0, K8SSA_REVIEW_UNPARSEABLE);
    /* the limit counts decoded bytes: 4096 bytes written as \u escapes are fine */
    const char *esc = "";
    for (int i = 0; i < 64; i++)
        esc = apr_pstrcat(p, esc, "\\u0061", NULL);
    b = answer_user(p, apr_psprintf(p, "\"username\":\"%s%s\"", esc,
                                    repeat(p, 'a', K8SSA_MAX_STRING - 64)));
    expect_outcome(p, b, strlen(b), NULL, 0, K8SSA_REVIEW_AUTHENTICATED);
}

/* ============================================ hostile: string contents */

static const char *const bad_bytes[] = {
    "\\r", "\\n", "\\u0000", "\\u001f", "\\u007f", "\\u001b", "\\t", "\\b",
    "\r", "\n", "\x7f", "\x01", "\x1f", "\t",
};

static const char *const bad_utf8[] = {
    "\xff", "\xfe", "\xc0\xaf", "\xe0\x80\xaf", "\xe2\x82", "\xc3", "\x80",
    "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xf8\x88\x80\x80\x80",
};

static const char *const fields[] = {
    "\"username\":\"a%sb\"",
    "\"username\":\"%s\"",
    "\"username\":\"u\",\"uid\":\"a%sb\"",
    "\"username\":\"u\",\"groups\":[\"ok\",\"a%sb\"]",
    "\"username\":\"u\",\"extra\":{\"a%sb\":[\"v\"]}",
    "\"username\":\"u\",\"extra\":{\"k\":[\"v\",\"a%sb\"]}",
};

/* Every field with every bad string: all must be unparseable; every miss is
 * listed before the test fails. */
static void check_all_unparseable(apr_pool_t *p, const char *const *bad, size_t nbad)
{
    unsigned misses = 0;
    for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++)
        for (size_t b = 0; b < nbad; b++) {
            const char *field = subst(p, fields[f], bad[b]);
            k8ssa_review_result r = parse_s(p, answer_user(p, field), NULL, 0);
            if (r.outcome != K8SSA_REVIEW_UNPARSEABLE) {
                misses++;
                print_error("%s for user {", outcome_name(r.outcome));
                for (const unsigned char *c = (const unsigned char *)field; *c; c++)
                    print_error(*c >= 0x20 && *c < 0x7f ? "%c" : "\\x%02x", *c);
                print_error("}\n");
            }
        }
    assert_int_equal(misses, 0);
}

static void test_control_chars(void **state)
{
    check_all_unparseable(*state, bad_bytes, sizeof(bad_bytes) / sizeof(bad_bytes[0]));
}

/* The \u0000 check jumps from backslash to backslash: the escape is found
 * after any run of bytes, an escaped backslash before "u0000" is no escape,
 * and a backslash among the last bytes reads nothing past the body (heap
 * copies of exactly its length, so ASan sees an overread). */
static void test_escaped_nul_found_anywhere(void **state)
{
    (void)state;
    for (size_t n = 0; n < 64; n++) {
        for (size_t slashes = 1; slashes <= 4; slashes++) {
            char body[160];
            size_t len = 0;
            len += (size_t)sprintf(body, "{\"a\":\"%.*s", (int)n,
                                   "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
            memset(body + len, '\\', slashes);
            len += slashes;
            len += (size_t)sprintf(body + len, "u0000\"}");
            char *heap = malloc(len);
            memcpy(heap, body, len);
            const char *why = NULL;
            json_object *o = k8ssa_json_parse_strict(heap, len, 4096, &why);
            if (slashes % 2 == 1) {
                /* \u0000 after an even number of escaped backslashes */
                assert_null(o);
                assert_string_equal(why, "answer holds a NUL character");
            } else {
                assert_non_null(o);
                json_object_put(o);
            }
            free(heap);
        }
    }
    /* a backslash as the last bytes, "\u000" cut short: not JSON, no NUL */
    static const char *const ends[] = { "{\"a\":\"\\", "{\"a\":\"\\u", "{\"a\":\"\\u000",
                                        "{\"a\":\"x\\u00\"}", "\\" };
    for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++) {
        size_t len = strlen(ends[i]);
        char *heap = malloc(len);
        memcpy(heap, ends[i], len);
        const char *why = NULL;
        assert_null(k8ssa_json_parse_strict(heap, len, 4096, &why));
        assert_string_not_equal(why, "answer holds a NUL character");
        free(heap);
    }
}

/* A NUL in a member name: json-c keeps names as C strings, so "username\u0000"
 * would silently become a second "username". */
static void test_nul_in_member_names(void **state)
{
    apr_pool_t *p = *state;
    UNPARSEABLE(p, answer_user(p, "\"username\":\"alice\",\"username\\u0000\":\"admin\""));
    UNPARSEABLE(p, answer(p, "\"authenticated\\u0000x\":true,\"authenticated\":false,"
                             "\"user\":{\"username\":\"u\"}"));
    UNPARSEABLE(p, answer_user(p, "\"username\":\"u\",\"groups\\u0000\":[\"system:masters\"]"));
}

static void test_invalid_utf8(void **state)
{
    apr_pool_t *p = *state;
    check_all_unparseable(p, bad_utf8, sizeof(bad_utf8) / sizeof(bad_utf8[0]));
    /* a truncated sequence right before the closing quote */
    UNPARSEABLE(p, answer_user(p, "\"username\":\"abc\xe2\x82\""));
    UNPARSEABLE(p, answer_user(p, "\"username\":\"abc\xf0\x9f\x98\""));
}

/* Where a value stands alone in the field (edge fields): each identity value
 * with padding a backend would trim, and each empty one but uid. */
static const char *const edge_fields[] = {
    "\"username\":\"%s\"",
    "\"username\":\"u\",\"uid\":\"%s\"",
    "\"username\":\"u\",\"groups\":[\"ok\",\"%s\"]",
    "\"username\":\"u\",\"extra\":{\"%s\":[\"v\"]}",
    "\"username\":\"u\",\"extra\":{\"k\":[\"v\",\"%s\"]}",
};

static void test_space_padded_values(void **state)
{
    apr_pool_t *p = *state;
    /* " system:masters" becomes "system:masters" once a backend trims it */
    static const char *const padded[] = {
        " system:masters", "system:masters ", " ", "  x  ", "\\u0020x", "x\\u00a0",
        "\xc2\xa0system:masters", "\xe2\x80\x83x", "x\xe2\x80\xa8", "\xe3\x80\x80x",
        "\\u2009x", "x\\u205f", "\\u1680x", "x\\u202f",
    };
    static const char *const fine[] = { "a b", "a\xc2\xa0" "b", "\xe2\x80\x8bx", "x\xef\xbb\xbf" };
    unsigned misses = 0;

    for (size_t f = 0; f < sizeof(edge_fields) / sizeof(edge_fields[0]); f++) {
        for (size_t b = 0; b < sizeof(padded) / sizeof(padded[0]); b++) {
            const char *field = subst(p, edge_fields[f], padded[b]);
            k8ssa_review_result r = parse_s(p, answer_user(p, field), NULL, 0);
            if (r.outcome != K8SSA_REVIEW_UNPARSEABLE) {
                misses++;
                print_error("%s for user {%s}\n", outcome_name(r.outcome), field);
            }
        }
        for (size_t b = 0; b < sizeof(fine) / sizeof(fine[0]); b++) {
            const char *field = subst(p, edge_fields[f], fine[b]);
            k8ssa_review_result r = parse_s(p, answer_user(p, field), NULL, 0);
            if (r.outcome != K8SSA_REVIEW_AUTHENTICATED) {
                misses++;
                print_error("%s for user {%s}\n", outcome_name(r.outcome), field);
            }
        }
    }
    assert_int_equal(misses, 0);
}

static void test_empty_values(void **state)
{
    apr_pool_t *p = *state;
    k8ssa_review_result r;

    for (size_t f = 0; f < sizeof(edge_fields) / sizeof(edge_fields[0]); f++) {
        r = parse_s(p, answer_user(p, subst(p, edge_fields[f], "")), NULL, 0);
        /* f == 1 is the uid: Kubernetes omits an empty one, "" is the same */
        assert_int_equal(r.outcome, f == 1 ? K8SSA_REVIEW_AUTHENTICATED
                                           : K8SSA_REVIEW_UNPARSEABLE);
    }
    /* audiences are never exported: an empty one is only not shared */
    r = parse_s(p, answer(p, "\"authenticated\":true,\"user\":{\"username\":\"u\"},"
                             "\"audiences\":[\"\"]"), NULL, 0);
    assert_int_equal(r.outcome, K8SSA_REVIEW_AUTHENTICATED);
}

/* Lone surrogates through escapes: never a crash, never unsafe output. */
static void test_escaped_surrogates(void **state)
{
    apr_pool_t *p = *state;
    const char *esc[] = { "\\ud800", "\\udc00", "\\ud800x", "\\ud800\\u0041", "\\udbff\\udfff" };
    for (size_t i = 0; i < sizeof(esc) / sizeof(esc[0]); i++)
        (void)parse_s(p, answer_user(p, apr_psprintf(p, "\"username\":\"a%s\"", esc[i])), NULL, 0);
}

/* json.c runs json-c in the C locale object (json-c's own locale switch is
 * then cheap): the thread's locale, the process-wide one or its own, is
 * back after every parse, taken or refused. */
static void test_parse_keeps_thread_locale(void **state)
{
    apr_pool_t *p = *state;
    locale_t mine = newlocale(LC_ALL_MASK, "C.UTF-8", (locale_t)0);
    k8ssa_review_result r;

    assert_true(uselocale((locale_t)0) == LC_GLOBAL_LOCALE);
    r = parse_s(p, REAL_ANSWER, NULL, 0);
    assert_int_equal(r.outcome, K8SSA_REVIEW_AUTHENTICATED);
    assert_true(uselocale((locale_t)0) == LC_GLOBAL_LOCALE);
    (void)parse_s(p, "{\"status\":", NULL, 0);
    assert_true(uselocale((locale_t)0) == LC_GLOBAL_LOCALE);

    if (mine == (locale_t)0)
        mine = newlocale(LC_ALL_MASK, "POSIX", (locale_t)0);
    assert_true(mine != (locale_t)0);
    uselocale(mine);
    r = parse_s(p, REAL_ANSWER, NULL, 0);
    assert_int_equal(r.outcome, K8SSA_REVIEW_AUTHENTICATED);
    assert_true(uselocale((locale_t)0) == mine);
    (void)parse_s(p, "[1,2", NULL, 0);
    assert_true(uselocale((locale_t)0) == mine);
    uselocale(LC_GLOBAL_LOCALE);
    freelocale(mine);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, pool_setup, pool_teardown)
    const struct CMUnitTest tests[] = {
        T(test_request_basic),
        T(test_request_audiences),
        T(test_request_token_slice),
        T(test_request_escaping),
        T(test_request_long_token),
        T(test_request_escaping_every_position),
        T(test_parse_real_answer),
        T(test_parse_keeps_thread_locale),
        T(test_parse_minimal_user),
        T(test_parse_unicode_and_escapes),
        T(test_parse_extra_multi),
        T(test_rejected_false_with_error),
        T(test_rejected_omitted),
        T(test_rejected_no_status),
        T(test_rejected_error_control_chars),
        T(test_audiences_intersect),
        T(test_audiences_disjoint),
        T(test_audiences_requested_none_answered),
        T(test_audiences_not_requested),
        T(test_hostile_not_json),
        T(test_hostile_truncated),
        T(test_hostile_trailing_garbage),
        T(test_hostile_embedded_nul),
        T(test_escaped_nul_found_anywhere),
        T(test_hostile_deep_nesting),
        T(test_hostile_too_large),
        T(test_hostile_duplicate_keys),
        T(test_hostile_wrong_types),
        T(test_hostile_wrong_types_audiences),
        T(test_groups_limit),
        T(test_audiences_limit),
        T(test_extra_limits),
        T(test_string_limits),
        T(test_control_chars),
        T(test_nul_in_member_names),
        T(test_invalid_utf8),
        T(test_escaped_surrogates),
        T(test_space_padded_values),
        T(test_empty_values),
    };
#undef T
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
