/* identity.c - helpers over the reviewed identity. */
#include "identity.h"

#include <apr_strings.h>
#include <stdlib.h>
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

    for (i = 0; i < id->ngroups; i++) {
        /* a group holding the separator would read as two */
        if (seplen > 0 && strstr(id->groups[i], sep) != NULL)
            return NULL;
        total += strlen(id->groups[i]) + seplen;
    }
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

static int cmp_extra_key(const void *a, const void *b)
{
    return strcmp((*(const k8ssa_extra *const *)a)->key, (*(const k8ssa_extra *const *)b)->key);
}

void k8ssa_identity_sorted_extra(const k8ssa_identity *id, const k8ssa_extra **out)
{
    size_t i;

    for (i = 0; i < id->nextra; i++)
        out[i] = &id->extra[i];
    if (id->nextra > 1)
        qsort(out, id->nextra, sizeof(*out), cmp_extra_key);
}

const char *k8ssa_identity_groups_env(apr_pool_t *p, const k8ssa_identity *id)
{
    size_t i, total = 1;
    char *out, *o;
    const char *g;

    for (i = 0; i < id->ngroups; i++)
        total += 3 * strlen(id->groups[i]) + 1;
    out = o = apr_palloc(p, total);
    for (i = 0; i < id->ngroups; i++) {
        if (i > 0)
            *o++ = ',';
        for (g = id->groups[i]; *g; g++) {
            if (*g == ',' || *g == '%') {
                *o++ = '%';
                *o++ = "0123456789ABCDEF"[(unsigned char)*g >> 4];
                *o++ = "0123456789ABCDEF"[*g & 0x0f];
            } else {
                *o++ = *g;
            }
        }
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

/* Length of the Unicode White_Space character (the ones a backend's trim()
 * removes; the controls among them are not printable anyway) that s[0..len)
 * starts with, or 0. */
static size_t space_at_start(const unsigned char *s, size_t len)
{
    if (len >= 1 && s[0] == ' ')
        return 1;
    if (len >= 2 && s[0] == 0xc2 && s[1] == 0xa0)                      /* U+00A0 */
        return 2;
    if (len < 3)
        return 0;
    if ((s[0] == 0xe1 && s[1] == 0x9a && s[2] == 0x80)                 /* U+1680 */
        || (s[0] == 0xe2 && s[1] == 0x80
            && (s[2] <= 0x8a || s[2] == 0xa8 || s[2] == 0xa9 || s[2] == 0xaf))
                                                       /* U+2000-200A, 2028, 2029, 202F */
        || (s[0] == 0xe2 && s[1] == 0x81 && s[2] == 0x9f)              /* U+205F */
        || (s[0] == 0xe3 && s[1] == 0x80 && s[2] == 0x80))             /* U+3000 */
        return 3;
    return 0;
}

/* The same at the end: each of those characters is 1 to 3 bytes long. */
static int space_at_end(const unsigned char *s, size_t len)
{
    size_t n;

    for (n = 1; n <= 3 && n <= len; n++)
        if (space_at_start(s + len - n, n) == n)
            return 1;
    return 0;
}

int k8ssa_identity_value_ok(const char *s, size_t len, int may_be_empty)
{
    const unsigned char *u = (const unsigned char *)s;

    if (len == 0)
        return may_be_empty;
    if (len > K8SSA_MAX_STRING)
        return 0;
    return k8ssa_is_printable(s, len) && space_at_start(u, len) == 0 && !space_at_end(u, len);
}

/* ---------------------------------------------------------------------------
 * One-block copies: the structure and pointer arrays first (aligned), the
 * strings after them.
 */

static size_t string_bytes(const char *s)
{
    return s != NULL ? strlen(s) + 1 : 0;
}

static size_t pointer_bytes(const k8ssa_identity *id)
{
    size_t i, n = sizeof(k8ssa_identity) + id->nextra * sizeof(k8ssa_extra)
                  + (id->ngroups + id->naudiences) * sizeof(char *);

    for (i = 0; i < id->nextra; i++)
        n += id->extra[i].nvalues * sizeof(char *);
    return n;
}

size_t k8ssa_identity_flat_size(const k8ssa_identity *id)
{
    size_t i, j, n = pointer_bytes(id) + string_bytes(id->username) + string_bytes(id->uid);

    for (i = 0; i < id->ngroups; i++)
        n += string_bytes(id->groups[i]);
    for (i = 0; i < id->naudiences; i++)
        n += string_bytes(id->audiences[i]);
    for (i = 0; i < id->nextra; i++) {
        n += string_bytes(id->extra[i].key);
        for (j = 0; j < id->extra[i].nvalues; j++)
            n += string_bytes(id->extra[i].values[j]);
    }
    return n;
}

typedef struct {
    char *pointers;     /* next free pointer-aligned byte */
    char *strings;      /* next free string byte */
} flat_cursor;

static void *take_pointers(flat_cursor *c, size_t bytes)
{
    void *at = c->pointers;
    c->pointers += bytes;
    return at;
}

static const char *copy_string(flat_cursor *c, const char *s)
{
    size_t n;
    char *at;

    if (s == NULL)
        return NULL;
    n = strlen(s) + 1;
    at = c->strings;
    memcpy(at, s, n);
    c->strings += n;
    return at;
}

static const char **copy_strings(flat_cursor *c, const char *const *in, size_t n)
{
    const char **out;
    size_t i;

    if (n == 0)
        return NULL;
    out = take_pointers(c, n * sizeof(char *));
    for (i = 0; i < n; i++)
        out[i] = copy_string(c, in[i]);
    return out;
}

k8ssa_identity *k8ssa_identity_flatten(const k8ssa_identity *id, void *buf)
{
    flat_cursor c;
    k8ssa_identity *out;
    size_t i;

    c.pointers = buf;
    c.strings = (char *)buf + pointer_bytes(id);
    out = take_pointers(&c, sizeof(*out));
    *out = *id;
    out->username = copy_string(&c, id->username);
    out->uid = copy_string(&c, id->uid);
    out->groups = copy_strings(&c, id->groups, id->ngroups);
    out->audiences = copy_strings(&c, id->audiences, id->naudiences);
    out->extra = NULL;
    if (id->nextra > 0) {
        out->extra = take_pointers(&c, id->nextra * sizeof(k8ssa_extra));
        for (i = 0; i < id->nextra; i++) {
            out->extra[i].key = copy_string(&c, id->extra[i].key);
            out->extra[i].nvalues = id->extra[i].nvalues;
            out->extra[i].values = copy_strings(&c, id->extra[i].values, id->extra[i].nvalues);
        }
    }
    return out;
}
