/* test_runtime: a runtime is built aside from the running one and carries
 * its controller state (and what the report logged) over by name without
 * touching it; a runtime that cannot be built leaves the running one as it
 * was. And one tick against a Prometheus that is not there: the failure is
 * logged once, not every tick. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "log.h"
#include "metrics.h"
#include "report.h"
#include "runtime.h"
#include "testutil.h"
#include "tick.h"
#include "util.h"


/* A config with services app (s1, s2) and, when extra, canary too; output
 * to out in dir. */
static struct wd_config *config(const char *out, bool extra, int prom_port)
{
	char text[2048];
	snprintf(text, sizeof(text),
		 "interval = \"1s\"; listen = \"\"; state_file = \"\";\n"
		 "prometheus = { url = \"http://127.0.0.1:%d\"; timeout = \"1s\"; };\n"
		 "output = { type = \"file\"; path = \"%s/%s\"; };\n"
		 "policy = { latency_query = \"q\"; };\n"
		 "services = (\n"
		 " { name = \"app\"; label = \"instance\"; backends = (\n"
		 "   { name = \"s1\"; url = \"http://s1:80\"; weight = 60; },\n"
		 "   { name = \"s2\"; url = \"http://s2:80\"; weight = 40; } ); }%s);\n",
		 prom_port, tu_scratch_dir(), out,
		 extra ? ",\n { name = \"canary\"; label = \"service\"; backends = (\n"
			 "   { name = \"v1\"; url = \"http://v1:80\"; weight = 90; },\n"
			 "   { name = \"v2\"; url = \"http://v2:80\"; weight = 10; } ); }\n"
		       : "");
	struct wd_config *cfg = NULL;
	struct wd_errors errs = {0};
	int rc = tu_load_config(text, &cfg, &errs, NULL);
	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.msgs[i]);
	errors_free(&errs);
	return rc == 0 ? cfg : NULL;
}

static void test_built_aside(void)
{
	char err[512];
	const char *what = NULL;
	struct wd_config *c1 = config("a.yml", true, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c1);
	struct runtime *old = runtime_new(c1, NULL, &what, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(old);
	CU_ASSERT_EQUAL(old->n_st, 2);
	CU_ASSERT_STRING_EQUAL(old->st[0].name, "app");
	CU_ASSERT_EQUAL(old->st[0].b[0].out_weight, 60);
	old->st[0].b[1].weight = 41.5; /* what the controller learnt */
	old->st[0].b[1].reported = 1;  /* and what the report logged */
	struct wd_backend_state *old_b = old->st[0].b;

	/* A new config without the canary: app carries over by name. */
	struct runtime *rt = runtime_new(config("a.yml", false, 1), old, &what, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(rt);
	CU_ASSERT_EQUAL(rt->n_st, 1);
	CU_ASSERT_EQUAL(rt->st[0].b[1].weight, 41.5);
	CU_ASSERT_EQUAL(rt->st[0].b[1].reported, 1);
	CU_ASSERT_PTR_NOT_EQUAL(rt->st[0].b, old_b); /* a copy, not the running one's */
	/* The running runtime is untouched until the caller swaps. */
	CU_ASSERT_EQUAL(old->n_st, 2);
	CU_ASSERT_PTR_EQUAL(old->st[0].b, old_b);
	CU_ASSERT_STRING_EQUAL(old->st[1].name, "canary");
	CU_ASSERT_EQUAL(old->st[0].b[1].weight, 41.5);
	runtime_free(old);
	runtime_free(rt);
	runtime_free(NULL);
}

static void test_failure_keeps_running(void)
{
	char err[512], path[256];
	const char *what = NULL;
	struct runtime *old = runtime_new(config("a.yml", false, 1), NULL, &what, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(old);
	old->st[0].b[0].weight = 55;
	/* An output file someone else wrote: the new output cannot open. */
	snprintf(path, sizeof(path), "%s/foreign.yml", tu_scratch_dir());
	FILE *f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("http: {}\n", f);
	fclose(f);
	struct runtime *rt = runtime_new(config("foreign.yml", true, 1), old, &what, err, sizeof(err));
	CU_ASSERT_PTR_NULL(rt);
	CU_ASSERT_STRING_EQUAL(what, "cannot open the output");
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "was not written by weightd"));
	CU_ASSERT_EQUAL(old->n_st, 1);
	CU_ASSERT_EQUAL(old->st[0].b[0].weight, 55);
	CU_ASSERT_STRING_EQUAL(old->cfg->output.path + strlen(tu_scratch_dir()), "/a.yml");
	unlink(path);
	runtime_free(old);
}



static void test_backend_changes_once(void)
{
	FILE *f = tmpfile();
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	log_setup(WD_LOG_INFO, WD_LOG_LOGFMT);
	log_set_stream(f);
	struct wd_backend_state bs = {.name = "s1"};
	struct wd_measurement m = {.has_latency = true, .latency_s = 0.1, .has_error = true,
				   .error_ratio = 0.6};
	struct wd_decision ej = {.action = WD_ACT_EJECTED}, ok = {.action = WD_ACT_APPLIED};
	report_backend_change(&bs, "app", &m, &ej);
	report_backend_change(&bs, "app", &m, &ej);
	m.error_ratio = 0;
	report_backend_change(&bs, "app", &m, &ok);
	report_backend_change(&bs, "app", &m, &ok);
	char *out = tu_drain(f);
	CU_ASSERT_EQUAL(tu_count(out, "msg=\"backend ejected"), 1);
	CU_ASSERT_EQUAL(tu_count(out, "msg=\"backend returned from ejection\""), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "error_ratio=0.6"));
	free(out);
	log_set_stream(NULL);
	fclose(f);
}

/* A free loopback port: bound, then closed, so nothing listens there. */
static int closed_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0)
		return 1;
	close(fd);
	return ntohs(a.sin_port);
}

static void test_tick_logs_failure_once(void)
{
	char err[512];
	const char *what = NULL;
	FILE *f = tmpfile();
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	log_setup(WD_LOG_INFO, WD_LOG_LOGFMT);
	log_set_stream(f);
	struct runtime *rt = runtime_new(config("t.yml", false, closed_port()), NULL, &what, err,
					 sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(rt);
	static volatile sig_atomic_t stop;
	struct tick t = {.stop = &stop, .report.metrics = metrics_new("0", util_mono_ms())};
	CU_ASSERT_EQUAL(tick_run(&t, rt), TICK_FAILED);
	CU_ASSERT_EQUAL(tick_run(&t, rt), TICK_FAILED);
	CU_ASSERT_EQUAL(t.n, 2);
	CU_ASSERT_TRUE(t.prom_failing);
	char *out = tu_drain(f);
	CU_ASSERT_EQUAL(tu_count(out, "msg=\"Prometheus query failed; holding the service's weights\""), 1);
	CU_ASSERT_EQUAL(tu_count(out, "output write"), 0); /* nothing to write without data */
	free(out);
	metrics_free(t.report.metrics);
	runtime_free(rt);
	log_set_stream(NULL);
	fclose(f);
}

static const struct tu_test runtime_tests[] = {
	{"built aside, state carried by name", test_built_aside},
	{"a failed build keeps the running one", test_failure_keeps_running},
	{"backend changes logged once", test_backend_changes_once},
	{"a tick logs a failure once", test_tick_logs_failure_once},
	{NULL, NULL},
};

const struct tu_suite tu_suites[] = {
	{"runtime", NULL, NULL, runtime_tests},
	{NULL, NULL, NULL, NULL},
};
