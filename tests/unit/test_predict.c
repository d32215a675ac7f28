/* test_predict: the fleet's predicted p95 (a mixture of exponential
 * latencies that follow their shares with an elasticity), the quantile a
 * latency query asks for, and the quantile each service's latency signal is
 * once its config is loaded (custom query, Traefik preset mean or p95). */
#include <math.h>

#include "config.h"
#include "predict.h"
#include "qmodel.h"
#include "testutil.h"

static void test_mixture_basics(void)
{
	struct predict_backend one = {.latency_s = 0.2, .seen_weight = 10, .elasticity = 0};
	int w1 = 10;
	CU_ASSERT_DOUBLE_EQUAL(predict_fleet_p95(&one, &w1, 1), 0.2, 1e-9);
	/* the same latency everywhere: the fleet's p95 is that latency */
	struct predict_backend two[2] = {{0.1, 50, 2}, {0.1, 50, 2}};
	int even[2] = {50, 50};
	CU_ASSERT_DOUBLE_EQUAL(predict_fleet_p95(two, even, 2), 0.1, 1e-9);
	/* a weight of 0 takes no load; no weight at all has no p95 */
	struct predict_backend mixed[2] = {{0.1, 50, 0}, {5.0, 50, 0}};
	int only0[2] = {100, 0}, none[2] = {0, 0};
	CU_ASSERT_DOUBLE_EQUAL(predict_fleet_p95(mixed, only0, 2), 0.1, 1e-9);
	CU_ASSERT(isnan(predict_fleet_p95(mixed, none, 2)));
	/* without elasticity, load moved from the slow backend lowers the p95;
	 * with a steep one the fast backend saturates and it rises again */
	int from[2] = {50, 50}, moved[2] = {60, 40};
	double p_from = predict_fleet_p95(mixed, from, 2);
	CU_ASSERT(predict_fleet_p95(mixed, moved, 2) < p_from);
	struct predict_backend steep[2] = {{0.1, 50, 8}, {0.12, 50, 8}};
	CU_ASSERT(predict_fleet_p95(steep, moved, 2) > predict_fleet_p95(steep, from, 2));
	/* the ratio of two predictions does not depend on the statistic */
	struct predict_backend mean[2] = {{0.1 / 3, 50, 8}, {0.12 / 3, 50, 8}};
	CU_ASSERT_DOUBLE_EQUAL(predict_fleet_p95(steep, moved, 2) / predict_fleet_p95(steep, from, 2),
			       predict_fleet_p95(mean, moved, 2) / predict_fleet_p95(mean, from, 2), 1e-9);
}

/* The fleet of the policy's closed-loop test near saturation (M/M/1 queues
 * of 50, 60, 40 and 20 req/s sharing 150 req/s, the best split near
 * 30/36/23/11): measured at one split, the prediction ranks each
 * neighbouring split (one point moved between two backends) against it the
 * way the queues' true mixture p95 does. */
static double true_p95(const double *cap, const int *w)
{
	struct predict_backend b[4];
	for (int i = 0; i < 4; i++) {
		double lat = qm_latency(cap[i], 150.0 * w[i] / 100);
		b[i] = (struct predict_backend){.latency_s = lat, .seen_weight = w[i], .elasticity = 0};
	}
	return predict_fleet_p95(b, w, 4);
}

static void test_ranks_neighbours_like_the_queues(void)
{
	static const double cap[4] = {50, 60, 40, 20};
	static const int splits[][4] = {{30, 36, 23, 11}, {31, 36, 23, 10}, {28, 37, 24, 11}};
	int agree = 0, total = 0;
	for (size_t s = 0; s < sizeof(splits) / sizeof(splits[0]); s++) {
		const int *at = splits[s];
		struct predict_backend b[4];
		for (int i = 0; i < 4; i++) {
			double lambda = 150.0 * at[i] / 100, lat = qm_latency(cap[i], lambda);
			b[i] = (struct predict_backend){.latency_s = lat, .seen_weight = at[i],
							.elasticity = lambda * lat};
		}
		double p_at = predict_fleet_p95(b, at, 4), t_at = true_p95(cap, at);
		CU_ASSERT_DOUBLE_EQUAL(p_at, t_at, 1e-9 * t_at);
		for (int i = 0; i < 4; i++)
			for (int j = 0; j < 4; j++) {
				if (i == j)
					continue;
				int to[4] = {at[0], at[1], at[2], at[3]};
				to[i]--, to[j]++;
				bool predicted_better = predict_fleet_p95(b, to, 4) < p_at;
				bool truly_better = true_p95(cap, to) < t_at;
				agree += predicted_better == truly_better;
				total++;
			}
	}
	printf("\nneighbouring splits ranked like the queues: %d of %d\n", agree, total);
	CU_ASSERT_EQUAL(agree, total);
}

