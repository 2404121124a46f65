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

#include <apr_allocator.h>
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
static unsigned found, freed, wiped;   /* wiped: blocks that begin with strlen(watched) zeros */

void free(void *p)
{
    static void (*real_free)(void *);

    if (real_free == NULL)
        real_free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
    if (p != NULL && watching) {
        size_t n = malloc_usable_size(p), w = strlen(watched), i = 0;
        freed++;
        if (memmem(p, n, watched, w) != NULL)
            found++;
        while (i < w && i < n && ((const char *)p)[i] == 0)
            i++;
        wiped += i == w;
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

#define TOKEN_FILE_TEMPLATE "/tmp/k8ssa-test-wipe-XXXXXX"
static char token_file[sizeof(TOKEN_FILE_TEMPLATE)];
static int token_file_made;

#ifndef NO_INTERPOSITION
/* A token file of the test's own; removed in the teardown (a failed
 * assertion does not reach the end of a test). */
static char *token_path(void)
{
    if (!token_file_made) {
        int fd;
        memcpy(token_file, TOKEN_FILE_TEMPLATE, sizeof(token_file));
        fd = mkstemp(token_file);
        assert_true(fd >= 0);
        close(fd);
        token_file_made = 1;
    }
    return token_file;
}
#endif

static int remove_token_file(void **state)
{
    if (token_file_made) {
        unlink(token_file);
        token_file_made = 0;
    }
    return pool_teardown(state);
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
    char *path = token_path();
    k8ssa_credential *c;
    const char *why = NULL, *t;

    write_token_file(path, first);
    assert_int_equal(apr_pool_create(&cp, p), APR_SUCCESS);
    assert_int_equal(k8ssa_credential_open(cp, path, 0, &c, &why), APR_SUCCESS);
    t = k8ssa_credential_token(c, p);
    assert_string_equal(t, first);

    /* the rotation: the first token's block is freed */
    write_token_file(path, second);
    watched = first;
    found = freed = wiped = 0;
    watching = 1;
    t = k8ssa_credential_token(c, p);
    watching = 0;
    assert_string_equal(t, second);
    assert_true(wiped > 0);             /* the first token's block, zeroed */
    assert_int_equal(found, 0);

    /* the credential goes with its pool: the second token's block is freed */
    watched = second;
    found = freed = wiped = 0;
    watching = 1;
    apr_pool_destroy(cp);
    watching = 0;
    assert_true(wiped > 0);
    assert_int_equal(found, 0);
#endif
}

#ifndef NO_INTERPOSITION
/* Copies of needle in the memory nodes an allocator holds free, taken back
 * smallest first, up to the first node larger than the 64 KiB read buffer
 * (*big then 1). apr_allocator_alloc(al, 1) never fails for want of a free
 * node: it makes a fresh one, of 8 KiB, so a larger node was a pool's. */
static unsigned copies_in_free_nodes(apr_allocator_t *al, const char *needle, int *big)
{
    apr_memnode_t *nodes[64];
    unsigned copies = 0;
    int i, n = 0;

    *big = 0;
    while (!*big && n < 64) {
        const char *from, *p;
        nodes[n] = apr_allocator_alloc(al, 1);
        assert_non_null(nodes[n]);
        from = p = (const char *)nodes[n] + APR_MEMNODE_T_SIZE;
        while ((p = memmem(p, (size_t)(nodes[n]->endp - p), needle, strlen(needle))) != NULL) {
            copies++;
            p++;
        }
        *big = (size_t)(nodes[n]->endp - from) > K8SSA_CREDENTIAL_MAX_BYTES;
        n++;
    }
    for (i = 0; i < n; i++)
        apr_allocator_free(al, nodes[i]);
    return copies;
}
#endif

/* Every copy of the module's credential made in the credential's pool (its
 * first read, which only checks the file) is wiped before the pool's memory
 * goes back to its allocator, by the rotation and at the end: the pool
 * lives as long as the configuration. */
static void test_credential_pool_memory_wiped(void **state)
{
#ifdef NO_INTERPOSITION
    (void)state;
    skip();
#else
    apr_pool_t *p = *state, *cp;
    apr_allocator_t *al;
    static const char first[] = "eyJhbGciOiJSUzI1NiJ9.cG9vbC1maXJzdA.c2lnLXBvb2wtMQ";
    static const char second[] = "eyJhbGciOiJSUzI1NiJ9.cG9vbC1zZWNvbmQtbG9uZ2Vy.c2lnLXBvb2wtMg";
    char *path = token_path();
    k8ssa_credential *c;
    const char *why = NULL;
    int big;

    write_token_file(path, first);
    assert_int_equal(apr_allocator_create(&al), APR_SUCCESS);
    assert_int_equal(apr_pool_create_ex(&cp, NULL, NULL, al), APR_SUCCESS);
    assert_int_equal(k8ssa_credential_open(cp, path, 0, &c, &why), APR_SUCCESS);
    /* open()'s check read went at once, wiped: its read buffer is free */
    assert_int_equal(copies_in_free_nodes(al, first, &big), 0);
    assert_true(big);
    assert_string_equal(k8ssa_credential_token(c, p), first);
    write_token_file(path, second);
    assert_string_equal(k8ssa_credential_token(c, p), second);
    apr_pool_destroy(cp);
    assert_int_equal(copies_in_free_nodes(al, first, &big), 0);
    assert_true(big);           /* the 64 KiB read buffer's node was read */
    assert_int_equal(copies_in_free_nodes(al, second, &big), 0);
    apr_allocator_destroy(al);
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_parse_leaves_no_token_in_freed_memory,
                                        pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_credential_token_wiped_when_freed,
                                        pool_setup, remove_token_file),
        cmocka_unit_test_setup_teardown(test_credential_pool_memory_wiped,
                                        pool_setup, remove_token_file),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
