/*
 * asan_pools.c - APR pool allocations that AddressSanitizer can see.
 *
 * A pool hands out slices of large blocks, so an allocation overrun lands in
 * the next slice and no sanitizer notices it. Sanitizer and fuzz builds link
 * with -Wl,--wrap=apr_palloc -Wl,--wrap=apr_pcalloc: every call our objects
 * make then comes here and gets a malloc block of its own (with ASan's red
 * zones around it), freed when the pool is cleared or destroyed. Calls made
 * inside libapr itself (apr_pstrdup, tables, arrays) keep the real pools.
 *
 * The blocks of a pool are freed by one cleanup registered with its first
 * wrapped allocation: cleanups run last-registered first, so every cleanup
 * registered after it (one that still reads pool memory) runs before the
 * memory goes, as with real pools.
 */
#include <apr_pools.h>

#include <stdlib.h>
#include <string.h>

void *__wrap_apr_palloc(apr_pool_t *p, apr_size_t size);
void *__wrap_apr_pcalloc(apr_pool_t *p, apr_size_t size);

typedef struct block {
    struct block *next;
    void *mem;
} block;

static const char blocks_key[] = "k8ssa-asan-pool-blocks";

static apr_status_t free_blocks(void *data)
{
    block *b = data;

    while (b != NULL) {
        block *next = b->next;
        free(b->mem);
        free(b);
        b = next;
    }
    return APR_SUCCESS;
}

void *__wrap_apr_palloc(apr_pool_t *p, apr_size_t size)
{
    block *head = NULL, *b = malloc(sizeof(*b));
    void *mem = malloc(size ? size : 1);

    if (b == NULL || mem == NULL)
        abort();  /* what APR's abort function does by default */
    b->mem = mem;
    apr_pool_userdata_get((void **)&head, blocks_key, p);
    if (head == NULL) {
        /* The list hangs off its first block: the cleanup frees them all. */
        b->next = NULL;
        apr_pool_cleanup_register(p, b, free_blocks, apr_pool_cleanup_null);
        apr_pool_userdata_setn(b, blocks_key, NULL, p);
    } else {
        b->next = head->next;
        head->next = b;
    }
    return mem;
}

void *__wrap_apr_pcalloc(apr_pool_t *p, apr_size_t size)
{
    return memset(__wrap_apr_palloc(p, size), 0, size);
}
