/* cunit_main: the one main() of every CUnit program (see testutil.h):
 * registers the program's tu_suites, prints the seed, runs them verbosely
 * and exits 0 only when every suite set up and every test passed. */
#include "testutil.h"

#include <errno.h>
#include <inttypes.h>
#include <time.h>

static uint64_t seed;
static char scratch[] = "/tmp/weightd-test-XXXXXX";
static int scratch_made;

uint64_t tu_seed(void)
{
	return seed;
}

const char *tu_scratch_dir(void)
{
	if (!scratch_made) {
		if (!mkdtemp(scratch)) {
			perror("tu_scratch_dir: mkdtemp");
			abort();
		}
		scratch_made = 1;
	}
	return scratch;
}

static uint64_t choose_seed(void)
{
	const char *env = getenv("WEIGHTD_SEED");
	if (env && *env)
		return strtoull(env, NULL, 0);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec * 1000003u) ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32);
}

int main(void)
{
	seed = choose_seed();
	printf("seed %" PRIu64 " (replay: WEIGHTD_SEED=%" PRIu64 ")\n", seed, seed);
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	for (const struct tu_suite *s = tu_suites; s->name; s++) {
		CU_pSuite suite = CU_add_suite(s->name, s->init, s->cleanup);
		if (!suite)
			return 1;
		for (const struct tu_test *t = s->tests; t->name; t++)
			if (!CU_add_test(suite, t->name, t->fn))
				return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed() +
			  CU_get_number_of_suites_failed();
	CU_cleanup_registry();
	if (scratch_made && rmdir(scratch) < 0)
		fprintf(stderr, "note: %s not removed: %s\n", scratch, strerror(errno));
	printf("seed %" PRIu64 " (replay: WEIGHTD_SEED=%" PRIu64 ")\n", seed, seed);
	return failed ? 1 : 0;
}
