/* test_log: logfmt and JSON lines — quoting, escaping, levels, and that a
 * value carrying garbage bytes (a broken upstream answer quoted in an error)
 * still gives one valid line of UTF-8 text and valid JSON. */
#include <cJSON.h>

#include "log.h"
#include "testutil.h"

static char *capture(enum wd_log_format fmt, int level, const char *msg, const char *k,
		     const char *v)
{
	FILE *f = tmpfile();
	log_setup(WD_LOG_DEBUG, fmt);
	log_set_stream(f);
	wd_log(level, msg, k, v, (char *)NULL);
	log_set_stream(NULL);
	long n = ftell(f);
	char *buf = calloc(1, (size_t)n + 1);
	rewind(f);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n)
		buf[0] = '\0';
	fclose(f);
	return buf;
}

static void test_logfmt(void)
{
	char *l = capture(WD_LOG_LOGFMT, WD_LOG_INFO, "weightd starting", "config", "/etc/w.conf");
	CU_ASSERT_PTR_NOT_NULL(strstr(l, " level=info msg=\"weightd starting\" config=/etc/w.conf\n"));
	CU_ASSERT_EQUAL(strncmp(l, "ts=", 3), 0);
	free(l);
	l = capture(WD_LOG_LOGFMT, WD_LOG_ERROR, "x", "error", "a \"quoted\"\nline\\");
	CU_ASSERT_PTR_NOT_NULL(strstr(l, "error=\"a \\\"quoted\\\"\\nline\\\\\"\n"));
	CU_ASSERT_PTR_NULL(strchr(l, '\n') + 1 < l + strlen(l) ? strchr(strchr(l, '\n') + 1, '\n') : NULL);
	free(l);
	l = capture(WD_LOG_LOGFMT, WD_LOG_INFO, "x", "empty", "");
	CU_ASSERT_PTR_NOT_NULL(strstr(l, "empty=\"\"\n"));
	free(l);
}

static void test_json(void)
{
	char *l = capture(WD_LOG_JSON, WD_LOG_WARN, "backend ejected", "backend", "s1:80\t\x01");
	cJSON *j = cJSON_Parse(l);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(j, "level")->valuestring, "warn");
	CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(j, "msg")->valuestring, "backend ejected");
	CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(j, "backend")->valuestring, "s1:80\t\x01");
	cJSON_Delete(j);
	free(l);
}

static int valid_utf8(const unsigned char *s)
{
	while (*s) {
		size_t n = *s < 0x80 ? 1 : (*s >> 5) == 6 ? 2 : (*s >> 4) == 14 ? 3 : (*s >> 3) == 30 ? 4 : 0;
		if (!n)
			return 0;
		for (size_t i = 1; i < n; i++)
			if ((s[i] & 0xc0) != 0x80)
				return 0;
		s += n;
	}
	return 1;
}

