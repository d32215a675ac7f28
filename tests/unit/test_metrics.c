/* test_metrics: the exposition text (HELP/TYPE for every family, escaped
 * label values, unknown values left out, removed backends gone, histogram
 * buckets), its validity under `promtool check metrics`, and /healthz's rule. */
#include <math.h>
#include <sys/wait.h>

#include "metrics.h"
#include "testutil.h"

static char *render(struct metrics *m)
{
	char *text = NULL;
	size_t len = 0;
	CU_ASSERT_FATAL(metrics_render(m, &text, &len) == 0);
	CU_ASSERT(strlen(text) == len);
	return text;
}

/* The value of the sample line that starts with series (name plus labels). */
static int sample(const char *text, const char *series, double *v)
{
	size_t sl = strlen(series);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, series, sl) == 0 && p[sl] == ' ') {
			*v = strtod(p + sl + 1, NULL);
			return 1;
		}
	}
	return 0;
}

static double value_of(const char *text, const char *series)
{
	double v = NAN;
	if (!sample(text, series, &v))
		fprintf(stderr, "\nno sample %s\n", series);
	return v;
}

static const char *const families[][2] = {
	{"weightd_backend_weight", "gauge"},
	{"weightd_backend_latency_seconds", "gauge"},
	{"weightd_backend_error_ratio", "gauge"},
	{"weightd_backend_cost", "gauge"},
	{"weightd_pid_error", "gauge"},
	{"weightd_backend_action", "gauge"},
	{"weightd_service_frozen", "gauge"},
	{"weightd_service_no_data", "gauge"},
	{"weightd_service_budget_waiting", "gauge"},
	{"weightd_prometheus_queries_empty_total", "counter"},
	{"weightd_prometheus_series_unmatched_total", "counter"},
	{"weightd_traefik_applied", "gauge"},
	{"weightd_traefik_apply_seconds", "histogram"},
	{"weightd_traefik_api_errors_total", "counter"},
	{"weightd_ticks_total", "counter"},
	{"weightd_tick_duration_seconds", "histogram"},
	{"weightd_prometheus_queries_total", "counter"},
	{"weightd_output_writes_total", "counter"},
	{"weightd_config_reloads_total", "counter"},
	{"weightd_last_write_timestamp_seconds", "gauge"},
	{"weightd_last_success_timestamp_seconds", "gauge"},
	{"weightd_dry_run", "gauge"},
	{"weightd_build_info", "gauge"},
	{"weightd_backend_gain_damping", "gauge"},
	{"weightd_backend_oscillations_total", "counter"},
	{"weightd_config_last_reload_successful", "gauge"},
	{"weightd_config_last_reload_success_timestamp_seconds", "gauge"},
	{"process_cpu_seconds_total", "counter"},
	{"process_resident_memory_bytes", "gauge"},
	{"process_open_fds", "gauge"},
	{"process_start_time_seconds", "gauge"},
};

static void set_two(struct metrics *m, const char *svc2)
{
	struct metrics_backend b[] = {
		{"svc", "a:80", 70, 0.1, 0.02, 0.12, 0.25, WD_ACT_APPLIED, 0.5, 2},
		{"svc", "b:80", 30, NAN, NAN, NAN, NAN, WD_ACT_STALE, 1, 0},
		{svc2, "v1", 100, 0.5, 0, 0.5, 0, WD_ACT_FROZEN, 1, 0},
	};
	struct metrics_service s[] = {{"svc", false, true, 1, false}, {svc2, true, false, -1, true}};
	CU_ASSERT_FATAL(metrics_set_backends(m, b, 3, s, 2) == 0);
}

