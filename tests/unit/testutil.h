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

#include "config.h"

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

/* One service of a config text, with two servers (s1:80, s2:80) and the
 * service keys in extra. */
#define TU_SERVICE(name, extra)                                                             \
	"{ name = \"" name "\"; " extra " backends = ( { name = \"s1:80\"; url = \"http://s1\"; },"  \
	" { name = \"s2:80\"; url = \"http://s2\"; } ); }"

/* config_load on text (in a temporary file, removed again): its 0 or -1,
 * with *cfg, errs and warns (NULL: none wanted) as config_load leaves them. */
static inline int tu_load_config(const char *text, struct wd_config **cfg, struct wd_errors *errs,
				 struct wd_errors *warns)
{
	char *path = tu_write_temp(text);
	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	int rc = config_load(path, cfg, errs, warns);
	unlink(path);
	free(path);
	return rc;
}

/* Everything written to f's descriptor since the last call (the log writes
 * there with write(2), past stdio), as a string the caller frees; then
 * empties the file and rewinds the descriptor for the next lines. */
static inline char *tu_drain(FILE *f)
{
	int fd = fileno(f);
	off_t n = lseek(fd, 0, SEEK_END);
	char *b = calloc(1, n > 0 ? (size_t)n + 1 : 1);
	if (n > 0 && pread(fd, b, (size_t)n, 0) != (ssize_t)n)
		b[0] = '\0';
	if (ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0)
		b[0] = '\0';
	return b;
}

/* How many times needle occurs in hay. */
static inline int tu_count(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

#endif
