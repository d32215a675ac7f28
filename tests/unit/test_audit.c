/* test_audit: every field of a record for each action parses as JSON with
 * cJSON; unknown values are null; the file is appended to, reopened after
 * rotation, and lines from concurrent writers never interleave; the dry-run
 * table is aligned. */
#include <cJSON.h>
#include <math.h>
#include <sys/stat.h>
#include <pthread.h>

#include "audit.h"
#include "testutil.h"

static const char *const fields[] = {"ts",   "tick",  "service", "backend", "latency",
				     "error_ratio", "rate", "cost", "error", "old",
				     "new", "action", "reason"};
#define N_FIELDS (sizeof(fields) / sizeof(fields[0]))

/* Parses one line and checks it has exactly the documented fields, in order. */
static cJSON *parse_line(const char *line)
{
	size_t len = strlen(line);
	CU_ASSERT(len > 0 && line[len - 1] == '\n');
	CU_ASSERT_PTR_NULL(memchr(line, '\n', len - 1));
	cJSON *o = cJSON_Parse(line);
	CU_ASSERT_FATAL(o != NULL);
	CU_ASSERT(cJSON_IsObject(o));
	size_t i = 0;
	for (cJSON *c = o->child; c; c = c->next, i++) {
		CU_ASSERT_FATAL(i < N_FIELDS);
		CU_ASSERT_STRING_EQUAL(c->string, fields[i]);
	}
	CU_ASSERT_EQUAL(i, N_FIELDS);
	return o;
}

static double num(cJSON *o, const char *k)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	CU_ASSERT_FATAL(cJSON_IsNumber(v));
	return v->valuedouble;
}

static const char *str(cJSON *o, const char *k)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	CU_ASSERT_FATAL(cJSON_IsString(v));
	return v->valuestring;
}

static int is_null(cJSON *o, const char *k)
{
	return cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, k));
}

static void test_every_action(void)
{
	static const char *const names[] = {"applied", "dry_run", "held", "pinned",
					    "frozen",  "ejected", "stale", "probing"};
	struct wd_measurement m = {true, 0.123, true, 0.01, true, 41.5, WD_DATA_OK};
	for (int a = WD_ACT_APPLIED; a <= WD_ACT_PROBING; a++) {
		struct wd_decision d = {.action = (enum wd_action)a, .cost = 0.135, .error = 0.08,
					.old_weight = 50, .new_weight = 55};
		snprintf(d.reason, sizeof(d.reason), "because %d", a);
		struct audit_record r = {1795726800000, 12, "medical-imaging", "server1:8080", &m, &d};
		char *line = audit_format(&r);
		CU_ASSERT_FATAL(line != NULL);
		cJSON *o = parse_line(line);
		CU_ASSERT_STRING_EQUAL(str(o, "ts"), "2026-11-26T21:00:00.000Z");
		CU_ASSERT_EQUAL(num(o, "tick"), 12);
		CU_ASSERT_STRING_EQUAL(str(o, "service"), "medical-imaging");
		CU_ASSERT_STRING_EQUAL(str(o, "backend"), "server1:8080");
		CU_ASSERT_EQUAL(num(o, "latency"), 0.123);
		CU_ASSERT_EQUAL(num(o, "error_ratio"), 0.01);
		CU_ASSERT_EQUAL(num(o, "rate"), 41.5);
		CU_ASSERT_EQUAL(num(o, "cost"), 0.135);
		CU_ASSERT_EQUAL(num(o, "error"), 0.08);
		CU_ASSERT_EQUAL(num(o, "old"), 50);
		CU_ASSERT_EQUAL(num(o, "new"), 55);
		CU_ASSERT_STRING_EQUAL(str(o, "action"), names[a]);
		char want[32];
		snprintf(want, sizeof(want), "because %d", a);
		CU_ASSERT_STRING_EQUAL(str(o, "reason"), want);
		cJSON_Delete(o);
		free(line);
	}
}

static void test_unknown_is_null(void)
{
	struct wd_measurement m = {.has_latency = false, .latency_s = 7, .has_error = false,
				   .has_rate = true, .rate = INFINITY};
	struct wd_decision d = {.action = WD_ACT_HELD, .cost = NAN, .error = NAN,
				.old_weight = 1, .new_weight = 1};
	struct audit_record r = {1795726800123, 1, "s", "b", &m, &d};
	char *line = audit_format(&r);
	cJSON *o = parse_line(line);
	CU_ASSERT_STRING_EQUAL(str(o, "ts"), "2026-11-26T21:00:00.123Z");
	CU_ASSERT(is_null(o, "latency"));
	CU_ASSERT(is_null(o, "error_ratio"));
	CU_ASSERT(is_null(o, "rate")); /* non-finite */
	CU_ASSERT(is_null(o, "cost"));
	CU_ASSERT(is_null(o, "error"));
	CU_ASSERT_STRING_EQUAL(str(o, "reason"), "");
	cJSON_Delete(o);
	free(line);
	/* No measurement at all. */
	r.m = NULL;
	line = audit_format(&r);
	o = parse_line(line);
	CU_ASSERT(is_null(o, "latency") && is_null(o, "rate"));
	cJSON_Delete(o);
	free(line);
}

