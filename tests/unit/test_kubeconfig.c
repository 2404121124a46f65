/*
 * test_kubeconfig.c - unit tests of src/lib/kubeconfig.c: the selected
 * context's cluster and user, relative paths, *-data fields decoded, and
 * what is refused (in the selected context only).
 */
#include "unit.h"

#include <string.h>

#include "kubeconfig.h"

static const char config[] =
    "apiVersion: v1\n"
    "kind: Config\n"
    "current-context: dev\n"
    "clusters:\n"
    "- name: c1\n"
    "  cluster:\n"
    "    server: https://10.0.0.1:6443\n"
    "    certificate-authority: pki/ca.crt\n"
    "- name: c2\n"
    "  cluster:\n"
    "    server: https://10.0.0.2:6443\n"
    "    certificate-authority-data: aGVsbG8=\n"
    "    insecure-skip-tls-verify: false\n"
    "users:\n"
    "- name: u1\n"
    "  user:\n"
    "    tokenFile: /var/run/token\n"
    "- name: u2\n"
    "  user:\n"
    "    client-certificate-data: Y2VydA==\n"
    "    client-key: keys/k.pem\n"
    "- name: bad\n"
    "  user:\n"
    "    exec:\n"
    "      command: aws\n"
    "contexts:\n"
    "- name: dev\n"
    "  context: {cluster: c1, user: u1}\n"
    "- name: prod\n"
    "  context: {cluster: c2, user: u2}\n"
    "- name: plugin\n"
    "  context: {cluster: c1, user: bad}\n";

static void test_contexts(void **state)
{
    apr_pool_t *p = *state;
    k8ssa_kubeconfig kc;

    assert_null(k8ssa_kubeconfig_parse(p, "/etc/k/config", config, strlen(config), NULL, &kc));
    assert_string_equal(kc.context, "dev");
    assert_string_equal(kc.server, "https://10.0.0.1:6443");
    assert_string_equal(kc.ca_file, "/etc/k/pki/ca.crt");
    assert_string_equal(kc.token_file, "/var/run/token");
    assert_null(kc.ca_data);

    assert_null(k8ssa_kubeconfig_parse(p, "/etc/k/config", config, strlen(config), "prod",
                                       &kc));
    assert_string_equal(kc.server, "https://10.0.0.2:6443");
    assert_int_equal(kc.ca_data_len, 5);
    assert_memory_equal(kc.ca_data, "hello", 5);
    assert_int_equal(kc.cert_data_len, 4);
    assert_memory_equal(kc.cert_data, "cert", 4);
    assert_string_equal(kc.key_file, "/etc/k/keys/k.pem");
    assert_null(kc.token);
}

static void test_refusals(void **state)
{
    apr_pool_t *p = *state;
    k8ssa_kubeconfig kc;
    const char *err;

    err = k8ssa_kubeconfig_parse(p, "/etc/k/config", config, strlen(config), "plugin", &kc);
    assert_non_null(err);
    assert_non_null(strstr(err, "exec"));
    err = k8ssa_kubeconfig_parse(p, "/etc/k/config", config, strlen(config), "nope", &kc);
    assert_non_null(strstr(err, "no context 'nope'"));
    {
        static const char insecure[] =
            "current-context: x\nclusters:\n- name: c\n  cluster:\n    server: https://a\n"
            "    insecure-skip-tls-verify: true\ncontexts:\n- name: x\n  context: {cluster: c}\n";
        err = k8ssa_kubeconfig_parse(p, "c", insecure, strlen(insecure), NULL, &kc);
        assert_non_null(strstr(err, "insecure-skip-tls-verify"));
    }
    {
        static const char http[] =
            "current-context: x\nclusters:\n- name: c\n  cluster:\n    server: http://a\n"
            "contexts:\n- name: x\n  context: {cluster: c}\n";
        err = k8ssa_kubeconfig_parse(p, "c", http, strlen(http), NULL, &kc);
        assert_non_null(strstr(err, "https"));
    }
    assert_non_null(k8ssa_kubeconfig_parse(p, "c", "[1, 2", 5, NULL, &kc));
    assert_non_null(k8ssa_kubeconfig_parse(p, "c", "", 0, NULL, &kc));
    assert_non_null(k8ssa_kubeconfig_parse(p, "c", "a: b\n", 5, NULL, &kc));
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, pool_setup, pool_teardown)
    const struct CMUnitTest tests[] = {
        T(test_contexts),
        T(test_refusals),
    };
#undef T
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