static void test_families(void)
{
	struct metrics *m = metrics_new("1.2.3", 0);
	char *text = render(m);
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		char want[256];
		snprintf(want, sizeof(want), "# HELP %s ", families[i][0]);
		CU_ASSERT_PTR_NOT_NULL(strstr(text, want));
		snprintf(want, sizeof(want), "# TYPE %s %s\n", families[i][0], families[i][1]);
		CU_ASSERT_PTR_NOT_NULL(strstr(text, want));
	}
	/* Every result label exists from the start, so rate() and alerts work
	 * before the first failure. */
	CU_ASSERT_EQUAL(value_of(text, "weightd_ticks_total{result=\"ok\"}"), 0);
	CU_ASSERT_EQUAL(value_of(text, "weightd_ticks_total{result=\"partial\"}"), 0);
	CU_ASSERT_EQUAL(value_of(text, "weightd_ticks_total{result=\"failed\"}"), 0);
	CU_ASSERT_EQUAL(value_of(text, "weightd_output_writes_total{result=\"skipped\"}"), 0);
	CU_ASSERT_EQUAL(value_of(text, "weightd_config_reloads_total{result=\"failed\"}"), 0);
	CU_ASSERT_EQUAL(value_of(text, "weightd_prometheus_queries_total{result=\"failed\"}"), 0);
	CU_ASSERT_EQUAL(value_of(text, "weightd_build_info{version=\"1.2.3\"}"), 1);
	CU_ASSERT_EQUAL(value_of(text, "weightd_dry_run"), 0);
	CU_ASSERT_EQUAL(value_of(text, "weightd_last_write_timestamp_seconds"), 0);
	CU_ASSERT_PTR_NULL(strstr(text, "weightd_backend_weight{"));
	free(text);
	metrics_free(m);
}

