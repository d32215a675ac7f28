/* test_report: the operator's view of a tick: the "weights changed" line's
 * wording, the /status document's shape, and the dry run's unified diff. */
#include <cJSON.h>
#include <math.h>

#include "diff.h"
#include "report.h"
#include "status.h"
#include "testutil.h"

static struct wd_backend_cfg backends[] = {
	{.name = "a", .weight = 50, .pin = -1},
	{.name = "b", .weight = 50, .pin = -1},
	{.name = "c", .weight = 0, .pin = 0},
};

static struct wd_service_cfg service(size_t n)
{
	struct wd_service_cfg s = {.name = "app", .backends = backends, .n_backends = n};
	s.policy.error_penalty = 10;
	return s;
}

static struct wd_decision applied(int old_w, int new_w, double e)
{
	return (struct wd_decision){.action = WD_ACT_APPLIED, .old_weight = old_w,
				    .new_weight = new_w, .error = e, .cost = NAN};
}

static struct wd_measurement lat(double latency_s, double error_ratio)
{
	return (struct wd_measurement){.has_latency = true, .latency_s = latency_s,
				       .has_error = error_ratio > 0, .error_ratio = error_ratio};
}

static void test_change_line(void)
{
	struct wd_service_cfg svc = service(2);
	char w[256], r[256];

	/* b is slower: it drove the move, on latency (a tie goes to the slower). */
	struct wd_measurement m[3] = {lat(0.1, 0), lat(0.21, 0)};
	struct wd_decision d[3] = {applied(50, 62, 0.37), applied(50, 38, -0.37)};
	CU_ASSERT_TRUE(report_change_line(&svc, m, d, NULL, w, sizeof(w), r, sizeof(r)));
	CU_ASSERT_STRING_EQUAL(w, "a=50->62 b=50->38");
	CU_ASSERT_STRING_EQUAL(r, "b latency 1.4x the pool (0.21s)");
	d[0].error = 0.5; /* a is further from the pool than b */
	CU_ASSERT_TRUE(report_change_line(&svc, m, d, NULL, w, sizeof(w), r, sizeof(r)));
	CU_ASSERT_STRING_EQUAL(r, "a latency 0.69x the pool (0.1s)");
	d[1].error = -0.5; /* b is further from the pool than a */
	CU_ASSERT_TRUE(report_change_line(&svc, m, d, NULL, w, sizeof(w), r, sizeof(r)));
	CU_ASSERT_STRING_EQUAL(r, "b latency 1.4x the pool (0.21s)");

	/* Same latency, b fails 30% of its requests: the errors drove it. */
	m[1] = lat(0.1, 0.3);
	CU_ASSERT_TRUE(report_change_line(&svc, m, d, NULL, w, sizeof(w), r, sizeof(r)));
	CU_ASSERT_STRING_EQUAL(r, "b error ratio 0.3 vs pool 0.15");

	/* Nothing measured: the cost against the pool, from the decision. */
	CU_ASSERT_TRUE(report_change_line(&svc, NULL, d, NULL, w, sizeof(w), r, sizeof(r)));
	CU_ASSERT_STRING_EQUAL(r, "b cost 1.6x the pool");

	/* An ejection, and the weight it frees going to a. */
	d[1] = (struct wd_decision){.action = WD_ACT_EJECTED, .old_weight = 50, .new_weight = 1,
				    .error = NAN};
	snprintf(d[1].reason, sizeof(d[1].reason), "error ratio 0.6 >= 0.5");
	d[0] = applied(50, 99, 0);
	CU_ASSERT_TRUE(report_change_line(&svc, m, d, NULL, w, sizeof(w), r, sizeof(r)));
	CU_ASSERT_STRING_EQUAL(w, "a=50->99 b=50->1");
	CU_ASSERT_STRING_EQUAL(r, "b ejected: error ratio 0.6 >= 0.5");
	d[0].error = 0.4; /* a steered against others as well: both told */
	CU_ASSERT_TRUE(report_change_line(&svc, m, d, NULL, w, sizeof(w), r, sizeof(r)));
	CU_ASSERT_STRING_EQUAL(r, "b ejected: error ratio 0.6 >= 0.5; a latency 1x the pool (0.1s)");

	/* Back from the ejection. */
	bool was[3] = {false, true};
	d[0] = applied(99, 80, 0.2);
	d[1] = applied(1, 20, -0.2);
	CU_ASSERT_TRUE(report_change_line(&svc, m, d, was, w, sizeof(w), r, sizeof(r)));
	CU_ASSERT_PTR_NOT_NULL(strstr(r, "b back from ejection; "));

	/* A drain by pin, a stale backend's drift, a hold. */
	struct wd_service_cfg svc3 = service(3);
	struct wd_decision d3[3] = {applied(40, 50, 0), applied(40, 50, 0),
				    {.action = WD_ACT_PINNED, .old_weight = 20, .new_weight = 0}};
	snprintf(d3[2].reason, sizeof(d3[2].reason), "drained by pin = 0");
	d3[0].action = d3[1].action = WD_ACT_HELD;
	snprintf(d3[0].reason, sizeof(d3[0].reason), "no data: no latency series (tick 1 of 3)");
	CU_ASSERT_TRUE(report_change_line(&svc3, NULL, d3, NULL, w, sizeof(w), r, sizeof(r)));
	CU_ASSERT_STRING_EQUAL(w, "a=40->50 b=40->50 c=20->0");
	CU_ASSERT_STRING_EQUAL(r, "c drained by pin = 0");
	d3[2] = (struct wd_decision){.action = WD_ACT_STALE, .old_weight = 10, .new_weight = 20};
	snprintf(d3[2].reason, sizeof(d3[2].reason), "no data for over 3 ticks");
	CU_ASSERT_TRUE(report_change_line(&svc3, NULL, d3, NULL, w, sizeof(w), r, sizeof(r)));
	CU_ASSERT_STRING_EQUAL(r, "c stale: no data for over 3 ticks");
	/* A thin signal's probe explains the move; the others' normalisation
	 * does not add "a latency 1x the pool". */
	d3[2] = (struct wd_decision){.action = WD_ACT_PROBING, .old_weight = 10, .new_weight = 20};
	snprintf(d3[2].reason, sizeof(d3[2].reason), "4 requests in the window: probing back toward weight 25");
	CU_ASSERT_TRUE(report_change_line(&svc3, NULL, d3, NULL, w, sizeof(w), r, sizeof(r)));
	CU_ASSERT_STRING_EQUAL(r, "c probing: 4 requests in the window: probing back toward weight 25");
	d3[2] = (struct wd_decision){.action = WD_ACT_STALE, .old_weight = 10, .new_weight = 20};
	snprintf(d3[2].reason, sizeof(d3[2].reason), "no data for over 3 ticks");
	d3[1].new_weight = 40; /* one that kept its weight shows only that */
	CU_ASSERT_TRUE(report_change_line(&svc3, NULL, d3, NULL, w, sizeof(w), r, sizeof(r)));
	CU_ASSERT_STRING_EQUAL(w, "a=40->50 b=40 c=10->20");
	d3[2].action = WD_ACT_HELD;
	CU_ASSERT_TRUE(report_change_line(&svc3, NULL, d3, NULL, w, sizeof(w), r, sizeof(r)));
	CU_ASSERT_STRING_EQUAL(r, "a held: no data: no latency series (tick 1 of 3)");

	/* No weight moved: no line. */
	d[0] = applied(50, 50, 0.1);
	d[1] = applied(50, 50, -0.1);
	w[0] = r[0] = 'x';
	CU_ASSERT_FALSE(report_change_line(&svc, m, d, NULL, w, sizeof(w), r, sizeof(r)));
	CU_ASSERT_EQUAL(w[0], 'x');

	/* A small buffer truncates, never overflows. */
	d[0] = applied(50, 62, 0.3);
	CU_ASSERT_TRUE(report_change_line(&svc, m, d, NULL, w, 6, r, 8));
	CU_ASSERT_STRING_EQUAL(w, "a=50-");
	CU_ASSERT_EQUAL(strlen(r), 7);
}

