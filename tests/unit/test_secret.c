/* test_secret: the masking contract (no SECRET_FRAGMENT bytes of a secret in
 * what comes out, wherever the text is cut) on fixed cases, and a randomized
 * test through prom_read_answer: secrets of 1-64 bytes echoed raw and in
 * base64 at every offset around the end of the 512-byte message, on the
 * Prometheus error, not-JSON and HTTP error paths, then through the log
 * formatter. The seed comes from tu_seed(). */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <time.h>

#include "log.h"
#include "prom.h"
#include "secret.h"
#include "testutil.h"

/* Any SECRET_FRAGMENT-byte part of s (the whole s when shorter, if it is
 * long enough to be masked) in text: the property under test, written
 * independently of secret.c. */
static int has_fragment(const char *text, const char *s)
{
	size_t sl = strlen(s), w = sl < SECRET_FRAGMENT ? sl : SECRET_FRAGMENT;
	if (sl < SECRET_MIN)
		return 0;
	for (size_t j = 0; j + w <= sl; j++)
		if (memmem(text, strlen(text), s + j, w))
			return 1;
	return 0;
}

static void test_fixed(void)
{
	struct secret_set set = {0};
	secret_set_add(&set, "hunter22");
	secret_set_add(&set, "abc"); /* too short: ignored */
	secret_set_add(&set, NULL);
	CU_ASSERT_EQUAL(set.n, 1);
	char out[64];
	CU_ASSERT(secret_mask(&set, "pw=hunter22 ok", 100, out, sizeof(out)));
	CU_ASSERT_STRING_EQUAL(out, "pw=<secret> ok");
	/* a fragment at either end, and one cut by whoever sent it */
	CU_ASSERT(secret_mask(&set, "nter2 and hunte", 100, out, sizeof(out)));
	CU_ASSERT_STRING_EQUAL(out, "<secret> and <secret>");
	/* two overlapping fragments make one mark */
	secret_mask(&set, "xhunter22hunter22y", 100, out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, "x<secret>y");
	/* 4 bytes of it are not the secret */
	CU_ASSERT_FALSE(secret_mask(&set, "hunt er22", 100, out, sizeof(out)));
	CU_ASSERT_STRING_EQUAL(out, "hunt er22");
	/* the cut comes after masking: the mark is cut, never the secret */
	secret_mask(&set, "0123456789hunter22", 100, out, 14);
	CU_ASSERT_STRING_EQUAL(out, "0123456789<se");
	/* inlen bounds the input; no set masks nothing */
	secret_mask(&set, "hunter22", 4, out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, "hunt");
	secret_mask(NULL, "hunter22", 100, out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, "hunter22");
	/* a secret that the mark completes: the second mark */
	struct secret_set odd = {0};
	secret_set_add(&odd, "t>abc");
	secret_set_add(&odd, "zzzzz");
	secret_mask(&odd, "zzzzzabc", 100, out, sizeof(out));
	CU_ASSERT_FALSE(has_fragment(out, "t>abc"));
	CU_ASSERT_STRING_EQUAL(out, "<***>abc");
	/* a token ending in the first mark's word gets the second */
	struct secret_set tok = {0};
	secret_set_add(&tok, "tok-3f9a0c7e-secret");
	secret_mask(&tok, "Bearer tok-3f9a0c7e-secret", 100, out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, "Bearer <***>");
}

static uint64_t rng;
static uint32_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

static void b64(const char *s, char *out)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(s), o = 0;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned char)s[i] << 16 | (i + 1 < n ? (unsigned char)s[i + 1] << 8 : 0) |
			     (i + 2 < n ? (unsigned char)s[i + 2] : 0);
		out[o++] = tab[v >> 18 & 63];
		out[o++] = tab[v >> 12 & 63];
		out[o++] = i + 1 < n ? tab[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? tab[v & 63] : '=';
	}
	out[o] = '\0';
}

/* A log line carrying msg, decoded back: the check sees what a reader sees. */
static int log_leaks(FILE *f, const char *msg, const struct secret_set *set)
{
	rewind(f);
	if (ftruncate(fileno(f), 0) < 0)
		return 1;
	log_setup(WD_LOG_DEBUG, WD_LOG_JSON);
	log_set_stream(f);
	log_error("Prometheus query failed", "service", "svc", "error", msg);
	log_set_stream(NULL);
	rewind(f);
	char line[8192] = "";
	size_t n = fread(line, 1, sizeof(line) - 1, f);
	line[n] = '\0';
	cJSON *j = cJSON_Parse(line);
	const cJSON *e = cJSON_GetObjectItem(j, "error");
	int bad = !cJSON_IsString(e);
	for (size_t k = 0; !bad && k < set->n; k++)
		bad = has_fragment(e->valuestring, set->s[k]);
	cJSON_Delete(j);
	return bad;
}