static void test_garbage_bytes(void)
{
	/* invalid lead, lone continuation, truncated sequence, overlong, 0xff,
	 * then valid two-, three- and four-byte characters that must survive. */
	const char garbage[] = "\xc3\x28 \x80 \xe2\x82 \xc0\xaf \xff ok \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";
	for (int fmt = 0; fmt < 2; fmt++) {
		char *l = capture((enum wd_log_format)fmt, WD_LOG_ERROR, "query failed", "error", garbage);
		CU_ASSERT(valid_utf8((const unsigned char *)l));
		CU_ASSERT_PTR_NOT_NULL(strstr(l, "?( ? ?? ?? ? ok \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
		if (fmt == WD_LOG_JSON) {
			cJSON *j = cJSON_Parse(l);
			CU_ASSERT_PTR_NOT_NULL(j);
			cJSON_Delete(j);
		}
		free(l);
	}
}

/* Values of any length at any offset: the line is one record that ends with
 * a newline, is at most 4 KiB, and (JSON) parses with every field present;
 * a cut value ends with the mark, and no multi-byte character is halved. */
static void test_long_values(void)
{
	static const char *const unit[] = {"a", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\"", "\x01"};
	for (int fmt = 0; fmt < 2; fmt++) {
		for (size_t u = 0; u < sizeof(unit) / sizeof(*unit); u++) {
			for (size_t len = 2100; len < 9000; len += 997) {
				char *v = malloc(len * 4 + 2), *w = malloc(len + 2);
				size_t o = 0;
				v[o++] = 'x'; /* shifts the characters across the cut */
				for (size_t i = 0; i < len; i++) {
					memcpy(v + o, unit[u], strlen(unit[u]));
					o += strlen(unit[u]);
				}
				v[o] = '\0';
				memset(w, 'w', len);
				w[len] = '\0';
				FILE *f = tmpfile();
				log_setup(WD_LOG_DEBUG, (enum wd_log_format)fmt);
				log_set_stream(f);
				wd_log(WD_LOG_ERROR, "query failed", "error", v, "detail", w, "service", "svc",
				       (char *)NULL);
				log_set_stream(NULL);
				long n = ftell(f);
				char *l = calloc(1, (size_t)n + 1);
				rewind(f);
				CU_ASSERT_EQUAL(fread(l, 1, (size_t)n, f), (size_t)n);
				fclose(f);
				CU_ASSERT(n <= 4096);
				CU_ASSERT(n > 0 && l[n - 1] == '\n' && strchr(l, '\n') == l + n - 1);
				CU_ASSERT(valid_utf8((const unsigned char *)l));
				CU_ASSERT_PTR_NOT_NULL(strstr(l, "[...]"));
				if (fmt == WD_LOG_JSON) {
					cJSON *j = cJSON_Parse(l);
					CU_ASSERT_PTR_NOT_NULL(j);
					const cJSON *e = cJSON_GetObjectItem(j, "error"),
						    *svc = cJSON_GetObjectItem(j, "service");
					CU_ASSERT(cJSON_IsString(e) && strlen(e->valuestring) > 300 &&
						  strstr(e->valuestring, "[...]"));
					CU_ASSERT(cJSON_IsString(svc) && strcmp(svc->valuestring, "svc") == 0);
					cJSON_Delete(j);
				} else {
					CU_ASSERT(strlen(l) >= sizeof(" service=svc\n") &&
						  strcmp(l + n - strlen(" service=svc\n"), " service=svc\n") == 0);
				}
				free(l);
				free(v);
				free(w);
			}
		}
	}
}

static void test_levels(void)
{
	FILE *f = tmpfile();
	log_setup(WD_LOG_WARN, WD_LOG_LOGFMT);
	log_set_stream(f);
	log_info("hidden");
	log_debug("hidden too");
	log_warn("shown");
	log_set_stream(NULL);
	CU_ASSERT_EQUAL(ftell(f) > 0, 1);
	rewind(f);
	char buf[512] = "";
	CU_ASSERT_PTR_NOT_NULL(fgets(buf, sizeof(buf), f));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "msg=shown"));
	CU_ASSERT_PTR_NULL(fgets(buf, sizeof(buf), f));
	fclose(f);
	CU_ASSERT_EQUAL(log_level_from_name("debug"), WD_LOG_DEBUG);
	CU_ASSERT_EQUAL(log_level_from_name("loud"), -1);
	CU_ASSERT_STRING_EQUAL(log_level_name(WD_LOG_ERROR), "error");
}

static const struct tu_test log_tests[] = {
	{"logfmt quoting and escaping", test_logfmt},
	{"JSON lines parse", test_json},
	{"garbage bytes stay valid UTF-8 and JSON", test_garbage_bytes},
	{"long values are cut, the record stays whole", test_long_values},
	{"levels", test_levels},
	{NULL, NULL},
};

const struct tu_suite tu_suites[] = {
	{"log", NULL, NULL, log_tests},
	{NULL, NULL, NULL, NULL},
};