static void test_strings_escaped(void)
{
	struct wd_decision d = {.action = WD_ACT_EJECTED, .cost = 1, .error = -1};
	snprintf(d.reason, sizeof(d.reason), "error ratio \"0.9\" >= 0.5\n\\ \t\x01");
	struct audit_record r = {0, 3, "svc\"x", "back\\end", NULL, &d};
	char *line = audit_format(&r);
	cJSON *o = parse_line(line);
	CU_ASSERT_STRING_EQUAL(str(o, "reason"), d.reason);
	CU_ASSERT_STRING_EQUAL(str(o, "service"), "svc\"x");
	CU_ASSERT_STRING_EQUAL(str(o, "backend"), "back\\end");
	CU_ASSERT_STRING_EQUAL(str(o, "ts"), "1970-01-01T00:00:00.000Z");
	cJSON_Delete(o);
	free(line);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n = getdelim(&buf, &cap, '\0', f);
	fclose(f);
	if (n < 0) {
		free(buf);
		return strdup("");
	}
	return buf;
}

static size_t count_lines(const char *text)
{
	size_t n = 0;
	for (; *text; text++)
		n += *text == '\n';
	return n;
}

static void write_n(struct audit *a, int n, const char *svc)
{
	struct wd_decision d = {.action = WD_ACT_APPLIED, .cost = 1, .error = 0};
	memset(d.reason, 'x', sizeof(d.reason) - 1);
	d.reason[sizeof(d.reason) - 1] = '\0';
	char err[256];
	for (int i = 0; i < n; i++) {
		struct audit_record r = {1000, (uint64_t)i, svc, "b", NULL, &d};
		CU_ASSERT(audit_write(a, &r, err, sizeof(err)) == 0);
	}
}

static void test_file_append_and_rotate(void)
{
	char dir[] = "/tmp/weightd-audit-XXXXXX";
	CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
	char path[256], rotated[256], err[256];
	snprintf(path, sizeof(path), "%s/audit.log", dir);
	snprintf(rotated, sizeof(rotated), "%s/audit.log.1", dir);
	FILE *f = fopen(path, "w");
	fputs("{\"earlier\":true}\n", f);
	fclose(f);

	struct audit *a = audit_open(path, err, sizeof(err));
	CU_ASSERT_FATAL(a != NULL);
	CU_ASSERT_STRING_EQUAL(audit_path(a), path);
	write_n(a, 2, "s");
	char *text = slurp(path);
	CU_ASSERT_EQUAL(count_lines(text), 3);
	CU_ASSERT(strncmp(text, "{\"earlier\":true}\n", 17) == 0); /* appended, not truncated */
	free(text);

	/* Rotation: rename, reopen, the next records go to a fresh file. */
	CU_ASSERT_FATAL(rename(path, rotated) == 0);
	CU_ASSERT(audit_reopen(a, err, sizeof(err)) == 0);
	write_n(a, 1, "s");
	text = slurp(path);
	CU_ASSERT_EQUAL(count_lines(text), 1);
	free(text);
	text = slurp(rotated);
	CU_ASSERT_EQUAL(count_lines(text), 3);
	free(text);

	/* A reopen that fails keeps the old file in use. */
	char gone[300];
	snprintf(gone, sizeof(gone), "%s.gone", dir);
	CU_ASSERT_FATAL(rename(dir, gone) == 0);
	CU_ASSERT(audit_reopen(a, err, sizeof(err)) == -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, path));
	write_n(a, 1, "s");
	char moved[400];
	snprintf(moved, sizeof(moved), "%s/audit.log", gone);
	text = slurp(moved);
	CU_ASSERT_EQUAL(count_lines(text), 2);
	free(text);
	audit_close(a);

	/* Opening in a missing directory fails with the path in the message. */
	CU_ASSERT_PTR_NULL(audit_open(path, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, path));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "No such file"));

	unlink(moved);
	snprintf(moved, sizeof(moved), "%s/audit.log.1", gone);
	unlink(moved);
	rmdir(gone);
}

/* Four writers, each with its own open file (as separate processes would
 * have), append 300 long records each to one file at once: every line must
 * still parse (O_APPEND plus one write per line). */
struct writer {
	const char *path;
	const char *svc;
	bool ok;
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	char err[256];
	struct audit *a = audit_open(w->path, err, sizeof(err));
	if (!a)
		return NULL;
	struct wd_decision d = {.action = WD_ACT_APPLIED, .cost = 1, .error = 0};
	memset(d.reason, 'x', sizeof(d.reason) - 1);
	w->ok = true;
	for (int i = 0; i < 300; i++) {
		struct audit_record r = {1000, (uint64_t)i, w->svc, "b", NULL, &d};
		if (audit_write(a, &r, err, sizeof(err)) < 0)
			w->ok = false;
	}
	audit_close(a);
	return NULL;
}

