/* test_util: the shared helpers (checked allocation, growable arrays and
 * buffers, FNV-1a, clamps, wiping) and the events the tick logs for the
 * modules below it: fields kept, order kept, a recurring warning given once. */
#include <stdint.h>

#include "event.h"
#include "log.h"
#include "testutil.h"
#include "util.h"

static void test_alloc(void)
{
	char *a = xmalloc(0), *b = xcalloc(0, 8);
	CU_ASSERT_PTR_NOT_NULL(a);
	CU_ASSERT_PTR_NOT_NULL(b);
	CU_ASSERT_PTR_NOT_EQUAL(a, b);
	int *z = xcalloc(4, sizeof(int));
	CU_ASSERT(z[0] == 0 && z[3] == 0);
	char *s = xstrndup("secret-token", 6);
	CU_ASSERT_STRING_EQUAL(s, "secret");
	char *d = xstrdup("x");
	CU_ASSERT_STRING_EQUAL(d, "x");
	free(a);
	free(b);
	free(z);
	free(s);
	free(d);
}

static void test_grow_and_buf(void)
{
	int *v = NULL;
	size_t cap = 0;
	for (int i = 0; i < 100; i++) {
		v = util_grow(v, &cap, (size_t)i + 1, sizeof(*v), 4);
		v[i] = i;
	}
	CU_ASSERT_EQUAL(cap, 128); /* 4, doubled until 100 fit */
	CU_ASSERT_EQUAL(v[0], 0);
	CU_ASSERT_EQUAL(v[99], 99);
	free(v);

	struct util_buf b = {0};
	util_buf_add(&b, "ab", 2);
	util_buf_add(&b, "cdef", 3);
	CU_ASSERT_EQUAL(b.len, 5);
	CU_ASSERT_STRING_EQUAL(b.p, "abcde");
	util_buf_free(&b);
	CU_ASSERT_PTR_NULL(b.p);
	CU_ASSERT_EQUAL(b.len, 0);
}

static void test_hash_clamp_wipe(void)
{
	/* The published FNV-1a 64-bit test vectors. */
	CU_ASSERT_EQUAL(util_fnv1a(UTIL_FNV_OFFSET, "", 0), 0xcbf29ce484222325ull);
	CU_ASSERT_EQUAL(util_fnv1a(UTIL_FNV_OFFSET, "a", 1), 0xaf63dc4c8601ec8cull);
	CU_ASSERT_EQUAL(util_fnv1a(util_fnv1a(UTIL_FNV_OFFSET, "fo", 2), "obar", 4),
			util_fnv1a(UTIL_FNV_OFFSET, "foobar", 6));
	CU_ASSERT_EQUAL(util_clamp(5.5, 0, 1), 1);
	CU_ASSERT_EQUAL(util_clamp(-2, 0, 1), 0);
	CU_ASSERT_EQUAL(util_clamp(0.25, 0, 1), 0.25);
	CU_ASSERT_EQUAL(util_clamp_int(150, 1, 100), 100);
	CU_ASSERT_EQUAL(util_clamp_int(0, 1, 100), 1);
	char pw[] = "hunter2";
	util_wipe(pw, sizeof(pw));
	for (size_t i = 0; i < sizeof(pw); i++)
		CU_ASSERT_EQUAL(pw[i], 0);
	util_free_secret(xstrdup("hunter2"));
	util_free_secret(NULL);
	CU_ASSERT(util_mono_ms() > 0 && util_wall_ms() > 0 && util_mono_s() > 0);
}


static void test_events(void)
{
	FILE *f = tmpfile();
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	log_setup(WD_LOG_INFO, WD_LOG_LOGFMT);
	log_set_stream(f);
	struct wd_events ev = {0}, more = {0};
	struct event_seen seen = {0};
	event_add(NULL, WD_LOG_WARN, "dropped", "k", "v", (char *)NULL); /* no list: ignored */
	event_add(&ev, WD_LOG_INFO, "connected to Redis", "address", "127.0.0.1:6379", (char *)NULL);
	event_add_once(&ev, WD_LOG_WARN, "duplicate series", "service", "s", "detail", "a",
		       (char *)NULL);
	event_add(&more, WD_LOG_WARN, "five fields", "a", "1", "b", "2", "c", "3", "d", "4", "e",
		  "5", (char *)NULL);
	event_move(&ev, &more);
	CU_ASSERT_EQUAL(more.n, 0);
	CU_ASSERT_EQUAL(ev.n, 3);
	event_log(&ev, &seen);
	CU_ASSERT_EQUAL(ev.n, 0);
	char *out = tu_drain(f);
	CU_ASSERT_PTR_NULL(strstr(out, "dropped"));
	const char *c = strstr(out, "msg=\"connected to Redis\" address=127.0.0.1:6379");
	const char *d = strstr(out, "level=warn msg=\"duplicate series\" service=s detail=a");
	CU_ASSERT(c && d && c < d); /* in the order recorded */
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "a=1 b=2 c=3 d=4\n")); /* at most four fields */
	free(out);

	/* The same warning again goes at debug (not shown at info); another
	 * detail is a new warning; a plain event is logged every time. */
	event_add_once(&ev, WD_LOG_WARN, "duplicate series", "service", "s", "detail", "a",
		       (char *)NULL);
	event_add_once(&ev, WD_LOG_WARN, "duplicate series", "service", "s", "detail", "b",
		       (char *)NULL);
	event_add(&ev, WD_LOG_INFO, "connected to Redis", "address", "127.0.0.1:6379", (char *)NULL);
	event_log(&ev, &seen);
	out = tu_drain(f);
	CU_ASSERT_EQUAL(tu_count(out, "detail=a"), 0);
	CU_ASSERT_EQUAL(tu_count(out, "level=warn msg=\"duplicate series\" service=s detail=b"), 1);
	CU_ASSERT_EQUAL(tu_count(out, "connected to Redis"), 1);
	free(out);

	/* Without a table of seen warnings, every one is given at its level. */
	event_add_once(&ev, WD_LOG_WARN, "duplicate series", "service", "s", "detail", "a",
		       (char *)NULL);
	event_log(&ev, NULL);
	out = tu_drain(f);
	CU_ASSERT_EQUAL(tu_count(out, "detail=a"), 1);
	free(out);

	wd_logf(WD_LOG_ERROR, "out of memory (%zu bytes); aborting", (size_t)42);
	wd_logf(WD_LOG_DEBUG, "not shown at info %d", 1);
	out = tu_drain(f);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "level=error msg=\"out of memory (42 bytes); aborting\"\n"));
	CU_ASSERT_PTR_NULL(strstr(out, "not shown"));
	free(out);
	event_clear(&ev);
	event_clear(&more);
	log_set_stream(NULL);
	fclose(f);
}

static const struct tu_test util_tests[] = {
	{"checked allocation", test_alloc},
	{"growable arrays and buffers", test_grow_and_buf},
	{"hash, clamps, wipe, clocks", test_hash_clamp_wipe},
	{"events logged by the tick", test_events},
	{NULL, NULL},
};

const struct tu_suite tu_suites[] = {
	{"util", NULL, NULL, util_tests},
	{NULL, NULL, NULL, NULL},
};