static cJSON *parse_status(struct status *st)
{
	char *text = status_render(st);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_EQUAL(text[strlen(text) - 1], '\n');
	cJSON *doc = cJSON_Parse(text);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	free(text);
	return doc;
}

static void test_status(void)
{
	struct status *st = status_new();
	status_set_config(st, "/etc/weightd/weightd.conf", true, true, 0);
	cJSON *doc = parse_status(st);
	CU_ASSERT_TRUE(cJSON_IsTrue(cJSON_GetObjectItem(doc, "dry_run")));
	cJSON *c = cJSON_GetObjectItem(doc, "config");
	CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(c, "path")->valuestring, "/etc/weightd/weightd.conf");
	CU_ASSERT_TRUE(cJSON_IsTrue(cJSON_GetObjectItem(c, "last_reload_successful")));
	CU_ASSERT_TRUE(cJSON_IsNull(cJSON_GetObjectItem(c, "last_reload_time")));
	CU_ASSERT_TRUE(cJSON_IsNull(cJSON_GetObjectItem(doc, "last_tick")));
	CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "services")), 0);
	cJSON_Delete(doc);

	/* A tick: two backends, one measured with errors, one ejected. */
	struct wd_service_cfg svc = service(2);
	struct wd_config cfg = {.services = &svc, .n_services = 1};
	struct wd_backend_state bs[2] = {{.out_weight = 99}, {.out_weight = 1}};
	struct wd_service_state ss = {.b = bs, .n = 2};
	struct wd_measurement m[2] = {lat(0.1, 0), lat(0.2, 0.6)};
	struct measure_service msvc = {.ok = true, .m = m};
	struct measure_tick mt = {.svc = &msvc, .n_svc = 1};
	struct wd_decision d[2] = {applied(50, 99, 0), {.action = WD_ACT_EJECTED}};
	snprintf(d[1].reason, sizeof(d[1].reason), "error ratio 0.6 >= 0.5");
	struct wd_decision *dec[1] = {d};
	struct report_sink sink = {.status = st};
	report_status(&sink, &cfg, &ss, &mt, dec, 7, "ok", "");
	status_set_config(st, "/x.conf", false, false, 1700000000.5);

	doc = parse_status(st);
	CU_ASSERT_TRUE(cJSON_IsFalse(cJSON_GetObjectItem(doc, "dry_run")));
	c = cJSON_GetObjectItem(doc, "config");
	CU_ASSERT_TRUE(cJSON_IsFalse(cJSON_GetObjectItem(c, "last_reload_successful")));
	CU_ASSERT_DOUBLE_EQUAL(cJSON_GetObjectItem(c, "last_reload_time")->valuedouble, 1700000000.5, 1e-6);
	cJSON *t = cJSON_GetObjectItem(doc, "last_tick");
	CU_ASSERT_EQUAL(cJSON_GetObjectItem(t, "number")->valueint, 7);
	CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(t, "result")->valuestring, "ok");
	const char *time = cJSON_GetObjectItem(t, "time")->valuestring;
	CU_ASSERT_EQUAL(strlen(time), strlen("2026-11-29T11:40:00.000Z"));
	CU_ASSERT_EQUAL(time[strlen(time) - 1], 'Z');
	cJSON *s = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "services"), 0);
	CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(s, "name")->valuestring, "app");
	CU_ASSERT_TRUE(cJSON_IsTrue(cJSON_GetObjectItem(s, "measured")));
	CU_ASSERT_TRUE(cJSON_IsFalse(cJSON_GetObjectItem(s, "no_data")));
	cJSON *w = cJSON_GetObjectItem(s, "weights");
	CU_ASSERT_EQUAL(cJSON_GetObjectItem(w, "a")->valueint, 99);
	CU_ASSERT_EQUAL(cJSON_GetObjectItem(w, "b")->valueint, 1);
	cJSON *b = cJSON_GetArrayItem(cJSON_GetObjectItem(s, "backends"), 1);
	CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(b, "name")->valuestring, "b");
	CU_ASSERT_EQUAL(cJSON_GetObjectItem(b, "weight")->valueint, 1);
	CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(b, "action")->valuestring, "ejected");
	CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(b, "reason")->valuestring, "error ratio 0.6 >= 0.5");
	CU_ASSERT_DOUBLE_EQUAL(cJSON_GetObjectItem(b, "latency_s")->valuedouble, 0.2, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(cJSON_GetObjectItem(b, "error_ratio")->valuedouble, 0.6, 1e-12);
	cJSON_Delete(doc);

	/* A service whose queries failed: unknown numbers are null. */
	msvc.ok = false;
	report_status(&sink, &cfg, &ss, &mt, dec, 8, "failed", "Prometheus query failed");
	doc = parse_status(st);
	s = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "services"), 0);
	CU_ASSERT_TRUE(cJSON_IsFalse(cJSON_GetObjectItem(s, "measured")));
	CU_ASSERT_TRUE(cJSON_IsFalse(cJSON_GetObjectItem(s, "no_data")));
	b = cJSON_GetArrayItem(cJSON_GetObjectItem(s, "backends"), 0);
	CU_ASSERT_TRUE(cJSON_IsNull(cJSON_GetObjectItem(b, "latency_s")));
	t = cJSON_GetObjectItem(doc, "last_tick");
	CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(t, "reason")->valuestring, "Prometheus query failed");
	cJSON_Delete(doc);
	status_free(st);
}

