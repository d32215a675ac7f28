/* testutil: small helpers shared by the CUnit suites. */
#ifndef WD_TESTUTIL_H
#define WD_TESTUTIL_H

#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Writes text to a fresh temporary file and returns its path (static buffer
 * per call site is not needed: the caller frees). */
static inline char *tu_write_temp(const char *text)
{
	char *path = strdup("/tmp/weightd-test-XXXXXX");
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

/* Runs the registered suites; the exit status says whether all passed. */
static inline int tu_run(void)
{
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}

/* One suite's tests, ended by {NULL, NULL}. */
struct tu_test {
	const char *name;
	CU_TestFunc fn;
};

/* The whole main of a one-suite test program. */
static inline int tu_main(const char *suite, const struct tu_test *tests)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite(suite, NULL, NULL);
	for (; tests->name; tests++)
		CU_add_test(s, tests->name, tests->fn);
	return tu_run();
}

#endif
