/* test_preset: the metrics key and the Traefik preset. Config: metrics at the
 * top level and per service, window and latency_statistic, the refusals
 * (hand-written queries or label with a preset, colliding child names).
 * Presets and the plan: child names and keys, one fleet-wide query per signal
 * whatever the number of services, identical custom queries sent once, keys
 * escaped for PromQL, and the key -> backend lookup. */
#include "config.h"
#include "plan.h"
#include "preset.h"
#include "testutil.h"
#include "traefik.h"

/* Writes a config with the given top-level lines and services, loads it. */
static struct wd_config *load(const char *top, const char *services, struct wd_errors *errs)
{
	char text[16384];
	snprintf(text, sizeof(text),
		 "prometheus = { url = \"http://127.0.0.1:9090\"; };\n"
		 "output = { type = \"file\"; path = \"/tmp/weightd-test.yml\"; };\n"
		 "%s\nservices = (\n%s\n);\n", top, services);
	struct wd_config *cfg = NULL;
	tu_load_config(text, &cfg, errs, NULL);
	return cfg;
}

static int has(const struct wd_errors *e, int line, const char *needle)
{
	char l[32];
	snprintf(l, sizeof(l), ":%d: ", line);
	for (size_t i = 0; i < e->n; i++)
		if (strstr(e->msgs[i], l) && strstr(e->msgs[i], needle))
			return 1;
	return 0;
}

static void print_errors(const struct wd_errors *e)
{
	for (size_t i = 0; i < e->n; i++)
		printf("\n  %s", e->msgs[i]);
}

static void test_child_names(void)
{
	char b[64];
	CU_ASSERT_EQUAL(traefik_child_name("app", "10.0.0.1:8080", b, sizeof(b)), 18);
	CU_ASSERT_STRING_EQUAL(b, "app--10.0.0.1-8080");
	CU_ASSERT_EQUAL(traefik_child_name("a b", "x/y@z", b, sizeof(b)), 10);
	CU_ASSERT_STRING_EQUAL(b, "a-b--x-y-z");
	CU_ASSERT_EQUAL(traefik_child_name("app", "0123456789", b, 15), -1);
}