static void check_diff(const char *a, const char *b, const char *want)
{
	char *d = diff_unified(a, b, "now", "new");
	CU_ASSERT_STRING_EQUAL(d, want);
	if (strcmp(d, want))
		fprintf(stderr, "\ngot:\n%s\nwant:\n%s\n", d, want);
	free(d);
}

static void test_diff(void)
{
	check_diff("a\nb\n", "a\nb\n", "");
	check_diff("", "x\ny\n", "--- now\n+++ new\n@@ -0,0 +1,2 @@\n+x\n+y\n");
	check_diff("x\n", "", "--- now\n+++ new\n@@ -1 +0,0 @@\n-x\n");
	check_diff("1\n2\n3\n4\n5\n6\n7\n8\n9\n", "1\n2\n3\n4\nfive\n6\n7\n8\n9\n",
		   "--- now\n+++ new\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n");
	/* Two changes more than six lines apart: two hunks. */
	check_diff("1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n", "one\n2\n3\n4\n5\n6\n7\n8\n9\nten\n",
		   "--- now\n+++ new\n@@ -1,4 +1,4 @@\n-1\n+one\n 2\n 3\n 4\n"
		   "@@ -7,4 +7,4 @@\n 7\n 8\n 9\n-10\n+ten\n");
	/* Within six lines: one hunk. */
	check_diff("1\n2\n3\n4\n5\n6\n7\n", "one\n2\n3\n4\n5\n6\nseven\n",
		   "--- now\n+++ new\n@@ -1,7 +1,7 @@\n-1\n+one\n 2\n 3\n 4\n 5\n 6\n-7\n+seven\n");
	/* A last line without a newline. */
	check_diff("a\nb", "a\nb\n",
		   "--- now\n+++ new\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n");
	/* Lines moved: a removal and an insertion around the common ones. */
	check_diff("a\nb\nc\n", "b\nc\na\n", "--- now\n+++ new\n@@ -1,3 +1,3 @@\n-a\n b\n c\n+a\n");
}

