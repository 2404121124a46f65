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

int k8ssa_is_printable(const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return 0;
    }
    return 1;
}
