/*
 * accessreview.c - building a SubjectAccessReview and judging the answer.
 *
 * The body is the object as client-go would send it: kind, apiVersion, an
 * empty metadata, spec (Go's field order, empty fields omitted, extra keys
 * sorted) and the zero status. The answer is untrusted input, parsed by the
 * rules of json.h; an answer that is not clearly a decision is UNPARSEABLE,
 * which the module turns into a 503: an error is never a grant.
 */
#include "accessreview.h"
#include "json.h"

#include <apr_strings.h>
#include <string.h>

static int set(const char *s)
{
    return s != NULL && *s != '\0';
}

/* Room for a JSON member "name":"value" and its comma. */
static size_t member_size(const char *name, const char *value)
{
    return strlen(name) + 4 + k8ssa_json_string_max(set(value) ? strlen(value) : 0);
}

static char *put_raw(char *o, const char *s)
{
    size_t n = strlen(s);
    memcpy(o, s, n);
    return o + n;
}

/* ,"name":"value" (no comma before the first member of an object). */
static char *put_member(char *o, int *first, const char *name, const char *value)
{
    if (!set(value))
        return o;
    if (!*first)
        *o++ = ',';
    *first = 0;
    *o++ = '"';
    o = put_raw(o, name);
    o = put_raw(o, "\":");
    return k8ssa_json_put_string(o, value, strlen(value));
}

char *k8ssa_accessreview_request(apr_pool_t *p, const k8ssa_identity *id,
                                 const k8ssa_access_attributes *a)
{
    static const char head[] =
        "{\"kind\":\"SubjectAccessReview\",\"apiVersion\":\"authorization.k8s.io/v1\","
        "\"metadata\":{\"creationTimestamp\":null},\"spec\":{";
    static const char tail[] = "},\"status\":{\"allowed\":false}}";
    const k8ssa_extra **extra = NULL;
    size_t size = sizeof(head) + sizeof(tail) + 64, i, j;
    int first = 1, inner;
    char *out, *o;

    size += member_size("namespace", a->ns) + member_size("verb", a->verb)
          + member_size("group", a->group) + member_size("resource", a->resource)
          + member_size("subresource", a->subresource) + member_size("name", a->name)
          + member_size("path", a->path) + sizeof("\"nonResourceAttributes\":{},");
    size += member_size("user", id->username) + member_size("uid", id->uid);
    for (i = 0; i < id->ngroups; i++)
        size += k8ssa_json_string_max(strlen(id->groups[i])) + 1;
    for (i = 0; i < id->nextra; i++) {
        size += k8ssa_json_string_max(strlen(id->extra[i].key)) + 4;
        for (j = 0; j < id->extra[i].nvalues; j++)
            size += k8ssa_json_string_max(strlen(id->extra[i].values[j])) + 1;
    }
    out = o = apr_palloc(p, size);
    o = put_raw(o, head);

    if (set(a->path) && !set(a->resource)) {
        o = put_raw(o, "\"nonResourceAttributes\":{");
        inner = 1;
        o = put_member(o, &inner, "path", a->path);
        o = put_member(o, &inner, "verb", a->verb);
    } else {
        o = put_raw(o, "\"resourceAttributes\":{");
        inner = 1;
        o = put_member(o, &inner, "namespace", a->ns);
        o = put_member(o, &inner, "verb", a->verb);
        o = put_member(o, &inner, "group", a->group);
        o = put_member(o, &inner, "resource", a->resource);
        o = put_member(o, &inner, "subresource", a->subresource);
        o = put_member(o, &inner, "name", a->name);
    }
    *o++ = '}';
    first = 0;
    o = put_member(o, &first, "user", id->username);
    if (id->ngroups > 0) {
        o = put_raw(o, ",\"groups\":[");
        for (i = 0; i < id->ngroups; i++) {
            if (i > 0)
                *o++ = ',';
            o = k8ssa_json_put_string(o, id->groups[i], strlen(id->groups[i]));
        }
        *o++ = ']';
    }
    if (id->nextra > 0) {
        /* Go writes a map's keys sorted */
        extra = apr_palloc(p, id->nextra * sizeof(*extra));
        k8ssa_identity_sorted_extra(id, extra);
        o = put_raw(o, ",\"extra\":{");
        for (i = 0; i < id->nextra; i++) {
            if (i > 0)
                *o++ = ',';
            o = k8ssa_json_put_string(o, extra[i]->key, strlen(extra[i]->key));
            o = put_raw(o, ":[");
            for (j = 0; j < extra[i]->nvalues; j++) {
                if (j > 0)
                    *o++ = ',';
                o = k8ssa_json_put_string(o, extra[i]->values[j], strlen(extra[i]->values[j]));
            }
            *o++ = ']';
        }
        *o++ = '}';
    }
    o = put_member(o, &first, "uid", id->uid);
    memcpy(o, tail, sizeof(tail));
    return out;
}