/* Applies a unified diff to a, as patch does, strictly: every context and
 * removed line must match. A new string, or NULL when the diff does not
 * apply. */
static char *apply_diff(const char *a, const char *diff)
{
	size_t cap = strlen(a) + strlen(diff) + 1, at = 0;
	char *out = calloc(1, cap);
	const char *src = a, *d = strchr(diff, '\n');
	d = d ? strchr(d + 1, '\n') : NULL; /* past the two headers */
	d = d ? d + 1 : diff + strlen(diff);
	int line = 1; /* the 1-based line src points at */
	while (*d == '@') {
		int start, n_old = 1;
		if (sscanf(d, "@@ -%d,%d", &start, &n_old) < 1)
			goto bad;
		if (n_old == 0)
			start++; /* "-N,0": the hunk goes after line N */
		while (line < start) { /* copy the lines before the hunk */
			const char *nl = strchr(src, '\n');
			size_t len = nl ? (size_t)(nl - src) + 1 : strlen(src);
			if (!len)
				goto bad;
			memcpy(out + at, src, len);
			at += len;
			src += len;
			line++;
		}
		d = strchr(d, '\n') + 1;
		while (*d == ' ' || *d == '-' || *d == '+') {
			const char *nl = strchr(d, '\n');
			size_t len = (size_t)(nl - d); /* the line without its sign */
			bool no_nl = strncmp(nl + 1, "\\ No newline", 12) == 0;
			if (*d != '+') { /* must match src */
				if (strncmp(src, d + 1, len - 1) != 0 || src[len - 1] != (no_nl ? '\0' : '\n'))
					goto bad;
				src += len - (no_nl ? 1 : 0);
				line++;
			}
			if (*d != '-') {
				memcpy(out + at, d + 1, len - 1);
				at += len - 1;
				if (!no_nl)
					out[at++] = '\n';
			}
			d = nl + 1;
			if (no_nl)
				d = strchr(d, '\n') + 1;
		}
	}
	if (*d)
		goto bad;
	memcpy(out + at, src, strlen(src) + 1);
	return out;
bad:
	free(out);
	return NULL;
}