/* One answer echoing echo three times after off bytes, on one of the three
 * paths: a Prometheus error (0), a body that is not JSON (1), an HTTP error
 * with a text body (2). True when its error or log line shows a fragment. */
static int echo_leaks(const struct secret_set *set, const char *echo, size_t off, int path,
		      FILE *logf, char *err)
{
	char text[1200], body[1600];
	long code = 200;
	memset(text, 'x', off);
	snprintf(text + off, sizeof(text) - off, "%s %s.%s", echo, echo, echo);
	if (path == 0) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "status", "error");
		cJSON_AddStringToObject(o, "errorType", "bad_data");
		cJSON_AddStringToObject(o, "error", text);
		char *s = cJSON_PrintUnformatted(o);
		snprintf(body, sizeof(body), "%s", s);
		free(s);
		cJSON_Delete(o);
		code = 400;
	} else if (path == 1) {
		snprintf(body, sizeof(body), "{\"status\" %s", text);
	} else {
		snprintf(body, sizeof(body), "%s", text);
		code = 401;
	}
	struct prom_result r;
	memset(&r, 0, sizeof(r));
	prom_read_answer(set, "rate(x[1m])", "instance", code, body, strlen(body), &r);
	int bad = r.ok || !r.err[0] || log_leaks(logf, r.err, set);
	for (size_t k = 0; k < set->n; k++)
		bad |= has_fragment(r.err, set->s[k]);
	snprintf(err, sizeof(r.err), "%s", r.err);
	prom_result_clear(&r);
	return bad;
}

static void test_random(void)
{
	rng = tu_seed() * 2654435761u + 1;
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_:.+/= \"\\#";
	unsigned checked = 0, failures = 0;
	FILE *logf = tmpfile();
	CU_ASSERT_PTR_NOT_NULL_FATAL(logf);
	for (size_t sl = 1; sl <= 64; sl++) {
		char secret[65], basic[120], enc[120], pair[80];
		for (size_t i = 0; i < sl; i++)
			secret[i] = alphabet[next_rand() % (sizeof(alphabet) - 1)];
		secret[sl] = '\0';
		snprintf(pair, sizeof(pair), "weightd:%s", secret);
		b64(pair, enc);
		snprintf(basic, sizeof(basic), "%s", enc);
		struct secret_set set = {0};
		secret_set_add(&set, secret);
		secret_set_add(&set, basic);
		for (int path = 0; path < 3; path++) {
			/* Every offset that puts an echo across the cut of its path's
			 * message (512 bytes with the prefix; 120-byte snippets), and
			 * a few random ones before and after. */
			size_t lo = path == 0 ? 400 : 40, hi = path == 0 ? 530 : 130;
			for (size_t k = 0; k < hi - lo + 16; k++) {
				size_t off = k < hi - lo ? lo + k : next_rand() % 600;
				for (int form = 0; form < 2; form++) {
					char err[sizeof(((struct prom_result *)0)->err)];
					int bad = echo_leaks(&set, form ? basic : secret, off, path, logf, err);
					if (bad && failures++ < 5)
						printf("  leak: secret \"%s\", form %d, offset %zu, path %d: %s\n",
						       secret, form, off, path, err);
					CU_ASSERT_FALSE(bad);
					checked++;
				}
			}
		}
	}
	fclose(logf);
	printf("  %u messages checked\n", checked);
}

/* Warnings and label values are upstream text too. */
static void test_warnings_and_labels(void)
{
	struct secret_set set = {0};
	secret_set_add(&set, "S3cr3tT0ken");
	const char body[] = "{\"status\":\"success\",\"warnings\":[\"echo: S3cr3tT0ken\",\"cut: T0ken\"],"
			    "\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{\"instance\":"
			    "\"a S3cr3tT0ken\"},\"value\":[1,\"1\"]}]}}";
	struct prom_result r;
	memset(&r, 0, sizeof(r));
	prom_read_answer(&set, "up", "instance", 200, body, strlen(body), &r);
	CU_ASSERT_EQUAL_FATAL(r.ok, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r.warnings);
	CU_ASSERT_STRING_EQUAL(r.warnings, "echo: <secret>; cut: <secret>");
	CU_ASSERT_STRING_EQUAL(r.samples[0].label, "a <secret>");
	prom_result_clear(&r);
}

static const struct tu_test secret_tests[] = {
	{"masking: fixed cases", test_fixed},
	{"no fragment of a secret in any message (randomized)", test_random},
	{"warnings and label values are masked", test_warnings_and_labels},
	{NULL, NULL},
};

const struct tu_suite tu_suites[] = {
	{"secret", NULL, NULL, secret_tests},
	{NULL, NULL, NULL, NULL},
};
