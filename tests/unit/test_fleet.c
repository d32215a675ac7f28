/* test_fleet: the fleet model (contrib/sim/fleet.[ch]) and its scenario parser. */
#include <math.h>

#include "fleet.h"
#include "scenario.h"
#include "testutil.h"

/* A spec of n backends with capacity cap[i] req/s, `slots` slots, latency lat. */
static void mkspec(struct fleet_spec *s, size_t n, const double *cap, double slots, double lat,
		   double rate, uint64_t seed)
{
	memset(s, 0, sizeof *s);
	s->seed = seed;
	s->backends = calloc(n, sizeof *s->backends);
	s->n_backends = n;
	for (size_t i = 0; i < n; i++) {
		struct fleet_backend_spec *b = &s->backends[i];
		snprintf(b->name, sizeof b->name, "server%zu:8080", i + 1);
		snprintf(b->url, sizeof b->url, "http://server%zu:8080", i + 1);
		b->weight = 1;
		b->jitter = 0.3;
		fleet_sched_add(&b->capacity, 0, cap[i]);
		fleet_sched_add(&b->slots, 0, slots);
		fleet_sched_add(&b->latency, 0, lat);
	}
	fleet_sched_add(&s->load.rate, 0, rate);
}

static struct fleet *mkfleet(struct fleet_spec *s)
{
	char err[256] = "";
	struct fleet *f = fleet_new(s, err, sizeof err);
	if (!f)
		fprintf(stderr, "fleet_new: %s\n", err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	return f;
}

static void test_wrr_shares(void)
{
	double cap[3] = { 1000, 1000, 1000 };
	struct fleet_spec s;
	mkspec(&s, 3, cap, 100, 0.01, 300, 1);
	struct fleet *f = mkfleet(&s);
	double w[3] = { 1, 2, 5 };
	CU_ASSERT_EQUAL(fleet_set_weights(f, w), 0);
	fleet_run_until(f, 100);
	const struct fleet_truth *t;
	fleet_truth_take(f, &t);
	CU_ASSERT(t->routed > 25000);
	/* EDF round robin is exact up to one round of 8 */
	for (int i = 0; i < 3; i++)
		CU_ASSERT(fabs((double)t->b[i].routed - (double)t->routed * w[i] / 8) <= 8);
	CU_ASSERT_DOUBLE_EQUAL(t->b[2].share, 5.0 / 8, 0.001);
	fleet_free(f);
	fleet_spec_free(&s);
}

static void test_wrr_sequence(void)
{
	/* weights 3 and 1: every 4 requests, 3 go to the first, spread out */
	double cap[2] = { 1e6, 1e6 };
	struct fleet_spec s;
	mkspec(&s, 2, cap, 10, 0.001, 1, 1);
	struct fleet *f = mkfleet(&s);
	fleet_set_weight(f, 0, 3);
	struct fleet_chooser wrr = fleet_chooser_wrr();
	fleet_set_chooser(f, wrr);
	int seq[8];
	for (int i = 0; i < 8; i++)
		seq[i] = wrr.pick(wrr.ctx, f);
	int first = 0;
	for (int i = 0; i < 8; i++)
		first += seq[i] == 0;
	CU_ASSERT_EQUAL(first, 6);
	/* deadlines 1/3, 2/3, then a tie at 1 that the lower index wins */
	CU_ASSERT(seq[0] == 0 && seq[1] == 0 && seq[2] == 0 && seq[3] == 1);
	fleet_free(f);
	fleet_spec_free(&s);
}

static void test_drained(void)
{
	double cap[3] = { 500, 500, 500 };
	struct fleet_spec s;
	mkspec(&s, 3, cap, 20, 0.01, 200, 2);
	struct fleet *f = mkfleet(&s);
	CU_ASSERT_EQUAL(fleet_set_weight(f, 1, 0), 0);
	CU_ASSERT_EQUAL(fleet_set_weight(f, 1, -1), -1);
	CU_ASSERT_EQUAL(fleet_set_weight(f, 1, NAN), -1);
	fleet_run_until(f, 30);
	const struct fleet_truth *t;
	fleet_truth_take(f, &t);
	CU_ASSERT_EQUAL(t->b[1].routed, 0);
	CU_ASSERT(t->b[0].routed > 2000 && t->b[2].routed > 2000);
	CU_ASSERT_EQUAL(fleet_backend_counters(f, 1)->hist.count, 0);
	/* everything drained: the balancer answers 503 */
	double zero[3] = { 0, 0, 0 };
	fleet_set_weights(f, zero);
	fleet_run_until(f, 40);
	fleet_truth_take(f, &t);
	CU_ASSERT_EQUAL(t->routed, 0);
	CU_ASSERT(t->rejected > 1000);
	CU_ASSERT(fleet_total_counters(f)->code503 == t->rejected);
	fleet_free(f);
	fleet_spec_free(&s);
}

static double p95_at_load(double rate, bool batch)
{
	double cap[1] = { 100 };
	struct fleet_spec s;
	mkspec(&s, 1, cap, 8, 0.02, rate, 3);
	s.backends[0].batch = batch;
	struct fleet *f = mkfleet(&s);
	fleet_run_until(f, 200);
	const struct fleet_truth *t;
	fleet_truth_take(f, &t);
	double p = t->p95_s;
	CU_ASSERT(t->done > rate * 150);
	fleet_free(f);
	fleet_spec_free(&s);
	return p;
}

static void test_latency_rises_with_load(void)
{
	double lo = p95_at_load(10, false), mid = p95_at_load(60, false), hi = p95_at_load(92, false);
	/* idle: about latency x jitter; busy: slots/capacity = 80 ms and queueing */
	CU_ASSERT(lo > 0.02 && lo < 0.05);
	CU_ASSERT(mid > lo * 1.3);
	CU_ASSERT(hi > mid * 1.3);
	/* batch mode: flat until saturation (capacity x latency = 2 slots here) */
	double b_lo = p95_at_load(10, true), b_mid = p95_at_load(40, true);
	CU_ASSERT(b_lo > 0.02 && b_lo < 0.05);
	CU_ASSERT(b_mid < b_lo * 1.5);
}

static void test_error_schedule(void)
{
	double cap[2] = { 500, 500 };
	struct fleet_spec s;
	mkspec(&s, 2, cap, 20, 0.02, 200, 4);
	struct fleet_backend_spec *b = &s.backends[1];
	fleet_sched_add(&b->errors, 0, 0);
	fleet_sched_add(&b->errors, 30, 0.6);
	fleet_sched_add(&b->errors, 60, 0);
	fleet_sched_add(&b->error_latency, 0, 0.001); /* fails fast */
	struct fleet *f = mkfleet(&s);
	const struct fleet_truth *t;
	fleet_run_until(f, 29.9);
	fleet_truth_take(f, &t);
	CU_ASSERT_EQUAL(t->b[1].errors, 0);
	fleet_run_until(f, 59.9);
	fleet_truth_take(f, &t);
	CU_ASSERT_DOUBLE_EQUAL(t->b[1].error_ratio, 0.6, 0.05);
	CU_ASSERT_DOUBLE_EQUAL(t->b[0].error_ratio, 0, 1e-12);
	/* most of its answers are fast failures: the median is far below the base latency */
	CU_ASSERT(t->b[1].p50_s < 0.01);
	CU_ASSERT(t->b[0].p50_s > 0.01);
	fleet_run_until(f, 61);
	fleet_truth_take(f, &t);
	fleet_run_until(f, 90);
	fleet_truth_take(f, &t);
	CU_ASSERT_EQUAL(t->b[1].errors, 0);
	const struct fleet_counters *c = fleet_backend_counters(f, 1);
	CU_ASSERT(c->code500 > 1500);
	CU_ASSERT_EQUAL(c->code200 + c->code500, c->hist.count);
	fleet_free(f);
	fleet_spec_free(&s);
}

static void run_fingerprint(uint64_t seed, uint64_t out[3], double *p95)
{
	double cap[3] = { 100, 200, 300 };
	struct fleet_spec s;
	mkspec(&s, 3, cap, 10, 0.03, 400, seed);
	struct fleet *f = mkfleet(&s);
	fleet_run_until(f, 60);
	for (int i = 0; i < 3; i++)
		out[i] = fleet_backend_counters(f, (size_t)i)->hist.count;
	*p95 = fleet_run_quantile(f, 0.95);
	fleet_free(f);
	fleet_spec_free(&s);
}

static void test_determinism(void)
{
	uint64_t a[3], b[3], c[3];
	double pa, pb, pc;
	run_fingerprint(42, a, &pa);
	run_fingerprint(42, b, &pb);
	run_fingerprint(43, c, &pc);
	CU_ASSERT(memcmp(a, b, sizeof a) == 0);
	CU_ASSERT_EQUAL(pa, pb);
	CU_ASSERT(memcmp(a, c, sizeof a) != 0);
}

static void test_capacity_step(void)
{
	/* a capacity drop at 50 s: the same traffic then waits much longer */
	double cap[1] = { 200 };
	struct fleet_spec s;
	mkspec(&s, 1, cap, 10, 0.02, 100, 5);
	fleet_sched_add(&s.backends[0].capacity, 50, 110);
	struct fleet *f = mkfleet(&s);
	const struct fleet_truth *t;
	fleet_run_until(f, 50);
	fleet_truth_take(f, &t);
	double before = t->p95_s;
	fleet_run_until(f, 100);
	fleet_truth_take(f, &t);
	CU_ASSERT(t->p95_s > before * 1.5);
	fleet_free(f);
	fleet_spec_free(&s);
}

static void test_join(void)
{
	/* server2 joins at 30 s: nothing before (under every chooser), its share after */
	double cap[2] = { 1000, 1000 };
	struct fleet_spec s;
	mkspec(&s, 2, cap, 50, 0.01, 200, 8);
	s.backends[1].join_s = 30;
	struct fleet_chooser chs[3] = { fleet_chooser_wrr(), fleet_chooser_p2c(),
					fleet_chooser_leasttime() };
	for (int k = 0; k < 3; k++) {
		struct fleet *f = mkfleet(&s);
		fleet_set_chooser(f, chs[k]);
		const struct fleet_truth *t;
		fleet_run_until(f, 29.9);
		CU_ASSERT_EQUAL(fleet_weight(f, 1), 0);
		fleet_truth_take(f, &t);
		CU_ASSERT_EQUAL(t->b[1].routed, 0);
		CU_ASSERT(t->b[0].routed > 5000);
		fleet_run_until(f, 60);
		CU_ASSERT_EQUAL(fleet_weight(f, 1), 1);
		fleet_truth_take(f, &t);
		CU_ASSERT(t->b[1].share > 0.4 && t->b[1].share < 0.6);
		fleet_free(f);
	}
	fleet_spec_free(&s);
	struct scenario sc;
	char err[300] = "";
	CU_ASSERT_EQUAL(scenario_parse("load = { rate = 1; };\nbackends = ( { name = \"a\"; capacity = 1;"
				       " latency = 1; join = \"2m\"; } );", "j.scn", &sc, err,
				       sizeof err), 0);
	CU_ASSERT_DOUBLE_EQUAL(sc.spec.backends[0].join_s, 120, 1e-9);
	scenario_free(&sc);
}

static void test_groups(void)
{
	double cap[3] = { 1000, 1000, 1000 };
	struct fleet_spec s;
	mkspec(&s, 3, cap, 50, 0.01, 300, 6);
	snprintf(s.backends[0].service, FLEET_NAME_MAX, "v1@file");
	snprintf(s.backends[1].service, FLEET_NAME_MAX, "v1@file");
	snprintf(s.backends[2].service, FLEET_NAME_MAX, "v2@file");
	struct fleet *f = mkfleet(&s);
	CU_ASSERT_EQUAL(fleet_n_groups(f), 2);
	CU_ASSERT_STRING_EQUAL(fleet_group_name(f, 1), "v2@file");
	fleet_set_group_weight(f, 0, 9);
	fleet_set_group_weight(f, 1, 1);
	fleet_run_until(f, 50);
	const struct fleet_truth *t;
	fleet_truth_take(f, &t);
	CU_ASSERT_DOUBLE_EQUAL(t->b[2].share, 0.1, 0.002);
	CU_ASSERT_DOUBLE_EQUAL(t->b[0].share, 0.45, 0.002);
	CU_ASSERT_EQUAL(fleet_group_counters(f, 1)->hist.count, fleet_backend_counters(f, 2)->hist.count);
	fleet_free(f);
	fleet_spec_free(&s);
	/* mixing backends with and without a service is refused */
	mkspec(&s, 2, cap, 5, 0.01, 10, 1);
	snprintf(s.backends[0].service, FLEET_NAME_MAX, "v1@file");
	char err[200];
	CU_ASSERT_PTR_NULL(fleet_new(&s, err, sizeof err));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "service"));
	fleet_spec_free(&s);
}