static void test_query_quantile(void)
{
	static const struct {
		const char *q;
		double want;
	} cases[] = {
		{"histogram_quantile(0.95, sum by (le, instance) (rate(x_bucket[1m])))", 0.95},
		{"histogram_quantile (0.99, rate(x_bucket[1m]))", 0.99},
		{"max(histogram_quantile(0.5,rate(x_bucket[1m])))", 0.5},
		{"rate(x_sum[1m]) / rate(x_count[1m])", 0},
		{"histogram_quantile(1.5, rate(x_bucket[1m]))", 0},
		{"histogram_quantile($q, rate(x_bucket[1m]))", 0},
		{"histogram_quantile", 0},
		{"", 0},
		/* not a call: inside a string, a comment, a longer name */
		{"rate(x{path=\"histogram_quantile(0.5\"}[1m])", 0},
		{"rate(x{path='a\\'histogram_quantile(0.5'}[1m])", 0},
		{"rate(x{path=`histogram_quantile(0.5`}[1m])", 0},
		{"my_histogram_quantile(0.9, x)", 0},
		{"histogram_quantile_x(0.9, x)", 0},
		{"# histogram_quantile(0.5, x)\nhistogram_quantile(0.99, rate(x_bucket[1m]))", 0.99},
		{"sum(x{a=\"histogram_quantile(0.5\"}) + histogram_quantile(0.9, y)", 0.9},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CU_ASSERT_DOUBLE_EQUAL(predict_query_quantile(cases[i].q), cases[i].want, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(predict_query_quantile(NULL), 0, 0);
	CU_ASSERT_DOUBLE_EQUAL(predict_quantile_over_mean(0.95), log(20.0), 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(predict_quantile_over_mean(0), 1, 0);
}

static void test_service_quantile(void)
{
	static const char text[] =
		"prometheus = { url = \"http://127.0.0.1:9090\"; };\n"
		"output = { type = \"file\"; path = \"/tmp/weightd-test.yml\"; };\n"
		"policy = { latency_query = \"histogram_quantile(0.9, sum by (le, instance) "
		"(rate(x_bucket[1m])))\"; };\n"
		"services = (\n" TU_SERVICE("p90", "") ",\n"
		TU_SERVICE("mean", "policy = { latency_query = \"rate(x_sum[1m]) / rate(x_count[1m])\"; };") ",\n"
		TU_SERVICE("tmean", "metrics = \"traefik\";") ",\n"
		TU_SERVICE("tp95", "metrics = \"traefik\"; policy = { latency_statistic = \"p95\"; };") "\n);\n";
	struct wd_config *cfg = NULL;
	struct wd_errors errs = {0};
	CU_ASSERT_EQUAL_FATAL(tu_load_config(text, &cfg, &errs, NULL), 0);
	CU_ASSERT_DOUBLE_EQUAL(cfg->services[0].policy.latency_quantile, 0.9, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(cfg->services[1].policy.latency_quantile, 0, 0);
	CU_ASSERT_DOUBLE_EQUAL(cfg->services[2].policy.latency_quantile, 0, 0);
	CU_ASSERT_DOUBLE_EQUAL(cfg->services[3].policy.latency_quantile, 0.95, 1e-12);
	config_free(cfg);
	errors_free(&errs);
}

static const struct tu_test predict_tests[] = {
	{"mixture p95: basics", test_mixture_basics},
	{"ranks neighbouring splits like the queues", test_ranks_neighbours_like_the_queues},
	{"quantile of a latency query", test_query_quantile},
	{"a service's latency quantile", test_service_quantile},
	{NULL, NULL},
};

const struct tu_suite tu_suites[] = {
	{"predict", NULL, NULL, predict_tests},
	{NULL, NULL, NULL, NULL},
};