static void test_counters(void)
{
	struct metrics *m = metrics_new("x", 0);
	metrics_set_config(m, 1000, true);
	metrics_tick(m, METRICS_TICK_OK, 0.02, 100, 1700000000.5, NULL);
	metrics_tick(m, METRICS_TICK_PARTIAL, 0.3, 200, 1700000001, "q failed");
	metrics_tick(m, METRICS_TICK_FAILED, 100, 300, 1700000002, "down");
	metrics_queries(m, 5, 2);
	metrics_queries(m, 1, 0);
	metrics_output_write(m, METRICS_WRITE_OK, 1700000003.25);
	metrics_output_write(m, METRICS_WRITE_SKIPPED, 1700000004);
	metrics_output_write(m, METRICS_WRITE_SKIPPED, 1700000004);
	metrics_output_write(m, METRICS_WRITE_FAILED, 1700000005);
	char *t = render(m);
	/* The config loaded at start is in effect. */
	CU_ASSERT_EQUAL(value_of(t, "weightd_config_last_reload_successful"), 1);
	free(t);
	metrics_config_loaded(m, 1699999999);
	metrics_config_reload(m, true, 1700000006);
	metrics_config_reload(m, false, 1700000007);
	metrics_config_reload(m, false, 1700000008);
	t = render(m);
	/* A rejected edit stays visible until a reload succeeds. */
	CU_ASSERT_EQUAL(value_of(t, "weightd_config_last_reload_successful"), 0);
	CU_ASSERT_EQUAL(value_of(t, "weightd_config_last_reload_success_timestamp_seconds"), 1700000006);
	/* The process_* families of every Prometheus client. */
	CU_ASSERT(value_of(t, "process_resident_memory_bytes") > 0);
	CU_ASSERT(value_of(t, "process_open_fds") >= 3);
	CU_ASSERT(value_of(t, "process_max_fds") >= value_of(t, "process_open_fds"));
	CU_ASSERT(value_of(t, "process_start_time_seconds") > 1.5e9);
	CU_ASSERT(value_of(t, "process_cpu_seconds_total") >= 0);
	CU_ASSERT_EQUAL(value_of(t, "weightd_dry_run"), 1);
	CU_ASSERT_EQUAL(value_of(t, "weightd_ticks_total{result=\"ok\"}"), 1);
	CU_ASSERT_EQUAL(value_of(t, "weightd_ticks_total{result=\"partial\"}"), 1);
	CU_ASSERT_EQUAL(value_of(t, "weightd_ticks_total{result=\"failed\"}"), 1);
	CU_ASSERT_EQUAL(value_of(t, "weightd_prometheus_queries_total{result=\"ok\"}"), 6);
	CU_ASSERT_EQUAL(value_of(t, "weightd_prometheus_queries_total{result=\"failed\"}"), 2);
	CU_ASSERT_EQUAL(value_of(t, "weightd_output_writes_total{result=\"ok\"}"), 1);
	CU_ASSERT_EQUAL(value_of(t, "weightd_output_writes_total{result=\"skipped\"}"), 2);
	CU_ASSERT_EQUAL(value_of(t, "weightd_output_writes_total{result=\"failed\"}"), 1);
	CU_ASSERT_EQUAL(value_of(t, "weightd_config_reloads_total{result=\"ok\"}"), 1);
	CU_ASSERT_EQUAL(value_of(t, "weightd_config_reloads_total{result=\"failed\"}"), 2);
	CU_ASSERT_EQUAL(value_of(t, "weightd_last_write_timestamp_seconds"), 1700000003.25);
	CU_ASSERT_EQUAL(value_of(t, "weightd_last_success_timestamp_seconds"), 1700000000.5);
	/* Histogram: cumulative buckets, +Inf equals count, sum adds up. */
	CU_ASSERT_EQUAL(value_of(t, "weightd_tick_duration_seconds_bucket{le=\"0.01\"}"), 0);
	CU_ASSERT_EQUAL(value_of(t, "weightd_tick_duration_seconds_bucket{le=\"0.025\"}"), 1);
	CU_ASSERT_EQUAL(value_of(t, "weightd_tick_duration_seconds_bucket{le=\"0.25\"}"), 1);
	CU_ASSERT_EQUAL(value_of(t, "weightd_tick_duration_seconds_bucket{le=\"0.5\"}"), 2);
	CU_ASSERT_EQUAL(value_of(t, "weightd_tick_duration_seconds_bucket{le=\"30\"}"), 2);
	CU_ASSERT_EQUAL(value_of(t, "weightd_tick_duration_seconds_bucket{le=\"+Inf\"}"), 3);
	CU_ASSERT_EQUAL(value_of(t, "weightd_tick_duration_seconds_count"), 3);
	CU_ASSERT_DOUBLE_EQUAL(value_of(t, "weightd_tick_duration_seconds_sum"), 100.32, 1e-9);
	free(t);
	metrics_config_reload(m, true, 1700000009);
	t = render(m);
	CU_ASSERT_EQUAL(value_of(t, "weightd_config_last_reload_successful"), 1);
	CU_ASSERT_EQUAL(value_of(t, "weightd_config_last_reload_success_timestamp_seconds"), 1700000009);
	free(t);
	metrics_free(m);
}

