/* canline.c - the words of a Require k8s-can line (see canline.h). */
#include "canline.h"
#include "identity.h"

#include <apr_strings.h>
#include <string.h>

static int is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* "*", or 1..max bytes each lower-case alphanumeric or one of extra. */
static int is_word(const char *s, size_t len, size_t max, const char *extra)
{
    size_t i;

    if (len == 1 && s[0] == '*')
        return 1;
    if (len == 0 || len > max)
        return 0;
    for (i = 0; i < len; i++)
        if (!is_lower_alnum(s[i]) && (s[i] == '\0' || strchr(extra, s[i]) == NULL))
            return 0;
    return 1;
}

/* RFC 1123 label: what a namespace name must be. */
static int is_dns_label(const char *s)
{
    size_t n = strlen(s);
    return is_word(s, n, K8SSA_CAN_MAX_NAMESPACE, "-") && strcmp(s, "*") != 0
        && is_lower_alnum(s[0]) && is_lower_alnum(s[n - 1]);
}

int k8ssa_is_namespace(const char *s)
{
    return is_dns_label(s);
}

int k8ssa_is_serviceaccount_ref(const char *s)
{
    const char *colon = strchr(s, ':');
    const char *name;
    size_t n, i;

    if (colon == NULL || (size_t)(colon - s) > K8SSA_CAN_MAX_NAMESPACE)
        return 0;
    {
        char ns[K8SSA_CAN_MAX_NAMESPACE + 1];
        memcpy(ns, s, (size_t)(colon - s));
        ns[colon - s] = '\0';
        if (!is_dns_label(ns))
            return 0;
    }
    /* A DNS subdomain (RFC 1123): what a ServiceAccount name must be, dot
     * separated labels, each beginning and ending with a letter or digit. */
    name = colon + 1;
    n = strlen(name);
    if (!is_word(name, n, K8SSA_CAN_MAX_NAME, "-.") || strcmp(name, "*") == 0)
        return 0;
    for (i = 0; i < n; i++) {
        int starts = i == 0 || name[i - 1] == '.';
        int ends = i + 1 == n || name[i + 1] == '.';
        if (name[i] == '.' ? starts || ends : (starts || ends) && !is_lower_alnum(name[i]))
            return 0;
    }
    return 1;
}

/* Object names vary by resource (system:auth-delegator, a.b.c): printable,
 * no '/', no white space. */
static int is_object_name(const char *s)
{
    size_t n = strlen(s), i;

    if (n == 0 || n > K8SSA_CAN_MAX_NAME || !k8ssa_is_printable(s, n))
        return 0;
    for (i = 0; i < n; i++)
        if (s[i] == '/' || s[i] == ' ')
            return 0;
    return strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

static int fail(const char **why, const char *reason)
{
    *why = reason;
    return 0;
}

int k8ssa_can_attributes(apr_pool_t *p, const char *const *words, size_t n,
                         k8ssa_access_attributes *out, const char **why)
{
    const char *spec, *slash, *dot;
    size_t rlen;

    memset(out, 0, sizeof(*out));
    if (n < 2)
        return fail(why, "k8s-can needs a verb and a resource or /path");
    if (n > 4)
        return fail(why, "k8s-can takes at most VERB RESOURCE NAMESPACE NAME");
    if (!is_word(words[0], strlen(words[0]), 64, ""))
        return fail(why, "the verb must be lower-case letters and digits, or *");
    out->verb = apr_pstrdup(p, words[0]);
    spec = words[1];

    if (spec[0] == '/') {
        if (n > 2)
            return fail(why, "a /path takes no namespace or name");
        if (strlen(spec) > K8SSA_MAX_STRING || !k8ssa_is_printable(spec, strlen(spec))
            || strchr(spec, ' ') != NULL)
            return fail(why, "the path must be printable, without spaces");
        out->path = apr_pstrdup(p, spec);
        return 1;
    }

    slash = strchr(spec, '/');
    rlen = slash ? (size_t)(slash - spec) : strlen(spec);
    dot = memchr(spec, '.', rlen);
    if (!is_word(spec, dot ? (size_t)(dot - spec) : rlen, K8SSA_CAN_MAX_NAME, "-"))
        return fail(why, "the resource must be lower-case letters, digits and '-', or *");
    out->resource = apr_pstrmemdup(p, spec, dot ? (size_t)(dot - spec) : rlen);
    if (dot != NULL) {
        if (!is_word(dot + 1, rlen - (size_t)(dot + 1 - spec), K8SSA_CAN_MAX_NAME, "-."))
            return fail(why, "the API group (after the first '.') must be a DNS name, or *");
        out->group = apr_pstrmemdup(p, dot + 1, rlen - (size_t)(dot + 1 - spec));
    }
    if (slash != NULL) {
        if (!is_word(slash + 1, strlen(slash + 1), K8SSA_CAN_MAX_NAME, "-"))
            return fail(why, "the subresource (after '/') must be lower-case letters, "
                             "digits and '-', or *");
        out->subresource = apr_pstrdup(p, slash + 1);
    }
    if (n >= 3) {
        if (!is_dns_label(words[2]))
            return fail(why, "the namespace must be a DNS label (lower-case letters, digits "
                             "and '-', at most 63)");
        out->ns = apr_pstrdup(p, words[2]);
    }
    if (n == 4) {
        if (!is_object_name(words[3]))
            return fail(why, "the name must be printable, without '/' or spaces, at most 253");
        out->name = apr_pstrdup(p, words[3]);
    }
    return 1;
}