/* Two backends, the second failing fast (every request, in 1 ms), for 60 s
 * under chooser k (0 wrr, 1 p2c, 2 leasttime) with Traefik's passive health
 * check at passive_max failures (0: off). Fills both backends' truth, and
 * whether at 1 s only the failing one is down. */
static void run_fast_failing(int k, unsigned passive_max, struct fleet_truth_backend out[2],
			     bool *down_at_1s)
{
	double cap[2] = { 200, 200 };
	struct fleet_spec s;
	mkspec(&s, 2, cap, 10, 0.05, 100, 7);
	fleet_sched_add(&s.backends[1].errors, 0, 1);
	fleet_sched_add(&s.backends[1].error_latency, 0, 0.001);
	struct fleet *f = mkfleet(&s);
	fleet_set_chooser(f, k == 0 ? fleet_chooser_wrr()
			     : k == 1 ? fleet_chooser_p2c()
				      : fleet_chooser_leasttime());
	if (passive_max)
		fleet_set_passive(f, passive_max, 10);
	fleet_run_until(f, 1);
	*down_at_1s = !fleet_up(f, 1) && fleet_up(f, 0);
	fleet_run_until(f, 60);
	const struct fleet_truth *t;
	fleet_truth_take(f, &t);
	out[0] = t->b[0];
	out[1] = t->b[1];
	fleet_free(f);
	fleet_spec_free(&s);
}