/* Random texts over a small alphabet (many equal lines, the hard case for
 * alignment), edited at random; the diff, applied, gives the edited text,
 * and the diff of a text with itself is empty. WEIGHTD_SEED replays. */
static void test_diff_property(void)
{
	uint64_t seed = tu_seed();
	srand((unsigned)seed);
	for (int round = 0; round < 2000; round++) {
		char a[256] = "", b[256] = "";
		size_t na = (size_t)rand() % 20;
		for (size_t i = 0; i < na; i++) {
			char l[4] = {(char)('a' + rand() % 4), '\n', 0};
			strcat(a, l);
		}
		/* b: a with some lines replaced, dropped or added. */
		const char *p = a;
		while (*p || rand() % 4 == 0) {
			int op = rand() % 6;
			char l[4] = {(char)('a' + rand() % 6), '\n', 0};
			if (op == 0 || !*p) {
				strcat(b, l);
				if (!*p)
					break;
				continue;
			}
			if (op != 1) {
				size_t bl = strlen(b);
				memcpy(b + bl, op == 2 ? l : p, 2);
				b[bl + 2] = '\0';
			}
			p += 2;
		}
		if (rand() % 5 == 0 && a[0])
			a[strlen(a) - 1] = '\0';
		if (rand() % 5 == 0 && b[0])
			b[strlen(b) - 1] = '\0';
		char *d = diff_unified(a, b, "a", "b");
		char *got = apply_diff(a, d);
		CU_ASSERT_PTR_NOT_NULL(got);
		if (!got || strcmp(got, b) != 0) {
			CU_FAIL("the diff does not turn a into b");
			fprintf(stderr, "\nseed %llu round %d\na:\n%s\nb:\n%s\ndiff:\n%s\n",
				(unsigned long long)seed, round, a, b, d);
			free(got);
			free(d);
			return;
		}
		free(got);
		free(d);
		d = diff_unified(b, b, "b", "b");
		CU_ASSERT_STRING_EQUAL(d, "");
		free(d);
	}
}

static const struct tu_test report_tests[] = {
	{"the weights-changed line", test_change_line},
	{"the /status document", test_status},
	{"unified diff", test_diff},
	{"unified diff: applied, it gives the new text", test_diff_property},
	{NULL, NULL},
};

const struct tu_suite tu_suites[] = {
	{"report", NULL, NULL, report_tests},
	{NULL, NULL, NULL, NULL},
};
