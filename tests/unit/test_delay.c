/* test_delay: the signal's window read from PromQL range selectors, the
 * per-tick share of the gains, and the window a service's config implies
 * (set, read from its queries, or unknown with a warning). */
#include <math.h>

#include "config.h"
#include "delay.h"
#include "testutil.h"

static void test_longest_range(void)
{
	static const struct {
		const char *q;
		int64_t ms;
	} cases[] = {
		{"rate(x[1m])", 60000},
		{"rate(x[90s]) / rate(y[1m])", 90000},
		{"rate(x[1200ms])", 1200},
		{"rate(x[1h30m])", 5400000},
		{"max_over_time(rate(x[1m])[5m:30s])", 300000},
		{"rate(x[ 2m ])", 120000},
		{"rate(x[1m] offset 30s)", 90000},
		{"rate(x[1m] offset -30s)", 60000},
		{"histogram_quantile(0.95, sum by (le) (rate(h_bucket{path=~\"[5m]\"}[30s])))", 30000},
		{"rate(x{a='[9h]'}[10s])", 10000},
		{"rate(x[$__rate_interval])", 0},
		{"avg_latency_seconds", 0},
		{"x[1q]", 0},
		{"", 0},
		{"unterminated{a=\"[1m]", 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t got = delay_longest_range_ms(cases[i].q);
		if (got != cases[i].ms)
			printf("\n%s: %lld, want %lld\n", cases[i].q, (long long)got,
			       (long long)cases[i].ms);
		CU_ASSERT_EQUAL(got, cases[i].ms);
	}
	CU_ASSERT_EQUAL(delay_longest_range_ms(NULL), 0);
}

static void test_tick_scale(void)
{
	/* the reference: four ticks per window */
	CU_ASSERT_DOUBLE_EQUAL(delay_tick_scale(15000, 60000), 1.0, 1e-12);
	/* sixteen: a quarter-ish of a control step a tick (5/17) */
	CU_ASSERT_DOUBLE_EQUAL(delay_tick_scale(3750, 60000), 5.0 / 17, 1e-12);
	/* one tick per window, and a tick longer than the window: capped */
	CU_ASSERT_DOUBLE_EQUAL(delay_tick_scale(60000, 60000), DELAY_MAX_TICK_SCALE, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(delay_tick_scale(120000, 60000), DELAY_MAX_TICK_SCALE, 1e-12);
	/* unknown: no scaling */
	CU_ASSERT_DOUBLE_EQUAL(delay_tick_scale(15000, 0), 1.0, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(delay_tick_scale(0, 60000), 1.0, 1e-12);
	/* The integral over one delay's worth of wall-clock time is the same
	 * for every tick: scale x ticks in (window + tick) is 5. */
	for (int r = 1; r <= 16; r++) {
		int64_t tick = 60000 / r;
		double per_delay = delay_tick_scale(tick, 60000) * (double)(60000 + tick) / (double)tick;
		if (r >= 3) /* below, the cap */
			CU_ASSERT_DOUBLE_EQUAL(per_delay, 5.0, 1e-9);
	}
	CU_ASSERT_EQUAL(delay_signal_ms(15000, 60000), 75000);
	CU_ASSERT_EQUAL(delay_signal_ms(15000, 0), 75000);
	CU_ASSERT_EQUAL(delay_signal_ms(0, 60000), 0);
}

/* Loads a one-service config with the given policy keys and service
 * latency query; returns the config (NULL on error) and the warnings. */
static struct wd_config *load(const char *top_policy, const char *svc_policy, const char *query,
			      struct wd_errors *warns)
{
	char text[2048];
	snprintf(text, sizeof(text),
		 "interval = \"5s\";\n"
		 "prometheus = { url = \"http://127.0.0.1:9090\"; };\n"
		 "output = { type = \"file\"; path = \"/tmp/weightd-delay-test.yml\"; };\n"
		 "policy = { %s };\n"
		 "services = ({ name = \"s\"; latency_query = \"%s\"; policy = { %s };\n"
		 "  backends = ({ name = \"a\"; url = \"http://a:1\"; }); });\n",
		 top_policy, query, svc_policy);
	struct wd_config *cfg = NULL;
	struct wd_errors errs = {0};
	if (tu_load_config(text, &cfg, &errs, warns) < 0)
		printf("\nconfig: %s\n", errs.n ? errs.msgs[0] : "?");
	errors_free(&errs);
	return cfg;
}

static void test_service_window(void)
{
	struct wd_errors w = {0};
	/* read from the queries; the policy's window wins over them; the
	 * service's over both */
	static const struct {
		const char *top, *svc, *query;
		int64_t window_ms, signal_ms;
	} cases[] = {
		{"", "", "rate(x[90s])", 0, 90000},
		{"window = \"2m\";", "", "rate(x[90s])", 120000, 120000},
		{"window = \"2m\";", "window = \"30s\";", "rate(x[90s])", 30000, 30000},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct wd_config *c = load(cases[i].top, cases[i].svc, cases[i].query, &w);
		CU_ASSERT_FATAL(c != NULL);
		CU_ASSERT_EQUAL(c->services[0].policy.window_ms, cases[i].window_ms);
		CU_ASSERT_EQUAL(c->services[0].policy.signal_window_ms, cases[i].signal_ms);
		CU_ASSERT_EQUAL(c->services[0].policy.tick_ms, 5000);
		CU_ASSERT_EQUAL(w.n, 0);
		config_free(c);
	}
	struct wd_config *cfg;
	/* a gauge with no window anywhere: one warning saying what to set */
	cfg = load("", "", "avg_latency_seconds", &w);
	CU_ASSERT_FATAL(cfg != NULL);
	CU_ASSERT_EQUAL(cfg->services[0].policy.signal_window_ms, 0);
	CU_ASSERT_EQUAL_FATAL(w.n, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(w.msgs[0], "service \"s\": its queries have no range selector"));
	CU_ASSERT_PTR_NOT_NULL(strstr(w.msgs[0], "set window = "));
	errors_free(&w);
	config_free(cfg);
	/* a bad window is an error naming the key */
	struct wd_errors errs = {0};
	CU_ASSERT_EQUAL(tu_load_config("prometheus = { url = \"http://127.0.0.1:9090\"; };\n"
				       "output = { type = \"file\"; path = \"/tmp/x.yml\"; };\n"
				       "policy = { latency_query = \"q\"; window = \"soon\"; };\n"
				       "services = ({ name = \"s\"; backends = ({ name = \"a\"; url = \"http://a\"; }); });\n",
				       &cfg, &errs, NULL),
			-1);
	CU_ASSERT_FATAL(errs.n >= 1);
	printf("\n%s\n", errs.msgs[0]);
	CU_ASSERT_PTR_NOT_NULL(strstr(errs.msgs[0], ":3: policy.window"));
	CU_ASSERT_PTR_NOT_NULL(strstr(errs.msgs[0], "soon"));
	errors_free(&errs);
}

/* strategy = "leasttime" puts the policy in its leasttime mode; a preset's
 * built queries give the window (theirs, or 1m). */
static void test_mode_and_preset_window(void)
{
	const char *text =
		"prometheus = { url = \"http://127.0.0.1:9090\"; };\n"
		"output = { type = \"file\"; path = \"/tmp/weightd-delay-test.yml\"; };\n"
		"services = (\n"
		" { name = \"lt\"; strategy = \"leasttime\"; latency_query = \"rate(x[1m])\";\n"
		"   backends = ({ name = \"a\"; url = \"http://a:1\"; }); },\n"
		" { name = \"rr\"; latency_query = \"rate(x[1m])\";\n"
		"   backends = ({ name = \"a\"; url = \"http://a:1\"; }); },\n"
		" { name = \"tr\"; metrics = \"traefik\"; kind = \"weighted\";\n"
		"   backends = ({ name = \"v1\"; }); },\n"
		" { name = \"tw\"; metrics = \"traefik\"; kind = \"weighted\"; window = \"2m\";\n"
		"   backends = ({ name = \"v1\"; }); });\n";
	struct wd_config *cfg = NULL;
	struct wd_errors errs = {0};
	if (tu_load_config(text, &cfg, &errs, NULL) < 0)
		printf("\nconfig: %s\n", errs.n ? errs.msgs[0] : "?");
	CU_ASSERT_FATAL(cfg != NULL);
	CU_ASSERT(cfg->services[0].policy.leasttime);
	CU_ASSERT(!cfg->services[1].policy.leasttime);
	CU_ASSERT_EQUAL(cfg->services[2].policy.signal_window_ms, 60000);
	CU_ASSERT_EQUAL(cfg->services[3].policy.signal_window_ms, 120000);
	config_free(cfg);
	errors_free(&errs);
}

static const struct tu_test delay_tests[] = {
	{"leasttime mode from strategy; a preset's window", test_mode_and_preset_window},
	{"longest range selector", test_longest_range},
	{"per-tick share of a control step", test_tick_scale},
	{"a service's signal window", test_service_window},
	{NULL, NULL},
};

const struct tu_suite tu_suites[] = {
	{"delay", NULL, NULL, delay_tests},
	{NULL, NULL, NULL, NULL},
};
