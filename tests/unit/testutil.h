/* testutil: what the CUnit programs share.
 *
 * Each tests/unit/test_<module>.c is its own program, but none has a main():
 * it lists its suites in one table and links tests/unit/cunit_main.c, which
 * registers them, prints the run's seed, runs everything and sets the exit
 * status. A new test file follows this pattern:
 *
 *   #include "testutil.h"
 *   static void test_something(void) { CU_ASSERT(...); }
 *   static const struct tu_test thing_tests[] = {
 *           {"something holds", test_something},
 *           {NULL, NULL},
 *   };
 *   const struct tu_suite tu_suites[] = {
 *           {"thing", NULL, NULL, thing_tests},    (init, cleanup may be NULL)
 *           {NULL, NULL, NULL, NULL},
 *   };
 *
 * and in mk/tests-unit.am: tests_unit_test_thing_SOURCES =
 * tests/unit/test_thing.c $(UNIT_MAIN).
 *
 * Randomized and property tests draw from tu_seed() and nothing else: one
 * variable, WEIGHTD_SEED=N, replays any run (main prints the seed it used). */
#ifndef WD_TESTUTIL_H
#define WD_TESTUTIL_H

#include <CUnit/Basic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct tu_test {
	const char *name;
	CU_TestFunc fn;
};

/* One suite: init and cleanup (NULL for none) return 0 on success; the
 * tests end with a {NULL, NULL} row. */
struct tu_suite {
	const char *name;
	CU_InitializeFunc init;
	CU_CleanupFunc cleanup;
	const struct tu_test *tests;
};

/* Defined by each test program, ended by a row whose name is NULL. */
extern const struct tu_suite tu_suites[];

/* The run's seed: WEIGHTD_SEED if set (decimal or 0x hex), else drawn from
 * the clock and the process id. The same for every call in one run. */
uint64_t tu_seed(void);

/* A scratch directory for this program, made at the first call; main removes
 * it after the run (the tests leave it empty). Aborts if it cannot be made. */
const char *tu_scratch_dir(void);

/* Writes text to a fresh temporary file and returns its path (the caller
 * unlinks and frees it), or NULL. */
static inline char *tu_write_temp(const char *text)
{
	char *path = strdup("/tmp/weightd-test-XXXXXX");
	if (!path)
		return NULL;
	int fd = mkstemp(path);
	if (fd < 0) {
		free(path);
		return NULL;
	}
	size_t len = strlen(text);
	if (write(fd, text, len) != (ssize_t)len) {
		close(fd);
		unlink(path);
		free(path);
		return NULL;
	}
	close(fd);
	return path;
}

#endif
