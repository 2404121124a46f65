/* kubeconfig.c - one context of a kubeconfig (see kubeconfig.h). */
#include "kubeconfig.h"
#include "identity.h"

#include <apr_strings.h>
#include <openssl/evp.h>
#include <string.h>
#include <yaml.h>

typedef struct {
    yaml_document_t *doc;
    apr_pool_t *p;
} tree;

/* The value of key in mapping node n, or NULL. */
static yaml_node_t *member(tree *t, yaml_node_t *n, const char *key)
{
    yaml_node_pair_t *pair;

    if (n == NULL || n->type != YAML_MAPPING_NODE)
        return NULL;
    for (pair = n->data.mapping.pairs.start; pair < n->data.mapping.pairs.top; pair++) {
        yaml_node_t *k = yaml_document_get_node(t->doc, pair->key);
        if (k != NULL && k->type == YAML_SCALAR_NODE
            && k->data.scalar.length == strlen(key)
            && memcmp(k->data.scalar.value, key, k->data.scalar.length) == 0)
            return yaml_document_get_node(t->doc, pair->value);
    }
    return NULL;
}

/* A scalar member as a printable string in p, NULL when absent; *bad when
 * present but not a printable scalar. */
static const char *scalar(tree *t, yaml_node_t *n, const char *key, int *bad)
{
    yaml_node_t *v = member(t, n, key);

    if (v == NULL)
        return NULL;
    if (v->type != YAML_SCALAR_NODE || v->data.scalar.length == 0
        || !k8ssa_is_printable((const char *)v->data.scalar.value, v->data.scalar.length)) {
        *bad = 1;
        return NULL;
    }
    return apr_pstrmemdup(t->p, (const char *)v->data.scalar.value, v->data.scalar.length);
}

/* The entry named name in the list under key ("clusters", "users",
 * "contexts"): its inner mapping (under `inner`). */
static yaml_node_t *named(tree *t, yaml_node_t *root, const char *key, const char *inner,
                          const char *name)
{
    yaml_node_t *list = member(t, root, key);
    yaml_node_item_t *it;

    if (list == NULL || list->type != YAML_SEQUENCE_NODE)
        return NULL;
    for (it = list->data.sequence.items.start; it < list->data.sequence.items.top; it++) {
        yaml_node_t *e = yaml_document_get_node(t->doc, *it);
        int bad = 0;
        const char *n = scalar(t, e, "name", &bad);
        if (n != NULL && strcmp(n, name) == 0)
            return member(t, e, inner);
    }
    return NULL;
}

static int is_false(yaml_node_t *v)
{
    static const char *const falses[] = { "false", "False", "FALSE", "no", "No", "NO",
                                          "off", "Off", "OFF", "n", "N" };
    size_t i;

    if (v->type != YAML_SCALAR_NODE)
        return 0;
    for (i = 0; i < sizeof(falses) / sizeof(falses[0]); i++)
        if (v->data.scalar.length == strlen(falses[i])
            && memcmp(v->data.scalar.value, falses[i], v->data.scalar.length) == 0)
            return 1;
    return 0;
}

/* https://HOST[:PORT][/PATH]: a host, no user info, query or fragment. */
static int is_server_url(const char *u)
{
    const char *host = u + 8;

    return strncmp(u, "https://", 8) == 0 && *host != '\0' && *host != '/' && *host != ':'
        && strpbrk(u, "@?# ") == NULL;
}

static const char *absolute(apr_pool_t *p, const char *dir, const char *path)
{
    return path[0] == '/' ? path : apr_pstrcat(p, dir, "/", path, NULL);
}

/* A *-data field: standard base64 (as kubectl writes it). */
static const char *decode(apr_pool_t *p, const char *field, const char *b64,
                          const unsigned char **out, size_t *out_len)
{
    size_t n = strlen(b64);
    unsigned char *buf = apr_palloc(p, n / 4 * 3 + 3);
    int len;

    if (n % 4 != 0 || (len = EVP_DecodeBlock(buf, (const unsigned char *)b64, (int)n)) < 0)
        return apr_psprintf(p, "%s is not base64", field);
    /* EVP_DecodeBlock counts the padding as data */
    while (n > 0 && b64[n - 1] == '=') {
        n--;
        len--;
    }
    if (len <= 0)
        return apr_psprintf(p, "%s is empty", field);
    *out = buf;
    *out_len = (size_t)len;
    return NULL;
}