static k8ssa_access_outcome unparseable(k8ssa_access_result *out, const char *why)
{
    out->detail = why;
    return K8SSA_ACCESS_UNPARSEABLE;
}

/* An optional string member of printable text; 0 when present but not. */
static int get_text(json_object *obj, const char *key, const char **out)
{
    json_object *v = NULL;
    size_t len;

    *out = NULL;
    if (!json_object_object_get_ex(obj, key, &v) || v == NULL)
        return 1;
    if (!json_object_is_type(v, json_type_string))
        return 0;
    len = (size_t)json_object_get_string_len(v);
    if (len > K8SSA_MAX_STRING || !k8ssa_is_printable(json_object_get_string(v), len))
        return 0;
    *out = json_object_get_string(v);
    return 1;
}

static k8ssa_access_outcome judge(apr_pool_t *p, json_object *root, k8ssa_access_result *out)
{
    json_object *status = NULL, *kind = NULL, *allowed = NULL, *denied = NULL;
    const char *reason, *evaluation;

    if (!json_object_is_type(root, json_type_object)
        || !json_object_object_get_ex(root, "kind", &kind)
        || !json_object_is_type(kind, json_type_string)
        || strcmp(json_object_get_string(kind), "SubjectAccessReview") != 0)
        return unparseable(out, "answer is not a SubjectAccessReview");
    if (!json_object_object_get_ex(root, "status", &status)
        || !json_object_is_type(status, json_type_object))
        return unparseable(out, "SubjectAccessReview has no status object");
    if (!json_object_object_get_ex(status, "allowed", &allowed)
        || !json_object_is_type(allowed, json_type_boolean))
        return unparseable(out, "status.allowed is missing or not a boolean");
    if (json_object_object_get_ex(status, "denied", &denied) && denied != NULL
        && !json_object_is_type(denied, json_type_boolean))
        return unparseable(out, "status.denied is not a boolean");
    if (!get_text(status, "reason", &reason))
        return unparseable(out, "status.reason is not printable text");
    if (!get_text(status, "evaluationError", &evaluation))
        return unparseable(out, "status.evaluationError is not printable text");
    out->detail = evaluation == NULL ? (reason ? apr_pstrdup(p, reason) : NULL)
                                     : apr_pstrcat(p, reason ? reason : "",
                                                   reason ? "; " : "", "evaluation error: ",
                                                   evaluation, NULL);
    if (denied != NULL && json_object_get_boolean(denied))
        return K8SSA_ACCESS_DENIED;
    return json_object_get_boolean(allowed) ? K8SSA_ACCESS_ALLOWED : K8SSA_ACCESS_DENIED;
}

void k8ssa_accessreview_parse(apr_pool_t *p, const char *body, size_t len,
                              k8ssa_access_result *out)
{
    const char *why = NULL;
    json_object *root = k8ssa_json_parse_strict(body, len, 1024 * 1024, &why);

    memset(out, 0, sizeof(*out));
    if (root == NULL) {
        out->outcome = K8SSA_ACCESS_UNPARSEABLE;
        out->detail = why;
        return;
    }
    out->outcome = judge(p, root, out);
    json_object_put(root);
}