static void test_backends(void)
{
	struct metrics *m = metrics_new("x", 0);
	set_two(m, "w");
	char *t = render(m);
	CU_ASSERT_EQUAL(value_of(t, "weightd_backend_weight{service=\"svc\",backend=\"a:80\"}"), 70);
	CU_ASSERT_EQUAL(value_of(t, "weightd_backend_weight{service=\"svc\",backend=\"b:80\"}"), 30);
	CU_ASSERT_EQUAL(value_of(t, "weightd_backend_latency_seconds{service=\"svc\",backend=\"a:80\"}"), 0.1);
	CU_ASSERT_EQUAL(value_of(t, "weightd_backend_error_ratio{service=\"svc\",backend=\"a:80\"}"), 0.02);
	CU_ASSERT_EQUAL(value_of(t, "weightd_backend_cost{service=\"svc\",backend=\"a:80\"}"), 0.12);
	CU_ASSERT_EQUAL(value_of(t, "weightd_pid_error{service=\"svc\",backend=\"a:80\"}"), 0.25);
	CU_ASSERT_EQUAL(value_of(t, "weightd_backend_gain_damping{service=\"svc\",backend=\"a:80\"}"), 0.5);
	CU_ASSERT_EQUAL(value_of(t, "weightd_backend_oscillations_total{service=\"svc\",backend=\"a:80\"}"), 2);
	CU_ASSERT_EQUAL(value_of(t, "weightd_backend_oscillations_total{service=\"svc\",backend=\"b:80\"}"), 0);
	/* Unknown values are left out rather than exported as NaN. */
	CU_ASSERT_PTR_NULL(strstr(t, "weightd_backend_latency_seconds{service=\"svc\",backend=\"b:80\"}"));
	CU_ASSERT_PTR_NULL(strstr(t, "weightd_pid_error{service=\"svc\",backend=\"b:80\"}"));
	CU_ASSERT_PTR_NULL(strstr(t, "NaN"));
	/* One action series per action value, 1 only for the current one. */
	static const char *const acts[] = {"applied", "dry_run", "held", "pinned",
					   "frozen", "ejected", "stale"};
	for (size_t i = 0; i < 7; i++) {
		char s[200];
		snprintf(s, sizeof(s),
			 "weightd_backend_action{service=\"svc\",backend=\"b:80\",action=\"%s\"}", acts[i]);
		CU_ASSERT_EQUAL(value_of(t, s), strcmp(acts[i], "stale") == 0 ? 1 : 0);
		snprintf(s, sizeof(s),
			 "weightd_backend_action{service=\"svc\",backend=\"a:80\",action=\"%s\"}", acts[i]);
		CU_ASSERT_EQUAL(value_of(t, s), strcmp(acts[i], "applied") == 0 ? 1 : 0);
	}
	CU_ASSERT_EQUAL(value_of(t, "weightd_service_frozen{service=\"svc\"}"), 0);
	CU_ASSERT_EQUAL(value_of(t, "weightd_service_frozen{service=\"w\"}"), 1);
	CU_ASSERT_EQUAL(value_of(t, "weightd_service_no_data{service=\"svc\"}"), 1);
	CU_ASSERT_EQUAL(value_of(t, "weightd_service_no_data{service=\"w\"}"), 0);
	CU_ASSERT_EQUAL(value_of(t, "weightd_service_budget_waiting{service=\"svc\"}"), 0);
	CU_ASSERT_EQUAL(value_of(t, "weightd_service_budget_waiting{service=\"w\"}"), 1);
	CU_ASSERT_EQUAL(value_of(t, "weightd_traefik_applied{service=\"svc\"}"), 1);
	CU_ASSERT_PTR_NULL(strstr(t, "weightd_traefik_applied{service=\"w\"}"));
	free(t);

	/* A reload that removes backend b and service w: their series disappear. */
	struct metrics_backend b[] = {{"svc", "a:80", 100, 0.1, 0, 0.1, 0, WD_ACT_HELD, 1, 0}};
	struct metrics_service s[] = {{"svc", false, false, -1, false}};
	CU_ASSERT(metrics_set_backends(m, b, 1, s, 1) == 0);
	t = render(m);
	CU_ASSERT_EQUAL(value_of(t, "weightd_backend_weight{service=\"svc\",backend=\"a:80\"}"), 100);
	CU_ASSERT_PTR_NULL(strstr(t, "b:80"));
	CU_ASSERT_PTR_NULL(strstr(t, "service=\"w\""));
	free(t);
	metrics_free(m);
}

static void test_escaping(void)
{
	struct metrics *m = metrics_new("1.0\"x", 0);
	set_two(m, "we\"ird\\name\nline");
	char *t = render(m);
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "weightd_build_info{version=\"1.0\\\"x\"} 1\n"));
	CU_ASSERT_PTR_NOT_NULL(
		strstr(t, "weightd_backend_weight{service=\"we\\\"ird\\\\name\\nline\",backend=\"v1\"} 100\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "weightd_service_frozen{service=\"we\\\"ird\\\\name\\nline\"} 1\n"));
	/* No raw newline inside a line: every line is a comment or a sample. */
	for (const char *p = t; *p;) {
		const char *nl = strchr(p, '\n');
		CU_ASSERT_FATAL(nl != NULL);
		CU_ASSERT(*p == '#' || strncmp(p, "weightd_", 8) == 0 || strncmp(p, "process_", 8) == 0);
		p = nl + 1;
	}
	free(t);
	metrics_free(m);
}

