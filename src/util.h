/* util: the few helpers every module shares. Checked allocation states the
 * out-of-memory policy once: weightd cannot do its job without memory, so
 * xmalloc and friends log one line and abort rather than hand a NULL to
 * every caller. Beside them: the clocks, a growable array, FNV-1a hashing,
 * clamping, and wiping secrets the compiler may not optimise away. */
#ifndef WD_UTIL_H
#define WD_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Allocate or abort (one log line naming the size). A size of 0 still
 * returns a unique pointer, so callers need no "n ? n : 1". */
void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* The monotonic clock (scheduling, durations) and the wall clock (records). */
int64_t util_mono_ms(void);
double util_mono_s(void);
int64_t util_wall_ms(void);

/* Makes room for at least need elements of elem_size in the array p of
 * capacity *cap (elements), doubling from first_cap; returns the array. */
void *util_grow(void *p, size_t *cap, size_t need, size_t elem_size, size_t first_cap);

/* A growable byte buffer, always NUL-terminated once anything was added. */
struct util_buf {
	char *p;
	size_t len, cap;
};
void util_buf_add(struct util_buf *b, const void *data, size_t len);
void util_buf_free(struct util_buf *b);

/* FNV-1a over len bytes, continuing from h (start with UTIL_FNV_OFFSET). */
#define UTIL_FNV_OFFSET 14695981039346656037ull
uint64_t util_fnv1a(uint64_t h, const void *data, size_t len);

static inline double util_clamp(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static inline int util_clamp_int(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* Overwrites n bytes with zeros in a way the compiler keeps (explicit_bzero). */
void util_wipe(void *p, size_t n);
/* Wipes a NUL-terminated secret and frees it; NULL is fine. */
void util_free_secret(char *s);

#endif
