/* fault_alloc: see fault_alloc.h. The wrappers replace weightd's calls to
 * the allocator at link time; __real_* are the allocator itself (ASan's in a
 * sanitizer build). Only the main thread reloads, and the test runs without
 * the HTTP thread, so the counter needs no lock. */
#include "fault_alloc.h"

#include <stdbool.h>
#include <stdlib.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);

static bool armed;
static long fail_at;  /* the allocation of the first reload that fails; 0: none */
static long reloads;  /* reloads armed so far */
static long allocs;   /* allocations counted in this reload */

void fault_alloc_arm(void)
{
	const char *k = getenv("WD_FAULT_RELOAD_ALLOC");
	if (!k || ++reloads > 1)
		return;
	fail_at = strtol(k, NULL, 10);
	armed = fail_at > 0;
	allocs = 0;
}

void fault_alloc_disarm(void)
{
	armed = false;
}

/* True for the allocation that must fail. */
static bool fail_now(void)
{
	return armed && ++allocs == fail_at;
}

void *__wrap_malloc(size_t n)
{
	return fail_now() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
	return fail_now() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
	return fail_now() ? NULL : __real_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
	return fail_now() ? NULL : __real_strdup(s);
}