/* Pipes text through `promtool check metrics`; -1 when promtool is missing. */
static int promtool(const char *text)
{
	if (system("command -v promtool >/dev/null 2>&1") != 0)
		return -1;
	FILE *p = popen("promtool check metrics", "w");
	CU_ASSERT_FATAL(p != NULL);
	fputs(text, p);
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static void test_promtool(void)
{
	struct metrics *m = metrics_new("0.1.0", 0);
	metrics_tick(m, METRICS_TICK_OK, 0.02, 100, 1700000000.5, NULL);
	set_two(m, "we\"ird\\name\nline");
	char *t = render(m);
	int rc = promtool(t);
	if (rc < 0)
		fprintf(stderr, "\npromtool not installed: validity not checked\n");
	else
		CU_ASSERT_EQUAL(rc, 0);
	free(t);
	/* promtool does fail on broken text, so the check above can fail. */
	if (rc >= 0)
		CU_ASSERT_NOT_EQUAL(promtool("# TYPE x counter\nx{a=\"b} 1\n"), 0);
	metrics_free(m);
}

static void test_health(void)
{
	char reason[512] = "";
	struct metrics *m = metrics_new("x", 10000);
	metrics_set_config(m, 1000, false);
	/* Grace period from the start: three intervals. */
	CU_ASSERT(metrics_healthy(m, 12999, reason, sizeof(reason)));
	CU_ASSERT_FALSE(metrics_healthy(m, 13000, reason, sizeof(reason)));
	CU_ASSERT_PTR_NOT_NULL(strstr(reason, "none has finished yet"));
	metrics_tick(m, METRICS_TICK_FAILED, 0.1, 13500, 1, "Prometheus unreachable: connection refused");
	CU_ASSERT_FALSE(metrics_healthy(m, 13600, reason, sizeof(reason)));
	CU_ASSERT_PTR_NOT_NULL(strstr(reason, "no successful tick"));
	CU_ASSERT_PTR_NOT_NULL(strstr(reason, "connection refused"));
	/* An ok tick makes it healthy for three intervals. */
	metrics_tick(m, METRICS_TICK_OK, 0.1, 14000, 2, NULL);
	CU_ASSERT(metrics_healthy(m, 14000, reason, sizeof(reason)));
	CU_ASSERT(metrics_healthy(m, 16999, reason, sizeof(reason)));
	metrics_tick(m, METRICS_TICK_PARTIAL, 0.1, 15000, 3, "service s: query failed");
	CU_ASSERT(metrics_healthy(m, 16999, reason, sizeof(reason)));
	CU_ASSERT_FALSE(metrics_healthy(m, 17000, reason, sizeof(reason)));
	CU_ASSERT_PTR_NOT_NULL(strstr(reason, "last successful tick 3.0s ago"));
	CU_ASSERT_PTR_NOT_NULL(strstr(reason, "service s: query failed"));
	/* A longer interval after a reload widens the window. */
	metrics_set_config(m, 2000, false);
	CU_ASSERT(metrics_healthy(m, 17000, reason, sizeof(reason)));
	metrics_free(m);
}

static const struct tu_test metrics_tests[] = {
	{"every family has HELP and TYPE", test_families},
	{"counters, timestamps and the histogram", test_counters},
	{"backend series, actions, removal", test_backends},
	{"label values are escaped", test_escaping},
	{"promtool check metrics accepts the output", test_promtool},
	{"healthz: three intervals", test_health},
	{NULL, NULL},
};

const struct tu_suite tu_suites[] = {
	{"metrics", NULL, NULL, metrics_tests},
	{NULL, NULL, NULL, NULL},
};
