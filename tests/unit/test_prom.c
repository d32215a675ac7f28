/* test_prom: the Prometheus response parser on answers recorded from a real
 * Prometheus 2.42 (tests/fixtures/prom/) and hand-made broken ones: vector,
 * scalar, empty, NaN/Inf, error status, warnings, wrong shapes, truncated
 * JSON, duplicate series; plus a randomized property test (every truncation
 * or byte mutation of a valid answer parses or fails with one clean line). */
#include <math.h>
#include <time.h>

#include "prom.h"
#include "testutil.h"

static char *load(const char *name, size_t *len)
{
	const char *top = getenv("top_srcdir");
	char path[1024];
	snprintf(path, sizeof(path), "%s/tests/fixtures/prom/%s", top ? top : ".", name);
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "cannot open fixture %s\n", path);
		return NULL;
	}
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *b = malloc((size_t)n + 1);
	*len = fread(b, 1, (size_t)n, f);
	b[*len] = '\0';
	fclose(f);
	return b;
}

/* Parses a fixture with label "instance"; returns the parser's status. */
static int parse_fixture(const char *name, struct prom_result *r)
{
	size_t len = 0;
	char *b = load(name, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	int rc = prom_parse_response(b, len, "instance", r);
	free(b);
	return rc;
}

static int one_line(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20)
			return 0;
	return 1;
}

static void test_vector(void)
{
	struct prom_result r = {0};
	CU_ASSERT_EQUAL(parse_fixture("vector.json", &r), 0);
	CU_ASSERT_TRUE(r.ok);
	CU_ASSERT_FALSE(r.scalar);
	CU_ASSERT_PTR_NULL(r.warnings);
	CU_ASSERT_EQUAL_FATAL(r.n_samples, 2);
	CU_ASSERT_STRING_EQUAL(r.samples[0].label, "127.0.0.1:37711");
	CU_ASSERT_DOUBLE_EQUAL(r.samples[0].value, 0.2425, 1e-12);
	CU_ASSERT_STRING_EQUAL(r.samples[1].label, "127.0.0.1:60595");
	CU_ASSERT_DOUBLE_EQUAL(r.samples[1].value, 0.0475, 1e-12);
	prom_result_clear(&r);
	CU_ASSERT_PTR_NULL(r.samples);
	CU_ASSERT_EQUAL(r.n_samples, 0);
}

static void test_scalar(void)
{
	struct prom_result r = {0};
	CU_ASSERT_EQUAL(parse_fixture("scalar.json", &r), 0);
	CU_ASSERT_TRUE(r.ok);
	CU_ASSERT_TRUE(r.scalar);
	CU_ASSERT_EQUAL_FATAL(r.n_samples, 1);
	CU_ASSERT_STRING_EQUAL(r.samples[0].label, "");
	CU_ASSERT_DOUBLE_EQUAL(r.samples[0].value, 2.0, 0);
	prom_result_clear(&r);
}

static void test_empty(void)
{
	struct prom_result r = {0};
	CU_ASSERT_EQUAL(parse_fixture("empty.json", &r), 0);
	CU_ASSERT_TRUE(r.ok);
	CU_ASSERT_EQUAL(r.n_samples, 0);
	prom_result_clear(&r);
}

static void test_nan_inf(void)
{
	struct prom_result r = {0};
	CU_ASSERT_EQUAL(parse_fixture("nan_inf.json", &r), 0);
	CU_ASSERT_EQUAL_FATAL(r.n_samples, 5);
	CU_ASSERT_TRUE(isnan(r.samples[0].value));
	CU_ASSERT_TRUE(isinf(r.samples[1].value) && r.samples[1].value > 0);
	CU_ASSERT_TRUE(isinf(r.samples[2].value) && r.samples[2].value < 0);
	CU_ASSERT_DOUBLE_EQUAL(r.samples[3].value, -0.5, 0);
	CU_ASSERT_DOUBLE_EQUAL(r.samples[4].value, 0.001, 1e-15);
	prom_result_clear(&r);
}