static const char *resolve(tree *t, yaml_node_t *root, const char *dir, const char *want,
                           k8ssa_kubeconfig *out)
{
    apr_pool_t *p = t->p;
    yaml_node_t *ctx, *cluster, *user, *v;
    const char *cname, *uname, *s, *err;
    int bad = 0;

    ctx = named(t, root, "contexts", "context", want);
    if (ctx == NULL)
        return apr_psprintf(p, "no context '%s'", want);
    cname = scalar(t, ctx, "cluster", &bad);
    uname = scalar(t, ctx, "user", &bad);
    if (cname == NULL || bad)
        return apr_psprintf(p, "context '%s' names no cluster", want);
    cluster = named(t, root, "clusters", "cluster", cname);
    if (cluster == NULL)
        return apr_psprintf(p, "context '%s': no cluster '%s'", want, cname);

    /* Present is refused unless it is one of YAML's falses. */
    v = member(t, cluster, "insecure-skip-tls-verify");
    if (v != NULL && !is_false(v))
        return apr_psprintf(p, "cluster '%s' sets insecure-skip-tls-verify: the module always "
                            "verifies the API server; give it certificate-authority(-data)",
                            cname);
    out->server = scalar(t, cluster, "server", &bad);
    if (out->server == NULL || bad || !is_server_url(out->server))
        return apr_psprintf(p, "cluster '%s': server must be https://HOST[:PORT][/PATH], "
                            "without user info, query or fragment", cname);
    {
        size_t n = strlen(out->server);
        while (n > 8 && out->server[n - 1] == '/')
            n--;
        out->server = apr_pstrmemdup(p, out->server, n);
    }
    if ((s = scalar(t, cluster, "certificate-authority", &bad)) != NULL)
        out->ca_file = absolute(p, dir, s);
    if ((s = scalar(t, cluster, "certificate-authority-data", &bad)) != NULL
        && (err = decode(p, "certificate-authority-data", s, &out->ca_data,
                         &out->ca_data_len)) != NULL)
        return err;
    if (bad)
        return apr_psprintf(p, "cluster '%s': a field is not a printable string", cname);

    if (uname == NULL)
        return NULL;        /* no user: credentials from the directives */
    user = named(t, root, "users", "user", uname);
    if (user == NULL)
        return apr_psprintf(p, "context '%s': no user '%s'", want, uname);
    if (member(t, user, "exec") != NULL)
        return apr_psprintf(p, "user '%s' uses an exec plugin: httpd runs no credential "
                            "program; give it a token, tokenFile or client certificate",
                            uname);
    if (member(t, user, "auth-provider") != NULL)
        return apr_psprintf(p, "user '%s' uses an auth-provider plugin: not supported; give "
                            "it a token, tokenFile or client certificate", uname);
    if (member(t, user, "username") != NULL || member(t, user, "password") != NULL)
        return apr_psprintf(p, "user '%s' uses basic auth (username/password): not "
                            "supported", uname);
    if (member(t, user, "as") != NULL || member(t, user, "as-groups") != NULL
        || member(t, user, "as-uid") != NULL || member(t, user, "as-user-extra") != NULL)
        return apr_psprintf(p, "user '%s' impersonates (as, as-groups, ...): not supported; "
                            "give the module a credential of its own", uname);
    out->token = scalar(t, user, "token", &bad);
    if ((s = scalar(t, user, "tokenFile", &bad)) != NULL)
        out->token_file = absolute(p, dir, s);
    if ((s = scalar(t, user, "client-certificate", &bad)) != NULL)
        out->cert_file = absolute(p, dir, s);
    if ((s = scalar(t, user, "client-key", &bad)) != NULL)
        out->key_file = absolute(p, dir, s);
    if ((s = scalar(t, user, "client-certificate-data", &bad)) != NULL
        && (err = decode(p, "client-certificate-data", s, &out->cert_data,
                         &out->cert_data_len)) != NULL)
        return err;
    if ((s = scalar(t, user, "client-key-data", &bad)) != NULL
        && (err = decode(p, "client-key-data", s, &out->key_data, &out->key_data_len)) != NULL)
        return err;
    if (bad)
        return apr_psprintf(p, "user '%s': a field is not a printable string", uname);
    if ((out->cert_file || out->cert_data) != (out->key_file || out->key_data))
        return apr_psprintf(p, "user '%s': a client certificate and its key go together",
                            uname);
    return NULL;
}

const char *k8ssa_kubeconfig_parse(apr_pool_t *p, const char *path, const char *text,
                                   size_t len, const char *context, k8ssa_kubeconfig *out)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    yaml_node_t *root;
    const char *err, *slash = strrchr(path, '/');
    const char *dir = slash ? apr_pstrmemdup(p, path, (size_t)(slash - path)) : ".";
    tree t;
    int bad = 0;

    memset(out, 0, sizeof(*out));
    if (len > K8SSA_KUBECONFIG_MAX_BYTES)
        return "larger than 1 MiB";
    if (!yaml_parser_initialize(&parser))
        return "libyaml cannot start";
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        err = apr_psprintf(p, "not YAML (%s, line %lu)",
                           parser.problem ? parser.problem : "?",
                           (unsigned long)parser.problem_mark.line + 1);
        yaml_parser_delete(&parser);
        return err;
    }
    t.doc = &doc;
    t.p = p;
    root = yaml_document_get_root_node(&doc);
    if (root == NULL || root->type != YAML_MAPPING_NODE) {
        err = "not a kubeconfig (no mapping at the top)";
    } else {
        const char *want = context ? context : scalar(&t, root, "current-context", &bad);
        if (want == NULL)
            err = "no context given and no current-context";
        else if ((err = resolve(&t, root, dir, want, out)) == NULL)
            out->context = apr_pstrdup(p, want);
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return err;
}
