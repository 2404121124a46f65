/*
 * headers.c - identity header names.
 *
 * Spoof matching folds case and treats '-' and '_' alike because CGI, PHP,
 * WSGI and many proxies turn both into the same environment variable name: a
 * client sending "X_Remote_User" must not reach a backend reading
 * HTTP_X_REMOTE_USER.
 */
#include "headers.h"
#include "list.h"

#include <apr_strings.h>
#include <string.h>

static int fold(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c + ('a' - 'A');
    if (c == '_')
        return '-';
    return c;
}

/* 1 when name[0..len) starts with prefix, by fold(). */
static int has_prefix_n(const char *name, size_t len, const char *prefix)
{
    size_t i;

    for (i = 0; prefix[i]; i++) {
        if (i == len || fold((unsigned char)name[i]) != fold((unsigned char)prefix[i]))
            return 0;
    }
    return 1;
}

int k8ssa_header_name_has_prefix(const char *name, const char *prefix)
{
    if (name == NULL || prefix == NULL)
        return 0;
    return has_prefix_n(name, strlen(name), prefix);
}

int k8ssa_header_name_equals(const char *name, const char *configured)
{
    return k8ssa_header_name_has_prefix(name, configured)
        && strlen(name) == strlen(configured);
}

int k8ssa_is_identity_header(const k8ssa_header_names *names, const char *name, size_t len)
{
    /* Most fields a request carries differ in their first letter from all
     * three names: one look each, on every request. */
    int first = len > 0 ? fold((unsigned char)name[0]) : 0;

    if (first != fold((unsigned char)names->user[0])
        && first != fold((unsigned char)names->groups[0])
        && first != fold((unsigned char)names->extra_prefix[0]))
        return 0;
    return (*names->user && len == strlen(names->user) && has_prefix_n(name, len, names->user))
        || (*names->groups && len == strlen(names->groups)
            && has_prefix_n(name, len, names->groups))
        || (*names->extra_prefix && has_prefix_n(name, len, names->extra_prefix));
}

/* What splits a Connection option into tokens for some reader: mod_proxy's
 * ap_get_token() stops at white space (isspace), ';' and ','; quotes delimit
 * too for a reader that honours them. */
static int splits_option(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
        || c == ';' || c == '"';
}

/* An option goes when any token in it, by any of those readings, names an
 * identity header: "keep-alive X-Remote-User" is two tokens to mod_proxy. */
static int keep_other_options(void *ctx, const char *option, size_t len)
{
    size_t i = 0, start;

    while (i < len) {
        while (i < len && splits_option(option[i]))
            i++;
        start = i;
        while (i < len && !splits_option(option[i]))
            i++;
        if (i > start && k8ssa_is_identity_header(ctx, option + start, i - start))
            return 0;
    }
    return 1;
}

const char *k8ssa_connection_without_identity(apr_pool_t *p, const char *value,
                                              const k8ssa_header_names *names,
                                              size_t *removed)
{
    return k8ssa_list_filter(p, value, keep_other_options, (void *)names, removed);
}

/* RFC 9110 tchar */
static int is_tchar(unsigned char c)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
        return 1;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

int k8ssa_is_header_name(const char *s)
{
    if (s == NULL || *s == '\0')
        return 0;
    for (; *s; s++) {
        if (!is_tchar((unsigned char)*s))
            return 0;
    }
    return 1;
}

const char *k8ssa_extra_key_encode(apr_pool_t *p, const char *key)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(key), i, o = 0;
    char *out = apr_palloc(p, n * 3 + 1);

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)key[i];
        /* '%' is escaped too: the reader path-unescapes the whole key. */
        if (is_tchar(c) && c != '%') {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 0x0f];
        }
    }
    out[o] = '\0';
    return out;
}
