/* json.c - strict JSON answers and Go-style JSON strings (see json.h). */
#include "json.h"

#include <json-c/printbuf.h>
#include <locale.h>
#include <string.h>

/* json-c keeps member names as C strings: "username\u0000" would be cut to
 * "username" and override the real member. No name or value we use may hold
 * NUL anyway, so any \u0000 escape refuses the whole answer. */
static int has_escaped_nul(const char *body, size_t len)
{
    const char *p = body, *end = body + len;

    /* memchr: an answer has few backslashes, and hundreds of bytes of an
     * echoed token between them */
    while (p < end && (p = memchr(p, '\\', (size_t)(end - p))) != NULL) {
        if (end - p >= 6 && memcmp(p + 1, "u0000", 5) == 0)
            return 1;
        if (end - p <= 2)
            break;
        p += 2;  /* past the escaped character, so "\\u0000" is no escape */
    }
    return 0;
}

/* The tokener's string buffer holds the last strings parsed (an echoed
 * token among them); json-c 0.16 declares the struct publicly. */
static void wipe_tokener(struct json_tokener *tok)
{
    if (tok->pb != NULL && tok->pb->buf != NULL && tok->pb->size > 0)
        memset(tok->pb->buf, 0, (size_t)tok->pb->size);
}

json_object *k8ssa_json_tokener_parse(struct json_tokener *tok, const char *s, size_t len)
{
    /* json-c 0.16 switches the thread to LC_NUMERIC "C" around every parse
     * with duplocale() of the thread's locale. Of the process-wide locale
     * that is a malloc and glibc's global locale write lock, which httpd's
     * threads then contend for on every review; of the C locale object both
     * it and newlocale() return at once. */
    locale_t c = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    locale_t before = c != (locale_t)0 ? uselocale(c) : (locale_t)0;
    json_object *o = json_tokener_parse_ex(tok, s, (int)len);

    if (c != (locale_t)0) {
        uselocale(before);
        freelocale(c);
    }
    return o;
}

json_object *k8ssa_json_parse_strict(const char *body, size_t len, size_t max_len,
                                     const char **why)
{
    struct json_tokener *tok;
    json_object *root;
    size_t end;

    if (len == 0 || len > max_len) {
        *why = len == 0 ? "empty answer" : "answer too large";
        return NULL;
    }
    if (has_escaped_nul(body, len)) {
        *why = "answer holds a NUL character";
        return NULL;
    }
    tok = json_tokener_new_ex(K8SSA_MAX_JSON_DEPTH);
    if (tok == NULL) {
        *why = "out of memory";
        return NULL;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    root = k8ssa_json_tokener_parse(tok, body, len);
    if (root == NULL || json_tokener_get_error(tok) != json_tokener_success) {
        *why = "answer is not valid JSON";
        json_object_put(root);
        wipe_tokener(tok);
        json_tokener_free(tok);
        return NULL;
    }
    end = json_tokener_get_parse_end(tok);
    wipe_tokener(tok);
    json_tokener_free(tok);
    while (end < len && (body[end] == ' ' || body[end] == '\n' || body[end] == '\r'
                         || body[end] == '\t'))
        end++;
    if (end != len) {
        *why = "trailing bytes after the JSON answer";
        json_object_put(root);
        return NULL;
    }
    return root;
}

char *k8ssa_json_put_string(char *o, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t i;

    *o++ = '"';
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            *o++ = '\\';
            *o++ = (char)c;
        } else if (c == '\n' || c == '\r' || c == '\t') {
            *o++ = '\\';
            *o++ = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
        } else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
            memcpy(o, "\\u00", 4);
            o[4] = hex[c >> 4];
            o[5] = hex[c & 0x0f];
            o += 6;
        } else if (c == 0xe2 && i + 2 < len && (unsigned char)s[i + 1] == 0x80
                   && ((unsigned char)s[i + 2] == 0xa8 || (unsigned char)s[i + 2] == 0xa9)) {
            memcpy(o, (unsigned char)s[i + 2] == 0xa8 ? "\\u2028" : "\\u2029", 6);
            o += 6;
            i += 2;
        } else {
            *o++ = (char)c;
        }
    }
    *o++ = '"';
    return o;
}