static void test_choosers(void)
{
	/* a backend failing fast: leasttime and p2c pile onto it, wrr does not */
	double share[3];
	for (int k = 0; k < 3; k++) {
		struct fleet_truth_backend b[2];
		bool down;
		run_fast_failing(k, 0, b, &down);
		CU_ASSERT(!down);
		share[k] = b[1].share;
	}
	CU_ASSERT_DOUBLE_EQUAL(share[0], 0.5, 0.01);
	CU_ASSERT(share[1] > 0.6);
	CU_ASSERT(share[2] > 0.8);
}

static void test_passive_health_check(void)
{
	/* Traefik's passive health check: a server failing fast gets one
	 * request per window (it fails, is down for the window, comes back,
	 * fails again) under every strategy; with max_failed 3, three. Without
	 * it leasttime sends it most requests (test_choosers). */
	for (unsigned max = 1; max <= 3; max += 2) {
		for (int k = 0; k < 3; k++) {
			struct fleet_truth_backend b[2];
			bool down;
			run_fast_failing(k, max, b, &down);
			CU_ASSERT(down);
			/* a window of 10 s after each max-th failure: 6 in 60 s (and
			 * the odd request routed while a failure is on its way) */
			CU_ASSERT(b[1].routed >= 6 * max && b[1].routed <= 6 * max + 3);
			CU_ASSERT(b[0].routed > 5500);
		}
	}
}