static void test_error_status(void)
{
	struct prom_result r = {0};
	CU_ASSERT_EQUAL(parse_fixture("error_bad_data.json", &r), -1);
	CU_ASSERT_FALSE(r.ok);
	CU_ASSERT_STRING_EQUAL(r.err, "Prometheus error (bad_data): invalid parameter \"query\": "
				      "1:14: parse error: missing unit character in duration");
	prom_result_clear(&r);

	CU_ASSERT_EQUAL(parse_fixture("error_execution.json", &r), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "Prometheus error (execution): found duplicate series"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "many-to-many matching not allowed"));
	CU_ASSERT_EQUAL(r.n_samples, 0);
	prom_result_clear(&r);
}

static void test_warnings(void)
{
	struct prom_result r = {0};
	CU_ASSERT_EQUAL(parse_fixture("warnings.json", &r), 0);
	CU_ASSERT_TRUE(r.ok);
	CU_ASSERT_EQUAL(r.n_samples, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r.warnings);
	CU_ASSERT_STRING_EQUAL(r.warnings, "remote read: partial result from store thanos-store-0; "
					   "PromQL info: metric might not be a counter");
	prom_result_clear(&r);
	CU_ASSERT_PTR_NULL(r.warnings);

	/* Warnings survive a failed query, beside the error. */
	CU_ASSERT_EQUAL(parse_fixture("error_timeout_warnings.json", &r), -1);
	CU_ASSERT_STRING_EQUAL(r.err, "Prometheus error (timeout): query timed out in expression evaluation");
	CU_ASSERT_PTR_NOT_NULL_FATAL(r.warnings);
	CU_ASSERT_STRING_EQUAL(r.warnings, "partial response");
	prom_result_clear(&r);
}

static void test_not_instant_vector(void)
{
	struct prom_result r = {0};
	CU_ASSERT_EQUAL(parse_fixture("matrix.json", &r), -1);
	CU_ASSERT_STRING_EQUAL(r.err, "result is a matrix: use an instant vector expression");
	CU_ASSERT_EQUAL(r.n_samples, 0);
	prom_result_clear(&r);
	CU_ASSERT_EQUAL(parse_fixture("string.json", &r), -1);
	CU_ASSERT_STRING_EQUAL(r.err, "result is a string: use an instant vector expression");
	prom_result_clear(&r);
}

static void test_wrong_shapes(void)
{
	static const struct {
		const char *file, *err;
	} cases[] = {
		{"shape_no_data.json", "response has no \"data\" with \"resultType\" and \"result\""},
		{"shape_result_not_array.json", "\"data.result\" of a vector is not an array"},
		{"shape_value_types.json", "series 0: is not a [timestamp, \"value\"] pair"},
		{"shape_value_short.json", "series 0: is not a [timestamp, \"value\"] pair"},
		{"shape_no_metric.json", "series 0 of the vector has no \"metric\" object"},
		{"shape_value_not_number.json", "series 0: value \"fast\" is not a number"},
		{"shape_native_histogram.json",
		 "series 0 has no \"value\" (a native histogram: wrap it in histogram_quantile())"},
		{"shape_not_object.json", "not a Prometheus API response (no \"status\")"},
		{"shape_unknown_status.json", "unknown status \"partial\""},
		{"shape_scalar_short.json", "scalar result is not a [timestamp, \"value\"] pair"},
		{"html_502.html", "invalid JSON at byte 0: \"<html><head><title>502 Bad Gateway</title>"
				  "</head><body><center><h1>502 Bad Gateway</h1></center><hr><center>"
				  "nginx</cente...\""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct prom_result r = {0};
		CU_ASSERT_EQUAL(parse_fixture(cases[i].file, &r), -1);
		CU_ASSERT_FALSE(r.ok);
		CU_ASSERT_EQUAL(r.n_samples, 0);
		CU_ASSERT_PTR_NULL(r.samples);
		if (strcmp(r.err, cases[i].err) != 0)
			fprintf(stderr, "\n%s: got  \"%s\"\n want \"%s\"\n", cases[i].file, r.err, cases[i].err);
		CU_ASSERT_STRING_EQUAL(r.err, cases[i].err);
		prom_result_clear(&r);
	}
}

static void test_truncated(void)
{
	struct prom_result r = {0};
	CU_ASSERT_EQUAL(parse_fixture("truncated.json", &r), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "truncated JSON: the response ends after 184 bytes"));
	CU_ASSERT_EQUAL(r.n_samples, 0);
	prom_result_clear(&r);

	CU_ASSERT_EQUAL(prom_parse_response("", 0, "instance", &r), -1);
	CU_ASSERT_STRING_EQUAL(r.err, "empty response body");
	/* The length is honoured: a valid document cut short is truncated. */
	const char *doc = "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[]}}";
	CU_ASSERT_EQUAL(prom_parse_response(doc, strlen(doc) - 1, "instance", &r), -1);
	CU_ASSERT_EQUAL(prom_parse_response(doc, strlen(doc), "instance", &r), 0);
	prom_result_clear(&r);
}

