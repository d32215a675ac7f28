/* util: checked allocation, clocks, growable buffers, hashing and wiping;
 * see util.h. */
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

static void out_of_memory(size_t size)
{
	wd_logf(WD_LOG_ERROR, "out of memory (%zu bytes); aborting", size);
	abort();
}

void *xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);
	if (!p)
		out_of_memory(size);
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		out_of_memory(n * size);
	return p;
}

void *xrealloc(void *p, size_t size)
{
	void *np = realloc(p, size ? size : 1);
	if (!np)
		out_of_memory(size);
	return np;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *d = xmalloc(len + 1);
	memcpy(d, s, len);
	d[len] = '\0';
	return d;
}

static struct timespec now(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return ts;
}

int64_t util_mono_ms(void)
{
	struct timespec ts = now(CLOCK_MONOTONIC);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double util_mono_s(void)
{
	struct timespec ts = now(CLOCK_MONOTONIC);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int64_t util_wall_ms(void)
{
	struct timespec ts = now(CLOCK_REALTIME);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void *util_grow(void *p, size_t *cap, size_t need, size_t elem_size, size_t first_cap)
{
	if (need <= *cap && p)
		return p;
	size_t c = *cap ? *cap : first_cap ? first_cap : 1;
	while (c < need)
		c *= 2;
	p = xrealloc(p, c * elem_size);
	*cap = c;
	return p;
}

void util_buf_add(struct util_buf *b, const void *data, size_t len)
{
	b->p = util_grow(b->p, &b->cap, b->len + len + 1, 1, 1024);
	memcpy(b->p + b->len, data, len);
	b->len += len;
	b->p[b->len] = '\0';
}

void util_buf_free(struct util_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

uint64_t util_fnv1a(uint64_t h, const void *data, size_t len)
{
	const unsigned char *s = data;
	for (size_t i = 0; i < len; i++)
		h = (h ^ s[i]) * 1099511628211ull;
	return h;
}

void util_wipe(void *p, size_t n)
{
	if (p)
		explicit_bzero(p, n);
}

void util_free_secret(char *s)
{
	if (s)
		util_wipe(s, strlen(s));
	free(s);
}
