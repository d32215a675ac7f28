/* test_measure: mapping query results to backends by label (measure_map)
 * and the data rules (measure_fill): NaN, Inf and
 * negative values, duplicate series, missing series, NaN error ratios,
 * min_rate; that a duplicate is warned about once, naming the labels; and
 * that a large service (labels looked up by binary search) maps the same. */
#include <math.h>

#include "log.h"
#include "measure.h"
#include "testutil.h"

static struct wd_backend_cfg backends[] = {
	{.name = "a:1"}, {.name = "b:1"}, {.name = "c:1"},
};
static struct wd_service_cfg svc = {
	.name = "svc",
	.label = "instance",
	.backends = backends,
	.n_backends = 3,
};

/* A result with n samples given as label, value pairs. */
struct sample_in {
	const char *label;
	double value;
};
static struct prom_result result(const struct sample_in *in, size_t n)
{
	struct prom_result r = {.ok = true, .n_samples = n};
	r.samples = calloc(n ? n : 1, sizeof(*r.samples));
	for (size_t i = 0; i < n; i++) {
		r.samples[i].label = strdup(in[i].label);
		r.samples[i].value = in[i].value;
	}
	return r;
}
#define RESULT(...)                                                                           \
	result((const struct sample_in[]){__VA_ARGS__},                                       \
	       sizeof((const struct sample_in[]){__VA_ARGS__}) / sizeof(struct sample_in))

struct calls {
	int n_set[3];
	double v[3];
	char dups[256];
};
static void on_set(void *ctx, size_t b, double v)
{
	struct calls *c = ctx;
	c->n_set[b]++;
	c->v[b] = v;
}
static void on_dup(void *ctx, const char *label)
{
	struct calls *c = ctx;
	strncat(c->dups, label, sizeof(c->dups) - strlen(c->dups) - 2);
	strcat(c->dups, ";");
}

static void test_map(void)
{
	struct prom_result r = RESULT({"b:1", 0.5}, {"zz:9", 7}, {"a:1", 0.25}, {"", 3}, {"a:1", 0.3},
				      {"c:1", 0.1});
	struct calls c = {0};
	measure_map(&r, &svc, on_set, on_dup, &c);
	CU_ASSERT_EQUAL(c.n_set[0], 0); /* a:1 twice: no value, reported */
	CU_ASSERT_EQUAL(c.n_set[1], 1);
	CU_ASSERT_DOUBLE_EQUAL(c.v[1], 0.5, 0);
	CU_ASSERT_EQUAL(c.n_set[2], 1);
	CU_ASSERT_DOUBLE_EQUAL(c.v[2], 0.1, 0);
	CU_ASSERT_STRING_EQUAL(c.dups, "a:1;");
	prom_result_clear(&r);

	/* A failed result maps nothing; a backend without a series gets nothing. */
	struct prom_result f = RESULT({"a:1", 1});
	f.ok = false;
	memset(&c, 0, sizeof(c));
	measure_map(&f, &svc, on_set, on_dup, &c);
	CU_ASSERT_EQUAL(c.n_set[0] + c.n_set[1] + c.n_set[2], 0);
	prom_result_clear(&f);
	struct prom_result e = RESULT({"c:1", 2});
	measure_map(&e, &svc, on_set, NULL, &c);
	CU_ASSERT_EQUAL(c.n_set[0] + c.n_set[1], 0);
	CU_ASSERT_EQUAL(c.n_set[2], 1);
	prom_result_clear(&e);
}

/* 1,000 backends (the sorted lookup, not the linear one), series in reverse
 * order, one unknown label, one duplicate: the same mapping as a small one. */
struct big_calls {
	int n_set[1000];
	double v[1000];
	int n_dup;
	char dup[32];
};
static void on_big_set(void *ctx, size_t b, double v)
{
	struct big_calls *c = ctx;
	c->n_set[b]++;
	c->v[b] = v;
}
static void on_big_dup(void *ctx, const char *label)
{
	struct big_calls *c = ctx;
	c->n_dup++;
	snprintf(c->dup, sizeof(c->dup), "%s", label);
}

