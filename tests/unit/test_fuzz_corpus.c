/* test_fuzz_corpus: replays every seed and every past crash of the fuzz
 * targets (tests/fuzz/corpus/<target>/, tests/fuzz/regress/<target>/) so
 * make check keeps them fixed under the normal build and the sanitizers. */
#include <dirent.h>
#include <stdint.h>

#include "../fuzz/fuzz_targets.h"
#include "testutil.h"

static size_t replay_dir(const char *dir, int (*fn)(const uint8_t *, size_t))
{
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[2048];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		FILE *f = fopen(path, "rb");
		if (!f)
			continue;
		static uint8_t buf[1 << 20];
		size_t len = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		CU_ASSERT_EQUAL(fn(buf, len), 0);
		n++;
	}
	closedir(d);
	return n;
}

static size_t replay(const char *target, int (*fn)(const uint8_t *, size_t))
{
	const char *top = getenv("top_srcdir");
	char dir[1024];
	size_t n = 0;
	snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/%s", top ? top : ".", target);
	n += replay_dir(dir, fn);
	snprintf(dir, sizeof(dir), "%s/tests/fuzz/regress/%s", top ? top : ".", target);
	n += replay_dir(dir, fn);
	return n;
}

static void test_prom(void) { CU_ASSERT(replay("prom", fuzz_prom_response) >= 5); }
static void test_config(void) { CU_ASSERT(replay("config", fuzz_config) >= 2); }
static void test_duration(void) { CU_ASSERT(replay("duration", fuzz_duration) >= 5); }
static void test_state(void) { CU_ASSERT(replay("state", fuzz_state) >= 1); }
static void test_answer(void) { CU_ASSERT(replay("answer", fuzz_prom_answer) >= 5); }

static const struct tu_test fuzz_corpus_tests[] = {
	{"prometheus responses", test_prom},
	{"config files", test_config},
	{"durations", test_duration},
	{"state files", test_state},
	{"answers and their error messages", test_answer},
	{NULL, NULL},
};

const struct tu_suite tu_suites[] = {
	{"fuzz corpora", NULL, NULL, fuzz_corpus_tests},
	{NULL, NULL, NULL, NULL},
};