static void test_hist_quantile(void)
{
	/* as Prometheus: 0.95 of 100 falls in (0.1, 0.25] holding 10 of them */
	double le[3] = { 0.05, 0.1, 0.25 };
	uint64_t cum[4] = { 50, 90, 100, 100 };
	CU_ASSERT_DOUBLE_EQUAL(fleet_hist_quantile(0.95, le, 3, cum), 0.175, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(fleet_hist_quantile(0.5, le, 3, cum), 0.05, 1e-9);
	uint64_t inf[4] = { 0, 0, 10, 20 };
	CU_ASSERT_DOUBLE_EQUAL(fleet_hist_quantile(0.99, le, 3, inf), 0.25, 1e-9);
	uint64_t none[4] = { 0, 0, 0, 0 };
	CU_ASSERT(isnan(fleet_hist_quantile(0.5, le, 3, none)));
}

static const char *good_scenario =
	"seed = 9; duration = \"2m\"; interval = \"2s\";\n"
	"load = { rate = ( (\"0s\", 50.0), (\"30s\", 80) ); diurnal = { amplitude = 0.2; period = \"1m\"; }; };\n"
	"traefik = { service = \"medical-imaging\"; };\n"
	"backends = (\n"
	"  { name = \"server1:8080\"; capacity = 100; slots = 8; latency = \"50ms\"; },\n"
	"  { name = \"server2:8080\"; url = \"http://10.0.0.2:8080\"; capacity = 60; slots = 4;\n"
	"    latency = ( { at = 0; value = 0.05; }, { at = \"1m\"; value = \"200ms\"; } );\n"
	"    errors = 0.01; batch = true; weight = 3; }\n"
	");\n";

static void test_scenario(void)
{
	struct scenario sc;
	char err[300] = "";
	int rc = scenario_parse(good_scenario, "good.scn", &sc, err, sizeof err);
	if (rc)
		fprintf(stderr, "%s\n", err);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_EQUAL(sc.spec.seed, 9);
	CU_ASSERT_DOUBLE_EQUAL(sc.duration_s, 120, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(sc.interval_s, 2, 1e-9);
	CU_ASSERT_STRING_EQUAL(sc.service, "medical-imaging");
	CU_ASSERT_EQUAL(sc.spec.n_backends, 2);
	CU_ASSERT_STRING_EQUAL(sc.spec.backends[0].url, "http://server1:8080");
	CU_ASSERT_DOUBLE_EQUAL(fleet_sched_at(&sc.spec.backends[1].latency, 59), 0.05, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(fleet_sched_at(&sc.spec.backends[1].latency, 60), 0.2, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(fleet_sched_at(&sc.spec.load.rate, 31), 80, 1e-12);
	CU_ASSERT(sc.spec.backends[1].batch);
	CU_ASSERT_DOUBLE_EQUAL(sc.spec.backends[1].weight, 3, 0);
	scenario_free(&sc);

	static const struct {
		const char *text, *want;
	} bad[] = {
		{ "load = { rate = 1; }; backends = ( { name = \"a\"; capacity = 1; latency = 1; cpu = 2; } );",
		  "bad.scn:1: unknown key \"cpu\"" },
		{ "load = { rate = 1; };\nbackends = ( { name = \"a\"; latency = 1; } );",
		  "bad.scn:2: backend \"a\": capacity missing" },
		{ "load = { rate = 1; };\nbackends = ( { name = \"a\"; capacity = 1; latency = \"fast\"; } );",
		  "bad.scn:2: latency: invalid duration" },
		{ "load = { rate = ((\"1m\", 1), (\"10s\", 2)); };\nbackends = ( { name = \"a\"; capacity = 1; latency = 1; } );",
		  "steps must be in increasing time order" },
		{ "load = { rate = 1; };\nbackends = ( { name = \"a\"; capacity = 1; latency = 1; errors = 1.5; } );",
		  "errors 1.5 at 0s out of range" },
		{ "load = { rate = 1 ; backends = ();", "bad.scn:1: syntax error" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		err[0] = 0;
		CU_ASSERT_EQUAL(scenario_parse(bad[i].text, "bad.scn", &sc, err, sizeof err), -1);
		if (!strstr(err, bad[i].want))
			fprintf(stderr, "case %zu: got \"%s\", want \"%s\"\n", i, err, bad[i].want);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, bad[i].want));
	}
}

static const struct tu_test fleet_tests[] = {
	{"EDF WRR shares follow the weights", test_wrr_shares},
	{"EDF WRR order", test_wrr_sequence},
	{"drained backends get nothing", test_drained},
	{"latency rises with load; batch stays flat", test_latency_rises_with_load},
	{"error ratio schedule and fail-fast", test_error_schedule},
	{"same seed, same run", test_determinism},
	{"capacity schedule", test_capacity_step},
	{"weighted child services", test_groups},
	{"a backend joins later", test_join},
	{"p2c and leasttime hooks", test_choosers},
	{"passive health check: a failing server sits out its window", test_passive_health_check},
	{"histogram_quantile", test_hist_quantile},
	{"scenario files", test_scenario},
	{NULL, NULL},
};

const struct tu_suite tu_suites[] = {
	{"fleet", NULL, NULL, fleet_tests},
	{NULL, NULL, NULL, NULL},
};