static void test_map_large(void)
{
	enum { NB = 1000 };
	static struct wd_backend_cfg bb[NB];
	static char names[NB][16];
	for (int b = 0; b < NB; b++) {
		snprintf(names[b], sizeof(names[b]), "b%d:80", (b * 7919) % NB); /* unsorted */
		bb[b].name = names[b];
	}
	struct wd_service_cfg big = {.name = "big", .label = "instance", .backends = bb, .n_backends = NB};
	struct prom_result r = {.ok = 1, .n_samples = NB + 2};
	r.samples = calloc(NB + 2, sizeof(*r.samples));
	for (int i = 0; i < NB; i++) {
		r.samples[i].label = strdup(names[NB - 1 - i]);
		r.samples[i].value = NB - 1 - i;
	}
	r.samples[NB].label = strdup("b1000:80"); /* names no backend */
	r.samples[NB + 1].label = strdup(names[17]); /* a second series for backend 17 */
	r.samples[NB + 1].value = -1;
	struct big_calls *c = calloc(1, sizeof(*c));
	measure_map(&r, &big, on_big_set, on_big_dup, c);
	int wrong = 0;
	for (int b = 0; b < NB; b++)
		if (b == 17 ? c->n_set[b] != 0 : c->n_set[b] != 1 || c->v[b] != b)
			wrong++;
	CU_ASSERT_EQUAL(wrong, 0);
	CU_ASSERT_EQUAL(c->n_dup, 1);
	CU_ASSERT_STRING_EQUAL(c->dup, names[17]);
	free(c);
	prom_result_clear(&r);
}

static void test_latency_validity(void)
{
	struct wd_measurement m[3];
	struct prom_result lat = RESULT({"a:1", NAN}, {"b:1", INFINITY}, {"c:1", 0.2});
	measure_fill(&svc, &lat, NULL, NULL, m, NULL);
	CU_ASSERT_FALSE(m[0].has_latency);
	CU_ASSERT_FALSE(m[1].has_latency);
	CU_ASSERT_EQUAL(m[0].why, WD_DATA_BAD_LATENCY);
	CU_ASSERT_TRUE(m[2].has_latency);
	CU_ASSERT_DOUBLE_EQUAL(m[2].latency_s, 0.2, 0);
	CU_ASSERT_FALSE(m[2].has_error);
	CU_ASSERT_DOUBLE_EQUAL(m[2].error_ratio, 0, 0);
	CU_ASSERT_FALSE(m[2].has_rate);
	prom_result_clear(&lat);

	lat = RESULT({"a:1", -INFINITY}, {"b:1", -0.001}, {"c:1", 0});
	measure_fill(&svc, &lat, NULL, NULL, m, NULL);
	CU_ASSERT_FALSE(m[0].has_latency);
	CU_ASSERT_FALSE(m[1].has_latency);
	CU_ASSERT_TRUE(m[2].has_latency); /* zero is a valid latency */
	prom_result_clear(&lat);

	/* Missing series: no data; a failed latency result gives nobody data. */
	lat = RESULT({"b:1", 0.1});
	measure_fill(&svc, &lat, NULL, NULL, m, NULL);
	CU_ASSERT_FALSE(m[0].has_latency);
	CU_ASSERT_TRUE(m[1].has_latency);
	CU_ASSERT_FALSE(m[2].has_latency);
	lat.ok = 0;
	measure_fill(&svc, &lat, NULL, NULL, m, NULL);
	CU_ASSERT_FALSE(m[1].has_latency);
	prom_result_clear(&lat);
}

static void test_error_ratio(void)
{
	struct wd_measurement m[3];
	struct prom_result lat = RESULT({"a:1", 0.1}, {"b:1", 0.1}, {"c:1", 0.1});
	/* a: NaN (0/0, no traffic) counts as 0; b: 0.2; c: missing -> 0. */
	struct prom_result err = RESULT({"a:1", NAN}, {"b:1", 0.2});
	measure_fill(&svc, &lat, &err, NULL, m, NULL);
	CU_ASSERT_TRUE(m[0].has_latency);
	CU_ASSERT_FALSE(m[0].has_error);
	CU_ASSERT_DOUBLE_EQUAL(m[0].error_ratio, 0, 0);
	CU_ASSERT_TRUE(m[1].has_latency);
	CU_ASSERT_TRUE(m[1].has_error);
	CU_ASSERT_DOUBLE_EQUAL(m[1].error_ratio, 0.2, 0);
	CU_ASSERT_TRUE(m[2].has_latency);
	CU_ASSERT_FALSE(m[2].has_error);
	CU_ASSERT_DOUBLE_EQUAL(m[2].error_ratio, 0, 0);
	prom_result_clear(&err);

	/* Infinite or negative ratios are invalid: the backend has no data.
	 * A ratio just above 1 (windows off by a scrape) counts as 1. */
	err = RESULT({"a:1", INFINITY}, {"b:1", -0.1}, {"c:1", 1.04});
	measure_fill(&svc, &lat, &err, NULL, m, NULL);
	CU_ASSERT_FALSE(m[0].has_latency);
	CU_ASSERT_FALSE(m[1].has_latency);
	CU_ASSERT_EQUAL(m[1].why, WD_DATA_BAD_ERROR);
	CU_ASSERT_TRUE(m[2].has_latency);
	CU_ASSERT_DOUBLE_EQUAL(m[2].error_ratio, 1.0, 0);
	prom_result_clear(&err);
	prom_result_clear(&lat);
}