static void test_concurrent_writers(void)
{
	char *path = tu_write_temp("");
	CU_ASSERT_FATAL(path != NULL);
	pthread_t th[4];
	struct writer w[4];
	for (int i = 0; i < 4; i++) {
		w[i] = (struct writer){path, i % 2 ? "odd" : "even", 0};
		CU_ASSERT_FATAL(pthread_create(&th[i], NULL, writer_main, &w[i]) == 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		CU_ASSERT(w[i].ok);
	}
	char *text = slurp(path);
	CU_ASSERT_EQUAL(count_lines(text), 1200);
	size_t bad = 0;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		cJSON *o = cJSON_Parse(line);
		bad += o == NULL || cJSON_GetArraySize(o) != (int)N_FIELDS;
		cJSON_Delete(o);
	}
	CU_ASSERT_EQUAL(bad, 0);
	free(text);
	unlink(path);
	free(path);
}

static void test_table(void)
{
	struct wd_measurement m[] = {
		{true, 0.1234, true, 0.015, true, 41.5, WD_DATA_OK},
		{false, 0, false, 0, false, 0, WD_DATA_NO_SERIES},
		{true, 2.5, true, 0.75, true, 1234.56, WD_DATA_OK},
	};
	struct wd_decision d[] = {
		{.action = WD_ACT_DRY_RUN, .old_weight = 50, .new_weight = 55},
		{.action = WD_ACT_STALE, .reason = "no data for 4 ticks", .old_weight = 50, .new_weight = 45},
		{.action = WD_ACT_EJECTED, .reason = "error ratio 0.75 >= 0.5", .old_weight = 10, .new_weight = 1},
	};
	struct audit_record r[] = {
		{0, 1, "medical-imaging", "server1:8080", &m[0], &d[0]},
		{0, 1, "medical-imaging", "server2:8080", &m[1], &d[1]},
		{0, 1, "weighted-medical-imaging", "medical-imaging-v2@file", &m[2], &d[2]},
	};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	audit_print_table(f, r, 3);
	fclose(f);
	fprintf(stderr, "\n%s", buf);
	char *lines[4];
	size_t n = 0;
	for (char *l = strtok(buf, "\n"); l && n < 4; l = strtok(NULL, "\n"))
		lines[n++] = l;
	CU_ASSERT_FATAL(n == 4);
	CU_ASSERT(strncmp(lines[0], "SERVICE ", 8) == 0);
	/* Columns line up: right-aligned numbers end where their title ends,
	 * left-aligned text starts where its title starts. */
	size_t act = (size_t)(strstr(lines[0], "ACTION") - lines[0]);
	size_t new_end = (size_t)(strstr(lines[0], "NEW") - lines[0]) + 3;
	CU_ASSERT(strcmp(lines[1] + act, "dry_run") == 0); /* no trailing blanks */
	CU_ASSERT(strncmp(lines[2] + act, "stale ", 6) == 0);
	CU_ASSERT(strncmp(lines[3] + act, "ejected ", 8) == 0);
	CU_ASSERT(strncmp(lines[1] + new_end - 2, "55", 2) == 0);
	CU_ASSERT(strncmp(lines[2] + new_end - 2, "45", 2) == 0);
	CU_ASSERT(strncmp(lines[3] + new_end - 2, " 1", 2) == 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(lines[1], "123.4ms"));
	CU_ASSERT_PTR_NOT_NULL(strstr(lines[1], "1.50%"));
	CU_ASSERT_PTR_NOT_NULL(strstr(lines[1], "41.5/s"));
	CU_ASSERT_PTR_NOT_NULL(strstr(lines[3], "2.500s"));
	CU_ASSERT_PTR_NOT_NULL(strstr(lines[3], "error ratio 0.75 >= 0.5"));
	/* Unknown values are shown as "-", right-aligned under their titles. */
	size_t lat_end = (size_t)(strstr(lines[0], "LATENCY") - lines[0]) + 7;
	CU_ASSERT_EQUAL(lines[2][lat_end - 1], '-');
	free(buf);
}

static const struct tu_test audit_tests[] = {
	{"every field, for each action", test_every_action},
	{"unknown values are null", test_unknown_is_null},
	{"strings are escaped", test_strings_escaped},
	{"append, rotate, failed reopen", test_file_append_and_rotate},
	{"concurrent writers never interleave", test_concurrent_writers},
	{"dry-run table is aligned", test_table},
	{NULL, NULL},
};

const struct tu_suite tu_suites[] = {
	{"audit", NULL, NULL, audit_tests},
	{NULL, NULL, NULL, NULL},
};
