/*
 * json.h - strict parsing of the API server's answers, shared by the
 * TokenReview and SubjectAccessReview parsers: RFC 8259 only (json-c's strict
 * mode), valid UTF-8, no \u0000 anywhere, bounded size and depth, nothing but
 * white space after the value. Plain C over untrusted bytes, fuzzed through
 * both parsers.
 */
#ifndef K8SSA_JSON_H
#define K8SSA_JSON_H

#include <stddef.h>
#include <json-c/json.h>

/* JSON nesting deeper than this is refused. */
#define K8SSA_MAX_JSON_DEPTH 16

/*
 * The JSON value body[0..len) (at most max_len bytes), or NULL with *why (a
 * static, log-safe reason). The tokener's string buffer is wiped before it is
 * freed (an answer may echo a token). The caller puts the value.
 */
json_object *k8ssa_json_parse_strict(const char *body, size_t len, size_t max_len,
                                     const char **why);

/*
 * json_tokener_parse_ex(tok, s, len) with the thread in the C locale, which
 * spares json-c's own locale switch a malloc and a process-wide lock. len is
 * below INT_MAX (the callers bound it far lower).
 */
json_object *k8ssa_json_tokener_parse(struct json_tokener *tok, const char *s, size_t len);

/*
 * Writes s[0..len) at o as a JSON string the way Go's encoding/json does
 * (\" \\ \n \r \t, other controls as \u00XX, and <, >, &, U+2028, U+2029 as
 * \u escapes); returns the end. o needs room for k8ssa_json_string_max(len).
 */
char *k8ssa_json_put_string(char *o, const char *s, size_t len);
#define k8ssa_json_string_max(len) ((len) * 6 + 2)

#endif