static void test_config_metrics(void)
{
	struct wd_errors e = {0};
	struct wd_config *cfg = load("metrics = \"traefik\";",
				     TU_SERVICE("app", "") ",\n" TU_SERVICE("old", "metrics = \"custom\"; latency_query = \"q\";"),
				     &e);
	print_errors(&e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_EQUAL(cfg->metrics, WD_METRICS_TRAEFIK);
	const struct wd_service_cfg *app = &cfg->services[0], *old = &cfg->services[1];
	CU_ASSERT_EQUAL(app->metrics, WD_METRICS_TRAEFIK);
	CU_ASSERT_STRING_EQUAL(app->label, "service");
	CU_ASSERT_TRUE(config_split_layout(app));
	CU_ASSERT_STRING_EQUAL(app->backends[0].child, "app--s1-80");
	CU_ASSERT_STRING_EQUAL(app->backends[1].child, "app--s2-80");
	CU_ASSERT_EQUAL(app->policy.window_ms, 0);
	CU_ASSERT_EQUAL(preset_window_ms(app), 60000);
	CU_ASSERT_EQUAL(app->policy.latency_stat, WD_STAT_MEAN);
	CU_ASSERT_EQUAL(old->metrics, WD_METRICS_CUSTOM);
	CU_ASSERT_FALSE(config_split_layout(old));
	CU_ASSERT_PTR_NULL(old->backends[0].child);
	config_free(cfg);

	/* The default is custom; window and statistic from policy or the service. */
	cfg = load("policy = { window = \"30s\"; latency_statistic = \"p95\"; };",
		   TU_SERVICE("app", "metrics = \"traefik\"; window = \"2m\";") ",\n"
		   TU_SERVICE("b", "metrics = \"traefik\";") ",\n" TU_SERVICE("c", "latency_query = \"q\";"), &e);
	print_errors(&e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_EQUAL(cfg->metrics, WD_METRICS_CUSTOM);
	CU_ASSERT_EQUAL(cfg->services[0].policy.window_ms, 120000);
	CU_ASSERT_EQUAL(cfg->services[0].policy.latency_stat, WD_STAT_P95);
	CU_ASSERT_EQUAL(cfg->services[1].policy.window_ms, 30000);
	CU_ASSERT_EQUAL(cfg->services[2].metrics, WD_METRICS_CUSTOM);
	CU_ASSERT_EQUAL(cfg->services[2].policy.window_ms, 30000);
	config_free(cfg);
	errors_free(&e);
}

static void test_config_refusals(void)
{
	struct wd_errors e = {0};
	/* lines: 1-2 prometheus/output, 3 top, 4 "services = (", 5.. services */
	struct wd_config *cfg = load("metrics = \"prometheus\";",
				     TU_SERVICE("a", "metrics = \"traefik\"; latency_query = \"q\";") ",\n"
				     TU_SERVICE("b", "metrics = \"traefik\"; label = \"instance\";") ",\n"
				     TU_SERVICE("c", "metrics = \"traefik\"; latency_statistic = \"p99\";") ",\n"
				     TU_SERVICE("d", "metrics = \"traefik\"; policy = { error_query = \"e\"; };"),
				     &e);
	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT_TRUE(has(&e, 3, "metrics \"prometheus\" is not \"custom\", \"traefik\" or \"haproxy\""));
	CU_ASSERT_TRUE(has(&e, 5, "service \"a\": latency_query is built in with metrics = \"traefik\""));
	CU_ASSERT_TRUE(has(&e, 6, "service \"b\": label is built in"));
	CU_ASSERT_TRUE(has(&e, 7, "latency_statistic \"p99\" is not \"mean\" or \"p95\""));
	CU_ASSERT_TRUE(has(&e, 8, "service \"d\": error_query is built in"));
	if (e.n != 5)
		print_errors(&e);
	CU_ASSERT_EQUAL(e.n, 5);
	errors_free(&e);

	/* "s1:80" and "s1-80" give one child name; a service may not take a
	 * child's name either. */
	cfg = load("metrics = \"traefik\";",
		   "{ name = \"app\"; backends = ( { name = \"s1:80\"; url = \"http://s1\"; },\n"
		   "  { name = \"s1-80\"; url = \"http://s2\"; } ); },\n" TU_SERVICE("app--s2-80", ""), &e);
	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT_TRUE(has(&e, 6, "backend \"s1-80\" of service \"app\" and backend \"s1:80\" of "
				  "service \"app\" (line 5) both give the Traefik service name \"app--s1-80\""));
	if (e.n != 1)
		print_errors(&e);
	CU_ASSERT_EQUAL(e.n, 1);
	errors_free(&e);
	cfg = load("metrics = \"traefik\";", TU_SERVICE("app", "") ",\n"
		   "{ name = \"app--s2-80\"; kind = \"weighted\"; backends = ( { name = \"v1\"; } ); }", &e);
	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT_TRUE(has(&e, 6, "service \"app--s2-80\" and backend \"s2:80\" of service \"app\" "
				  "(line 5) both give the Traefik service name \"app--s2-80\""));
	if (e.n != 1)
		print_errors(&e);
	CU_ASSERT_EQUAL(e.n, 1);
	errors_free(&e);
}

static void test_lb_options(void)
{
	struct wd_errors e = {0};
	/* lines: 5.. services */
	struct wd_config *cfg = load("",
		TU_SERVICE("a", "latency_query = \"q\"; strategy = \"p2c\";") ",\n"
		TU_SERVICE("b", "latency_query = \"q\"; strategy = \"random\";") ",\n"
		TU_SERVICE("c", "metrics = \"traefik\"; strategy = \"hrw\";") ",\n"
		"{ name = \"d\"; kind = \"weighted\"; latency_query = \"q\"; pass_host_header = true; "
		"backends = ( { name = \"v1\"; } ); },\n"
		TU_SERVICE("e", "latency_query = \"q\"; sticky_cookie = { same_site = \"sometimes\"; };") ",\n"
		TU_SERVICE("f", "latency_query = \"q\"; passive_health_check = { max_failed_attempts = 0; };") ",\n"
		TU_SERVICE("g", "latency_query = \"q\"; health_check = { path = \"/\"; headers = [ \"nocolon\" ]; };"),
		&e);
	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT_TRUE(has(&e, 5, "service \"a\": strategy \"p2c\" ignores weights"));
	CU_ASSERT_TRUE(has(&e, 6, "strategy \"random\" is not \"wrr\", \"hrw\" or \"leasttime\""));
	CU_ASSERT_TRUE(has(&e, 7, "service \"c\": with metrics = \"traefik\" the service is a weighted parent"));
	CU_ASSERT_TRUE(has(&e, 8, "service \"d\": pass_host_header is only for kind \"servers\""));
	CU_ASSERT_TRUE(has(&e, 9, "sticky_cookie.same_site \"sometimes\" is not \"none\", \"lax\" or \"strict\""));
	CU_ASSERT_TRUE(has(&e, 10, "passive_health_check.max_failed_attempts 0 must be at least 1"));
	CU_ASSERT_TRUE(has(&e, 11, "health_check.headers[0] must be \"Name: value\""));
	if (e.n != 7)
		print_errors(&e);
	CU_ASSERT_EQUAL(e.n, 7);
	errors_free(&e);

	cfg = load("", TU_SERVICE("a", "latency_query = \"q\"; strategy = \"hrw\"; pass_host_header = false;"
			      " sticky_cookie = { };"), &e);
	print_errors(&e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	const struct wd_lb_cfg *lb = &cfg->services[0].lb;
	CU_ASSERT_STRING_EQUAL(lb->strategy, "hrw");
	CU_ASSERT_EQUAL(lb->pass_host_header, WD_NO);
	CU_ASSERT_TRUE(lb->sticky);
	CU_ASSERT_EQUAL(lb->cookie_secure, WD_UNSET);
	CU_ASSERT_PTR_NULL(lb->servers_transport);
	config_free(cfg);
	errors_free(&e);
}

/* n services app0.. with metrics traefik, plus custom ones sharing a query. */
static struct wd_config *fleet(size_t n, const char *extra_services)
{
	size_t cap = 200 * n + 4096;
	char *svcs = calloc(1, cap);
	size_t at = 0;
	for (size_t i = 0; i < n; i++)
		at += (size_t)snprintf(svcs + at, cap - at,
				       "%s{ name = \"app%zu\"; metrics = \"traefik\"; backends = ("
				       " { name = \"s1\"; url = \"http://s1\"; },"
				       " { name = \"s2\"; url = \"http://s2\"; } ); }",
				       i ? ",\n" : "", i);
	snprintf(svcs + at, cap - at, "%s", extra_services);
	char *text = malloc(cap + 512);
	snprintf(text, cap + 512,
		 "prometheus = { url = \"http://127.0.0.1:9090\"; };\n"
		 "output = { type = \"redis\"; };\nservices = (\n%s\n);\n", svcs);
	struct wd_config *cfg = NULL;
	struct wd_errors e = {0};
	tu_load_config(text, &cfg, &e, NULL);
	print_errors(&e);
	errors_free(&e);
	free(text);
	free(svcs);
	return cfg;
}

static void test_plan_fleet(void)
{
	static const size_t sizes[] = {1, 10, 1000};
	for (size_t k = 0; k < 3; k++) {
		struct wd_config *cfg = fleet(sizes[k], "");
		CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
		struct plan p;
		plan_build(cfg, &p);
		CU_ASSERT_EQUAL(p.n_q, 3); /* latency, error, rate: whatever the fleet's size */
		CU_ASSERT_EQUAL(p.n_keys, 2 * sizes[k]);
		for (size_t i = 0; i < cfg->n_services; i++)
			for (int sig = 0; sig < WD_SIGNALS; sig++)
				CU_ASSERT_EQUAL(p.q[plan_at(&p, i, (enum wd_signal)sig)].signal, sig);
		CU_ASSERT_EQUAL(p.q[0].n_services, sizes[k]);
		size_t n;
		const struct plan_key *pk = plan_find(&p, "app0--s2@redis", &n);
		CU_ASSERT_EQUAL_FATAL(n, 1);
		CU_ASSERT_EQUAL(pk->svc, 0);
		CU_ASSERT_EQUAL(pk->backend, 1);
		CU_ASSERT_PTR_NULL(plan_find(&p, "app0--s3@redis", &n));
		CU_ASSERT_PTR_NULL(plan_find(&p, "app0--s2@file", &n));
		if (sizes[k] == 1) {
			CU_ASSERT_STRING_EQUAL(p.q[0].expr,
				"sum by (service) (rate(traefik_service_request_duration_seconds_sum{service=~\"(app0--s1@redis|app0--s2@redis)\"}[1m]))"
				" / sum by (service) (rate(traefik_service_request_duration_seconds_count{service=~\"(app0--s1@redis|app0--s2@redis)\"}[1m]))");
			CU_ASSERT_STRING_EQUAL(p.q[1].expr,
				"sum by (service) (rate(traefik_service_requests_total{service=~\"(app0--s1@redis|app0--s2@redis)\",code=~\"5..\"}[1m]))"
				" / sum by (service) (rate(traefik_service_requests_total{service=~\"(app0--s1@redis|app0--s2@redis)\"}[1m]))");
			CU_ASSERT_STRING_EQUAL(p.q[2].expr,
				"sum by (service) (rate(traefik_service_requests_total{service=~\"(app0--s1@redis|app0--s2@redis)\"}[1m]))");
		}
		printf("\n  %zu services: %zu queries per tick", sizes[k], p.n_q);
		plan_free(&p);
		config_free(cfg);
	}
}

static void test_plan_groups_and_sharing(void)
{
	/* Another window, the p95, a weighted service naming another provider's
	 * child, and custom services whose identical texts are sent once. */
	struct wd_config *cfg = fleet(2,
		",\n{ name = \"slow\"; metrics = \"traefik\"; window = \"90s\"; latency_statistic = \"p95\";"
		" backends = ( { name = \"x.1\"; url = \"http://x\"; } ); }"
		",\n{ name = \"canary\"; kind = \"weighted\"; metrics = \"traefik\"; backends = ("
		" { name = \"v1@docker\"; }, { name = \"v2\"; } ); }"
		",\n{ name = \"c1\"; latency_query = \"lat\"; rate_query = \"r\"; backends = ( { name = \"a\"; url = \"http://a\"; } ); }"
		",\n{ name = \"c2\"; latency_query = \"lat\"; error_query = \"e\"; backends = ( { name = \"a\"; url = \"http://a\"; } ); }"
		",\n{ name = \"c3\"; label = \"pod\"; latency_query = \"lat\"; backends = ( { name = \"a\"; url = \"http://a\"; } ); }");
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	struct plan p;
	plan_build(cfg, &p);
	/* custom: lat/instance, r, e, lat/pod; presets: two groups of three */
	CU_ASSERT_EQUAL(p.n_q, 4 + 6);
	size_t slow = 2, canary = 3, c1 = 4, c2 = 5, c3 = 6;
	CU_ASSERT_EQUAL(plan_at(&p, c1, WD_SIG_LATENCY), plan_at(&p, c2, WD_SIG_LATENCY));
	CU_ASSERT_NOT_EQUAL(plan_at(&p, c1, WD_SIG_LATENCY), plan_at(&p, c3, WD_SIG_LATENCY));
	CU_ASSERT_EQUAL(plan_at(&p, c1, WD_SIG_ERROR), -1);
	CU_ASSERT_EQUAL(plan_at(&p, c2, WD_SIG_RATE), -1);
	CU_ASSERT_EQUAL(p.q[plan_at(&p, c1, WD_SIG_LATENCY)].n_services, 2);
	CU_ASSERT_FALSE(p.q[plan_at(&p, c1, WD_SIG_LATENCY)].keyed);
	/* canary shares the 1m mean group with app0 and app1 */
	CU_ASSERT_EQUAL(plan_at(&p, canary, WD_SIG_RATE), plan_at(&p, 0, WD_SIG_RATE));
	const char *lat = p.q[plan_at(&p, 0, WD_SIG_LATENCY)].expr;
	CU_ASSERT_PTR_NOT_NULL(strstr(lat, "|v1@docker|v2@redis)"));
	const char *sl = p.q[plan_at(&p, slow, WD_SIG_LATENCY)].expr;
	CU_ASSERT_STRING_EQUAL(sl, "histogram_quantile(0.95, sum by (le, service) "
				   "(rate(traefik_service_request_duration_seconds_bucket{service=~\"(slow--x\\\\.1@redis)\"}[90s])))");
	CU_ASSERT_TRUE(p.q[plan_at(&p, slow, WD_SIG_LATENCY)].keyed);
	size_t n;
	const struct plan_key *k = plan_find(&p, "v1@docker", &n);
	CU_ASSERT_EQUAL_FATAL(n, 1);
	CU_ASSERT_EQUAL(k->svc, canary);
	CU_ASSERT_EQUAL(k->backend, 0);
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	plan_print(&p, cfg, f);
	fclose(f);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "queries per tick: 10\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "# latency of 2 services (c1, ...)\nlat\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "# latency of service c3\nlat\n"));
	free(out);
	plan_free(&p);
	config_free(cfg);
}

static void test_query_escaping(void)
{
	const struct preset *ps = preset_get(WD_METRICS_TRAEFIK);
	CU_ASSERT_PTR_NULL(preset_get(WD_METRICS_CUSTOM));
	const char *keys[] = {"a.b+c@file", "q\"x\\y@file"};
	char *q = preset_query(ps, WD_SIG_RATE, WD_STAT_MEAN, 1500, keys, 2);
	CU_ASSERT_STRING_EQUAL(q, "sum by (service) (rate(traefik_service_requests_total{service=~\""
				  "(a\\\\.b\\\\+c@file|q\\\"x\\\\\\\\y@file)\"}[1500ms]))");
	free(q);
	q = preset_query(ps, WD_SIG_RATE, WD_STAT_MEAN, 7200000, keys, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(q, "[2h]"));
	free(q);
}

static const struct tu_test preset_tests[] = {
	{"child names", test_child_names},
	{"metrics, window, latency_statistic", test_config_metrics},
	{"refusals", test_config_refusals},
	{"load-balancer options", test_lb_options},
	{"one query per signal for the fleet", test_plan_fleet},
	{"groups and shared custom queries", test_plan_groups_and_sharing},
	{"keys escaped", test_query_escaping},
	{NULL, NULL},
};

const struct tu_suite tu_suites[] = {
	{"preset", NULL, NULL, preset_tests},
	{NULL, NULL, NULL, NULL},
};
