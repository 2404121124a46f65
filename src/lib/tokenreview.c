/*
 * tokenreview.c - building a TokenReview and judging the answer.
 *
 * The answer is untrusted input: it is parsed strictly (RFC 8259, valid UTF-8,
 * bounded depth and sizes) and every string that could reach a header or the
 * environment must be free of control characters. Anything doubtful is
 * UNPARSEABLE, which the module turns into a 503: an error is never an identity.
 */
#include "tokenreview.h"
#include "json.h"
#include "lanes.h"

#include <apr_strings.h>
#include <json-c/json.h>
#include <string.h>

/* How many bytes at the start of s[0..len), in whole 16-byte blocks, need
 * no escape: a token is hundreds of bytes and, being a b64token, none of
 * them does, so the body is mostly block copies. */
static size_t plain_blocks(const unsigned char *s, size_t len)
{
    size_t i;

    for (i = 0; i + K8SSA_LANES <= len; i += K8SSA_LANES) {
        k8ssa_bytes16 c, escape;

        k8ssa_lanes_load(&c, s + i);
        escape = (k8ssa_bytes16)(c < 0x20) | (k8ssa_bytes16)(c == '"')
                 | (k8ssa_bytes16)(c == '\\');
        if (k8ssa_lanes_any(&escape))
            break;
    }
    return i;
}

/* Appends s[0..len) as a JSON string. */
static char *put_json_string(char *o, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;

    *o++ = '"';
    while (i < len) {
        size_t n = plain_blocks(u + i, len - i), end;

        memcpy(o, s + i, n);
        o += n;
        i += n;
        /* the block that holds a byte to escape, or the tail, byte by byte */
        end = len - i > K8SSA_LANES ? i + K8SSA_LANES : len;
        for (; i < end; i++) {
            unsigned char c = u[i];
            if (c == '"' || c == '\\') {
                *o++ = '\\';
                *o++ = (char)c;
            } else if (c < 0x20) {
                memcpy(o, "\\u00", 4);
                o[4] = hex[c >> 4];
                o[5] = hex[c & 0x0f];
                o += 6;
            } else {
                *o++ = (char)c;
            }
        }
    }
    *o++ = '"';
    return o;
}

/* Built by hand rather than with json-c: the body holds the client's token,
 * and the caller can wipe this one buffer after sending it. */
char *k8ssa_tokenreview_request(apr_pool_t *p, const char *token, size_t token_len,
                                const char *const *audiences, size_t naudiences)
{
    static const char head[] =
        "{\"apiVersion\":\"authentication.k8s.io/v1\",\"kind\":\"TokenReview\","
        "\"spec\":{\"token\":";
    size_t i, size = sizeof(head) + token_len * 6 + 2 + sizeof(",\"audiences\":[]}}");
    char *out, *o;

    for (i = 0; i < naudiences; i++)
        size += strlen(audiences[i]) * 6 + 3;
    out = o = apr_palloc(p, size);
    memcpy(o, head, sizeof(head) - 1);
    o += sizeof(head) - 1;
    o = put_json_string(o, token, token_len);
    if (naudiences > 0) {
        memcpy(o, ",\"audiences\":[", 14);
        o += 14;
        for (i = 0; i < naudiences; i++) {
            if (i > 0)
                *o++ = ',';
            o = put_json_string(o, audiences[i], strlen(audiences[i]));
        }
        *o++ = ']';
    }
    memcpy(o, "}}", 3);
    return out;
}

/* Parsing context: the first failure wins and is reported as detail. */
typedef struct {
    apr_pool_t *p;
    const char *why;
} parse_ctx;

static int fail(parse_ctx *c, const char *why)
{
    if (c->why == NULL)
        c->why = why;
    return 0;
}

/* What a string of the answer must be. */
typedef enum {
    K8SSA_TEXT,            /* printable: status.error, audiences */
    K8SSA_VALUE,           /* an identity value (k8ssa_identity_value_ok), not empty */
    K8SSA_VALUE_OR_EMPTY   /* the same, or empty (uid) */
} string_rule;

static int string_ok(const char *s, size_t len, string_rule rule)
{
    if (rule == K8SSA_TEXT)
        return len <= K8SSA_MAX_STRING && k8ssa_is_printable(s, len);
    return k8ssa_identity_value_ok(s, len, rule == K8SSA_VALUE_OR_EMPTY);
}

