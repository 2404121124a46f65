/*
 * test_wipe.c - the API server echoes spec.token: no memory that held the
 * client's token is handed back to the C library unwiped by the parse of a
 * TokenReview answer (json-c's tokener buffer and string objects).
 *
 * free() is interposed: every block freed while the parse runs is searched
 * for the token before it goes. Not in sanitizer builds, whose runtime owns
 * free() (the test is then skipped).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "unit.h"

#include <dlfcn.h>
#include <malloc.h>
#include <string.h>

#include <apr_strings.h>

#include "tokenreview.h"


#ifdef K8SSA_UNIT_ASAN
#define NO_INTERPOSITION 1
#endif

#ifndef NO_INTERPOSITION
static const char TOKEN[] = "eyJhbGciOiJSUzI1NiJ9.eyJzZWNyZXQiOiJ3aXBlLW1lIn0.c2VjcmV0LXNpZ25hdHVyZS0xMjM0NTY3ODk";
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
        if (memmem(p, n, TOKEN, sizeof(TOKEN) - 1) != NULL)
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_parse_leaves_no_token_in_freed_memory,
                                        pool_setup, pool_teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
