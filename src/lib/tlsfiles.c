/* tlsfiles.c - PEM checks at startup (see tlsfiles.h). */
#include "tlsfiles.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>

static X509 *read_certificate(const char *path)
{
    FILE *f = fopen(path, "r");
    X509 *x;

    if (f == NULL)
        return NULL;
    x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    return x;
}

const char *k8ssa_check_ca_file(const char *path)
{
    X509 *x = read_certificate(path);

    ERR_clear_error();
    if (x == NULL)
        return "holds no PEM certificate";
    X509_free(x);
    return NULL;
}

const char *k8ssa_check_client_pair(const char *cert, const char *key)
{
    X509 *x = read_certificate(cert);
    EVP_PKEY *k = NULL;
    const char *why = NULL;
    FILE *f;

    if (x == NULL) {
        why = "AuthK8sClientCertificate holds no PEM certificate";
    } else if ((f = fopen(key, "r")) == NULL) {
        why = "AuthK8sClientKey cannot be opened";
    } else {
        /* An encrypted key would need a passphrase nobody can type. */
        k = PEM_read_PrivateKey(f, NULL, NULL, (void *)"");
        fclose(f);
        if (k == NULL)
            why = "AuthK8sClientKey holds no unencrypted PEM private key";
        else if (X509_check_private_key(x, k) != 1)
            why = "AuthK8sClientKey does not match AuthK8sClientCertificate";
    }
    EVP_PKEY_free(k);
    X509_free(x);
    ERR_clear_error();
    return why;
}
