/*
 * test_wipe.c - no memory that held a token is handed back to the C library
 * unwiped: the client's token, which the API server echoes in spec.token,
 * by the parse of a TokenReview answer (json-c's tokener buffer and string
 * objects); the module's own credential when a rotated file replaces it and
 * when the credential goes.
 *
 * free() is interposed: every block freed while a step runs is searched for
 * the token before it goes. A memset() right before free() is a dead store
 * the compiler may drop, so this also sees a wipe that was optimised away.
 * Not in sanitizer builds, whose runtime owns free() (the tests then skip).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "unit.h"

#include <dlfcn.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <apr_strings.h>

#include "credential.h"
#include "tokenreview.h"


#ifdef K8SSA_UNIT_ASAN
#define NO_INTERPOSITION 1
#endif

#ifndef NO_INTERPOSITION
static const char TOKEN[] = "eyJhbGciOiJSUzI1NiJ9.eyJzZWNyZXQiOiJ3aXBlLW1lIn0.c2VjcmV0LXNpZ25hdHVyZS0xMjM0NTY3ODk";
static const char *watched = TOKEN;   /* the token looked for */
static int watching;
static unsigned found, freed;

void free(void *p)
{
    static void (*real_free)(void *);

    if (real_free == NULL)
        real_free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
    if (p != NULL && watching) {
        size_t n = malloc_usable_size(p);
        freed++;
        if (memmem(p, n, watched, strlen(watched)) != NULL)
            found++;
    }
    real_free(p);
}
#endif

static void test_parse_leaves_no_token_in_freed_memory(void **state)
{
#ifdef NO_INTERPOSITION
    (void)state;
    skip();
#else
    apr_pool_t *p = *state;
    k8ssa_review_result r;
    const char *body = apr_psprintf(p,
        "{\"kind\":\"TokenReview\",\"apiVersion\":\"authentication.k8s.io/v1\","
        "\"spec\":{\"token\":\"%s\",\"audiences\":[\"a\"]},"
        "\"status\":{\"authenticated\":true,\"user\":{\"username\":\"alice\","
        "\"groups\":[\"g1\",\"g2\"]},\"audiences\":[\"a\"]}}", TOKEN);

    watched = TOKEN;
    found = freed = 0;
    watching = 1;
    k8ssa_tokenreview_parse(p, body, strlen(body), NULL, 0, &r);
    watching = 0;
    assert_int_equal(r.outcome, K8SSA_REVIEW_AUTHENTICATED);
    assert_true(freed > 0);            /* json-c did free its buffers */
    assert_int_equal(found, 0);
    /* the caller's body is the caller's to wipe (authn.c does) */
    assert_non_null(strstr(body, TOKEN));
#endif
}

#ifndef NO_INTERPOSITION
static void write_token_file(const char *path, const char *token)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    assert_true(fprintf(f, "%s\n", token) > 0);
    assert_int_equal(fclose(f), 0);
}
#endif

/* The credential keeps its token in malloc'd memory: freed when a rotated
 * file replaces it and when the credential's pool goes. */
static void test_credential_token_wiped_when_freed(void **state)
{
#ifdef NO_INTERPOSITION
    (void)state;
    skip();
#else
    apr_pool_t *p = *state, *cp;
    static const char first[] = "eyJhbGciOiJSUzI1NiJ9.Zmlyc3QtY3JlZGVudGlhbA.c2lnLW9uZQ";
    static const char second[] = "eyJhbGciOiJSUzI1NiJ9.c2Vjb25kLWNyZWRlbnRpYWwtbG9uZ2Vy.c2lnLXR3bw";
    char path[] = "/tmp/k8ssa-test-wipe-XXXXXX";
    int fd = mkstemp(path);
    k8ssa_credential *c;
    const char *why = NULL, *t;

    assert_true(fd >= 0);
    close(fd);
    write_token_file(path, first);
    assert_int_equal(apr_pool_create(&cp, p), APR_SUCCESS);
    assert_int_equal(k8ssa_credential_open(cp, path, 0, &c, &why), APR_SUCCESS);
    t = k8ssa_credential_token(c, p);
    assert_string_equal(t, first);

    /* the rotation: the first token's block is freed */
    write_token_file(path, second);
    watched = first;
    found = freed = 0;
    watching = 1;
    t = k8ssa_credential_token(c, p);
    watching = 0;
    assert_string_equal(t, second);
    assert_true(freed > 0);
    assert_int_equal(found, 0);

    /* the credential goes with its pool: the second token's block is freed */
    watched = second;
    found = freed = 0;
    watching = 1;
    apr_pool_destroy(cp);
    watching = 0;
    assert_true(freed > 0);
    assert_int_equal(found, 0);
    unlink(path);
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_parse_leaves_no_token_in_freed_memory,
                                        pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_credential_token_wiped_when_freed,
                                        pool_setup, pool_teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
