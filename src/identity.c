/* identity.c - helpers over the reviewed identity. */
#include "identity.h"

#include <apr_strings.h>
#include <string.h>

#define SA_PREFIX "system:serviceaccount:"

int k8ssa_identity_serviceaccount(apr_pool_t *p, const char *username,
                                  const char **ns, const char **name)
{
    const char *rest, *colon;

    if (username == NULL || strncmp(username, SA_PREFIX, sizeof(SA_PREFIX) - 1) != 0)
        return 0;
    rest = username + sizeof(SA_PREFIX) - 1;
    colon = strchr(rest, ':');
    if (colon == NULL || colon == rest || colon[1] == '\0' || strchr(colon + 1, ':'))
        return 0;
    *ns = apr_pstrmemdup(p, rest, (apr_size_t)(colon - rest));
    *name = apr_pstrdup(p, colon + 1);
    return 1;
}

const char *k8ssa_identity_join_groups(apr_pool_t *p, const k8ssa_identity *id,
                                       const char *sep)
{
    size_t i, total = 1, seplen = strlen(sep);
    char *out, *o;

    for (i = 0; i < id->ngroups; i++)
        total += strlen(id->groups[i]) + seplen;
    out = o = apr_palloc(p, total);
    for (i = 0; i < id->ngroups; i++) {
        size_t n = strlen(id->groups[i]);
        if (i > 0) {
            memcpy(o, sep, seplen);
            o += seplen;
        }
        memcpy(o, id->groups[i], n);
        o += n;
    }
    *o = '\0';
    return out;
}

/* Length of the strict UTF-8 sequence at s (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF), or 0 when there is none. */
static size_t utf8_sequence(const unsigned char *s, size_t left)
{
    unsigned char c = s[0];
    size_t n, i;
    unsigned long cp;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (left < n)
        return 0;
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff))
        || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

int k8ssa_is_utf8_text(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, n;

    while (i < len) {
        if ((u[i] < 0x20 && u[i] != '\t' && u[i] != '\n' && u[i] != '\r') || u[i] == 0x7f)
            return 0;
        n = utf8_sequence(u + i, len - i);
        if (n == 0)
            return 0;
        i += n;
    }
    return 1;
}

int k8ssa_is_printable(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, n;

    while (i < len) {
        if (u[i] < 0x20 || u[i] == 0x7f)
            return 0;
        n = utf8_sequence(u + i, len - i);
        if (n == 0)
            return 0;
        if (n == 2 && u[i] == 0xc2 && u[i + 1] < 0xa0)  /* C1 controls, e.g. NEL */
            return 0;
        i += n;
    }
    return 1;
}