/* A string member copied into the pool; *out NULL when absent. Returns 0
 * (with a reason) on a wrong type or a string the rule refuses. */
static int get_string(parse_ctx *c, json_object *obj, const char *key, string_rule rule,
                      const char **out, const char *what)
{
    json_object *v;
    size_t len;

    *out = NULL;
    if (!json_object_object_get_ex(obj, key, &v) || v == NULL)
        return 1;
    if (!json_object_is_type(v, json_type_string))
        return fail(c, what);
    len = (size_t)json_object_get_string_len(v);
    if (!string_ok(json_object_get_string(v), len, rule))
        return fail(c, what);
    *out = apr_pstrmemdup(c->p, json_object_get_string(v), (apr_size_t)len);
    return 1;
}

/* A string array (absent or null: empty) with at most max entries. */
static int get_string_array(parse_ctx *c, json_object *arr, size_t max, string_rule rule,
                            const char ***out, size_t *n, const char *what)
{
    size_t i, len;

    *out = NULL;
    *n = 0;
    if (arr == NULL)
        return 1;
    if (!json_object_is_type(arr, json_type_array))
        return fail(c, what);
    len = json_object_array_length(arr);
    if (len > max)
        return fail(c, what);
    *out = apr_pcalloc(c->p, (len + 1) * sizeof(**out));
    for (i = 0; i < len; i++) {
        json_object *v = json_object_array_get_idx(arr, i);
        size_t slen;
        if (!json_object_is_type(v, json_type_string))
            return fail(c, what);
        slen = (size_t)json_object_get_string_len(v);
        if (!string_ok(json_object_get_string(v), slen, rule))
            return fail(c, what);
        (*out)[i] = apr_pstrmemdup(c->p, json_object_get_string(v), (apr_size_t)slen);
    }
    *n = len;
    return 1;
}

static json_object *member(json_object *obj, const char *key)
{
    json_object *v = NULL;
    if (obj == NULL || !json_object_object_get_ex(obj, key, &v))
        return NULL;
    return v;
}

static int get_extra(parse_ctx *c, json_object *obj, k8ssa_identity *id)
{
    size_t n = 0;

    if (obj == NULL)
        return 1;
    if (!json_object_is_type(obj, json_type_object))
        return fail(c, "status.user.extra is not an object");
    if ((size_t)json_object_object_length(obj) > K8SSA_MAX_EXTRA_KEYS)
        return fail(c, "status.user.extra has too many keys");
    id->extra = apr_pcalloc(c->p, ((size_t)json_object_object_length(obj) + 1)
                                  * sizeof(*id->extra));
    json_object_object_foreach(obj, key, val) {
        size_t klen = strlen(key);
        k8ssa_extra *e = &id->extra[n];
        if (!k8ssa_identity_value_ok(key, klen, 0))
            return fail(c, "status.user.extra has an empty, unprintable or space-padded key");
        e->key = apr_pstrmemdup(c->p, key, klen);
        /* null is how Go writes an empty list; as for groups, it is empty. */
        if (!get_string_array(c, val, K8SSA_MAX_EXTRA_VALS, K8SSA_VALUE, &e->values,
                              &e->nvalues, "status.user.extra values are not a list of "
                              "non-empty printable strings without surrounding spaces"))
            return 0;
        n++;
    }
    id->nextra = n;
    return 1;
}

static int shares_audience(const k8ssa_identity *id, const char *const *wanted,
                           size_t nwanted)
{
    size_t i, j;

    for (i = 0; i < id->naudiences; i++)
        for (j = 0; j < nwanted; j++)
            if (strcmp(id->audiences[i], wanted[j]) == 0)
                return 1;
    return 0;
}

static void wipe_echoed_token(json_object *root)
{
    json_object *spec = NULL, *token = NULL;

    if (json_object_is_type(root, json_type_object)
        && json_object_object_get_ex(root, "spec", &spec)
        && json_object_is_type(spec, json_type_object)
        && json_object_object_get_ex(spec, "token", &token)
        && json_object_is_type(token, json_type_string))
        memset((char *)json_object_get_string(token), 0,
               (size_t)json_object_get_string_len(token));
}

