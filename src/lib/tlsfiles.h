/*
 * tlsfiles.h - startup checks of the PEM files handed to libcurl, so a CA
 * bundle that holds no certificate or a key that does not match its
 * certificate fails `apache2 -t` instead of every request.
 */
#ifndef K8SSA_TLSFILES_H
#define K8SSA_TLSFILES_H

/* NULL when path holds at least one PEM certificate; else why not. */
const char *k8ssa_check_ca_file(const char *path);

/* NULL when cert holds a PEM certificate and key the matching private key. */
const char *k8ssa_check_client_pair(const char *cert, const char *key);

#endif
