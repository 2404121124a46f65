/*
 * kubeconfig.h - AuthK8sKubeconfig: the connection of one context of a
 * kubeconfig file (libyaml): the cluster's server and CA, the user's token
 * or client certificate. What the module cannot do safely is refused, in
 * the selected context only: exec and auth-provider plugins (a program run
 * by httpd), insecure-skip-tls-verify, basic auth. Plain C: unit-tested.
 */
#ifndef K8SSA_KUBECONFIG_H
#define K8SSA_KUBECONFIG_H

#include <stddef.h>
#include <apr_pools.h>

/* Bigger files are refused. */
#define K8SSA_KUBECONFIG_MAX_BYTES (256 * 1024)

typedef struct k8ssa_kubeconfig {
    const char *context;        /* the context used */
    const char *server;
    /* Paths are absolute (relative ones resolved against the file's
     * directory); *_data are the decoded bytes of the *-data fields. */
    const char *ca_file;
    const unsigned char *ca_data;
    size_t ca_data_len;
    const char *token;          /* inline token */
    const char *token_file;
    const char *cert_file;
    const unsigned char *cert_data;
    size_t cert_data_len;
    const char *key_file;
    const unsigned char *key_data;
    size_t key_data_len;
} k8ssa_kubeconfig;

/*
 * Reads text[0..len) (the kubeconfig at path, which relative paths are
 * taken from) for context (NULL: current-context) into *out (in p); NULL on
 * success, else a message naming what is wrong.
 */
const char *k8ssa_kubeconfig_parse(apr_pool_t *p, const char *path, const char *text,
                                   size_t len, const char *context, k8ssa_kubeconfig *out);

#endif