static json_object *parse_json(parse_ctx *c, const char *body, size_t len)
{
    const char *why = NULL;
    json_object *root = k8ssa_json_parse_strict(body, len, K8SSA_MAX_RESPONSE_BYTES, &why);

    if (root == NULL)
        fail(c, why);
    return root;
}

static k8ssa_review_outcome judge(parse_ctx *c, json_object *root,
                                  const char *const *wanted, size_t nwanted,
                                  k8ssa_review_result *out)
{
    json_object *status, *user, *authn, *v;
    k8ssa_identity *id;
    const char *err = NULL;

    if (!json_object_is_type(root, json_type_object)
        || (v = member(root, "kind")) == NULL
        || !json_object_is_type(v, json_type_string)
        || strcmp(json_object_get_string(v), "TokenReview") != 0)
        return fail(c, "answer is not a TokenReview"), K8SSA_REVIEW_UNPARSEABLE;
    status = member(root, "status");
    if (status == NULL || !json_object_is_type(status, json_type_object))
        return fail(c, "TokenReview has no status object"), K8SSA_REVIEW_UNPARSEABLE;
    if (!get_string(c, status, "error", K8SSA_TEXT, &err,
                    "status.error is not a printable string"))
        return K8SSA_REVIEW_UNPARSEABLE;
    authn = member(status, "authenticated");
    if (authn != NULL && !json_object_is_type(authn, json_type_boolean))
        return fail(c, "status.authenticated is not a boolean"), K8SSA_REVIEW_UNPARSEABLE;

    id = apr_pcalloc(c->p, sizeof(*id));
    if (!get_string_array(c, member(status, "audiences"), K8SSA_MAX_AUDIENCES, K8SSA_TEXT,
                          &id->audiences, &id->naudiences,
                          "status.audiences is not a list of printable strings"))
        return K8SSA_REVIEW_UNPARSEABLE;

    if (authn == NULL || !json_object_get_boolean(authn)) {
        out->detail = err ? err : "token not authenticated";
        return K8SSA_REVIEW_REJECTED;
    }

    user = member(status, "user");
    if (user == NULL || !json_object_is_type(user, json_type_object))
        return fail(c, "authenticated TokenReview without status.user"),
               K8SSA_REVIEW_UNPARSEABLE;
    if (!get_string(c, user, "username", K8SSA_VALUE, &id->username,
                    "status.user.username is empty, not a printable string, or space-padded")
        || !get_string(c, user, "uid", K8SSA_VALUE_OR_EMPTY, &id->uid,
                       "status.user.uid is not a printable string, or space-padded")
        || !get_string_array(c, member(user, "groups"), K8SSA_MAX_GROUPS, K8SSA_VALUE,
                             &id->groups, &id->ngroups, "status.user.groups is not a list of "
                             "non-empty printable strings without surrounding spaces")
        || !get_extra(c, member(user, "extra"), id))
        return K8SSA_REVIEW_UNPARSEABLE;
    if (id->username == NULL || id->username[0] == '\0')
        return fail(c, "authenticated TokenReview without a username"),
               K8SSA_REVIEW_UNPARSEABLE;
    if (id->uid == NULL)
        id->uid = "";

    /* An audience-aware API server echoes the requested audiences it found in
     * the token; an empty list then means it ignored them: not good enough. */
    if (nwanted > 0 && !shares_audience(id, wanted, nwanted)) {
        out->detail = "token audiences do not include any of AuthK8sAudiences";
        return K8SSA_REVIEW_REJECTED;
    }
    out->id = id;
    return K8SSA_REVIEW_AUTHENTICATED;
}

void k8ssa_tokenreview_parse(apr_pool_t *p, const char *body, size_t len,
                             const char *const *audiences, size_t naudiences,
                             k8ssa_review_result *out)
{
    parse_ctx c = { p, NULL };
    json_object *root;

    memset(out, 0, sizeof(*out));
    root = parse_json(&c, body, len);
    if (root == NULL) {
        out->outcome = K8SSA_REVIEW_UNPARSEABLE;
    } else {
        out->outcome = judge(&c, root, audiences, naudiences, out);
        wipe_echoed_token(root);
        json_object_put(root);
    }
    if (out->outcome == K8SSA_REVIEW_UNPARSEABLE) {
        out->id = NULL;
        out->detail = c.why ? c.why : "unparseable TokenReview";
    }
}
