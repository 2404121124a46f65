/*
 * module.h - for the files of the module that use httpd's logging: the
 * module record lives in mod_auth_k8ssa.c; APLOG_USE_MODULE in each file
 * makes their log lines follow `LogLevel auth_k8ssa:...`.
 */
#ifndef K8SSA_MODULE_H
#define K8SSA_MODULE_H

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"

extern module AP_MODULE_DECLARE_DATA auth_k8ssa_module;
APLOG_USE_MODULE(auth_k8ssa);

/* Our own log tags: httpd's "AHnnnnn" registry belongs to httpd. */
#define K8LOG(n) "K8SSA" #n ": "

#endif