static void test_duplicates_and_missing_label(void)
{
	struct prom_result r = {0};
	/* rate() without "sum by": two series (code 200 and 500) per instance. */
	CU_ASSERT_EQUAL(parse_fixture("duplicate.json", &r), 0);
	CU_ASSERT_EQUAL_FATAL(r.n_samples, 4);
	size_t same = 0;
	for (size_t i = 0; i < r.n_samples; i++)
		same += strcmp(r.samples[i].label, "127.0.0.1:37711") == 0;
	CU_ASSERT_EQUAL(same, 2);
	prom_result_clear(&r);

	CU_ASSERT_EQUAL(parse_fixture("missing_label.json", &r), 0);
	CU_ASSERT_EQUAL_FATAL(r.n_samples, 2);
	CU_ASSERT_STRING_EQUAL(r.samples[0].label, "");
	CU_ASSERT_STRING_EQUAL(r.samples[1].label, "a:1");
	prom_result_clear(&r);

	/* Another label picks other values; a reused result is cleared first. */
	CU_ASSERT_EQUAL(parse_fixture("duplicate.json", &r), 0);
	size_t len;
	char *b = load("duplicate.json", &len);
	CU_ASSERT_EQUAL(prom_parse_response(b, len, "code", &r), 0);
	CU_ASSERT_STRING_EQUAL(r.samples[0].label, "200");
	CU_ASSERT_STRING_EQUAL(r.samples[2].label, "500");
	free(b);
	prom_result_clear(&r);
}

/* Every prefix of a valid answer, and random byte mutations of it, either
 * parse or fail with a non-empty one-line error and no samples. */
static void test_random_mutations(void)
{
	srand((unsigned)tu_seed());
	size_t len;
	char *orig = load("nan_inf.json", &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(orig);
	struct prom_result r = {0};
	for (size_t cut = 0; cut < len; cut++) {
		CU_ASSERT_EQUAL(prom_parse_response(orig, cut, "instance", &r), -1);
		CU_ASSERT(r.err[0] && one_line(r.err) && r.n_samples == 0);
	}
	char *buf = malloc(len);
	static const char junk[] = "{}[]\",:0123456789-+.eNaInf\n\x01\xff tsx";
	for (int iter = 0; iter < 5000; iter++) {
		memcpy(buf, orig, len);
		int flips = 1 + rand() % 4;
		for (int f = 0; f < flips; f++)
			buf[rand() % len] = junk[rand() % (sizeof(junk) - 1)];
		int rc = prom_parse_response(buf, len, "instance", &r);
		if (rc == 0) {
			CU_ASSERT(r.ok && r.err[0] == '\0');
		} else {
			CU_ASSERT(!r.ok && r.err[0] && one_line(r.err) && r.n_samples == 0);
		}
		prom_result_clear(&r);
	}
	free(buf);
	free(orig);
}

static const struct tu_test prom_tests[] = {
	{"vector", test_vector},
	{"scalar", test_scalar},
	{"empty", test_empty},
	{"NaN and Inf", test_nan_inf},
	{"error status", test_error_status},
	{"warnings", test_warnings},
	{"matrix and string", test_not_instant_vector},
	{"wrong shapes", test_wrong_shapes},
	{"truncated", test_truncated},
	{"duplicates and missing label", test_duplicates_and_missing_label},
	{"random mutations", test_random_mutations},
	{NULL, NULL},
};

const struct tu_suite tu_suites[] = {
	{"prom_parse", NULL, NULL, prom_tests},
	{NULL, NULL, NULL, NULL},
};