static void test_rate(void)
{
	struct wd_measurement m[3];
	struct wd_service_cfg s = svc;
	s.policy.min_rate = 1.0;
	struct prom_result lat = RESULT({"a:1", 0.1}, {"b:1", 0.1}, {"c:1", 0.1});
	/* a: below min_rate -> no data (rate still reported); b: ok; c: no rate
	 * series while min_rate is set -> no requests, no data. */
	struct prom_result rate = RESULT({"a:1", 0.5}, {"b:1", 40});
	measure_fill(&s, &lat, NULL, &rate, m, NULL);
	CU_ASSERT_FALSE(m[0].has_latency);
	CU_ASSERT_TRUE(m[0].has_rate);
	CU_ASSERT_DOUBLE_EQUAL(m[0].rate, 0.5, 0);
	CU_ASSERT_TRUE(m[1].has_latency);
	CU_ASSERT_TRUE(m[1].has_rate);
	CU_ASSERT_DOUBLE_EQUAL(m[1].rate, 40, 0);
	CU_ASSERT_FALSE(m[2].has_latency);
	CU_ASSERT_FALSE(m[2].has_rate);
	CU_ASSERT_EQUAL(m[0].why, WD_DATA_THIN);
	CU_ASSERT_EQUAL(m[1].why, WD_DATA_OK);
	CU_ASSERT_EQUAL(m[2].why, WD_DATA_NO_RATE);
	prom_result_clear(&rate);

	rate = RESULT({"a:1", NAN}, {"b:1", -1}, {"c:1", INFINITY});
	measure_fill(&s, &lat, NULL, &rate, m, NULL);
	CU_ASSERT_FALSE(m[0].has_latency || m[1].has_latency || m[2].has_latency);
	CU_ASSERT_EQUAL(m[1].why, WD_DATA_BAD_RATE);
	prom_result_clear(&rate);

	/* min_rate 0 (the default): any valid rate keeps the data, and a
	 * missing rate series only makes the rate unknown. */
	rate = RESULT({"a:1", 0});
	measure_fill(&svc, &lat, NULL, &rate, m, NULL);
	CU_ASSERT_TRUE(m[0].has_latency);
	CU_ASSERT_TRUE(m[0].has_rate);
	CU_ASSERT_TRUE(m[1].has_latency);
	CU_ASSERT_FALSE(m[1].has_rate);
	prom_result_clear(&rate);
	prom_result_clear(&lat);
}


static void test_duplicates_warned_once(void)
{
	FILE *logf = tmpfile();
	CU_ASSERT_PTR_NOT_NULL_FATAL(logf);
	log_setup(WD_LOG_INFO, WD_LOG_LOGFMT);
	log_set_stream(logf);
	struct wd_measurement m[3];
	struct prom_result lat = RESULT({"a:1", 0.1}, {"a:1", 0.2}, {"b:1", 0.1}, {"c:1", 0.3});
	struct prom_result err = RESULT({"c:1", 0.1}, {"c:1", 0.0});
	struct wd_events ev = {0};
	struct event_seen seen = {0};
	measure_fill(&svc, &lat, &err, NULL, m, &ev);
	CU_ASSERT_FALSE(m[0].has_latency);
	CU_ASSERT_TRUE(m[1].has_latency);
	CU_ASSERT_FALSE(m[2].has_latency); /* duplicate error-ratio series */
	event_log(&ev, &seen); /* as the tick logs measure's findings */
	char *out = tu_drain(logf);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "level=warn msg=\"duplicate series for a backend\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "query=latency_query"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "query=error_query"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "instance \\\"a:1\\\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "sum by (instance)"));
	free(out);

	/* The same cause on the next tick is not warned about again. */
	measure_fill(&svc, &lat, &err, NULL, m, &ev);
	event_log(&ev, &seen);
	out = tu_drain(logf);
	CU_ASSERT_PTR_NULL(strstr(out, "duplicate series"));
	free(out);
	prom_result_clear(&lat);
	prom_result_clear(&err);

	/* A result that names no backend (missing "by (instance)") is warned about. */
	lat = RESULT({"", 0.1});
	measure_fill(&svc, &lat, NULL, NULL, m, &ev);
	CU_ASSERT_FALSE(m[0].has_latency || m[1].has_latency || m[2].has_latency);
	event_log(&ev, &seen);
	out = tu_drain(logf);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "query matches no backend of the service"));
	free(out);
	prom_result_clear(&lat);
	log_set_stream(NULL);
	fclose(logf);
}

static const struct tu_test measure_tests[] = {
	{"map by label", test_map},
	{"map a large service", test_map_large},
	{"latency validity", test_latency_validity},
	{"error ratio", test_error_ratio},
	{"rate and min_rate", test_rate},
	{"duplicates warned once", test_duplicates_warned_once},
	{NULL, NULL},
};

const struct tu_suite tu_suites[] = {
	{"measure", NULL, NULL, measure_tests},
	{NULL, NULL, NULL, NULL},
};
