/* test_state: the controller state file. A save and a load give back the
 * same weights and PID memory exactly; bad files and entries are skipped with
 * a warning, never fatal; restored weights are clamped to the config and
 * made valid for it (summing to total, pins at their pin). */
#include <math.h>

#include "config.h"
#include "policy.h"
#include "state.h"
#include "testutil.h"

static const char conf[] =
	"interval = \"15s\"; listen = \"\"; state_file = \"\";\n"
	"prometheus = { url = \"http://127.0.0.1:9090\"; };\n"
	"output = { type = \"file\"; path = \"/tmp/weightd-test-state.yml\"; };\n"
	"policy = { min_weight = 2; max_weight = 90; latency_query = \"q\"; };\n"
	"services = (\n"
	" { name = \"app\"; kind = \"servers\"; label = \"instance\"; backends = (\n"
	"   { name = \"s1\"; url = \"http://s1:80\"; weight = 50; },\n"
	"   { name = \"s2\"; url = \"http://s2:80\"; weight = 30; },\n"
	"   { name = \"s3\"; url = \"http://s3:80\"; weight = 20; pin = 0; } ); },\n"
	" { name = \"canary\"; kind = \"weighted\"; label = \"service\"; backends = (\n"
	"   { name = \"v1@file\"; weight = 90; }, { name = \"v2@file\"; weight = 10; } ); }\n"
	");\n";

static struct wd_config *cfg;
static struct wd_service_state st[2];

static void fresh(void)
{
	for (size_t i = 0; i < 2; i++) {
		policy_state_free(&st[i]);
		CU_ASSERT_EQUAL_FATAL(policy_state_sync(&st[i], &cfg->services[i]), 0);
	}
}

static int load(const char *path, struct wd_errors *w)
{
	fresh();
	return state_load(path, cfg, st, 2, w);
}

static int has_warning(const struct wd_errors *w, const char *needle)
{
	for (size_t i = 0; i < w->n; i++)
		if (strstr(w->msgs[i], needle))
			return 1;
	return 0;
}

static void test_roundtrip(void)
{
	char path[] = "/tmp/weightd-test-state-XXXXXX", err[256];
	close(mkstemp(path));
	fresh();
	st[0].b[0] = (struct wd_backend_state){.name = st[0].b[0].name, .weight = 61.123456789012345,
		.out_weight = 61, .e1 = 0.1 / 3, .e2 = -1e-9, .n_err = 2, .stale = 0, .pin = -1};
	st[0].b[1] = (struct wd_backend_state){.name = st[0].b[1].name, .weight = 38.87654321,
		.out_weight = 39, .e1 = -0.25, .e2 = 0.0, .n_err = 1, .stale = 3, .pin = -1};
	st[0].b[2].out_weight = 0; /* pinned at 0: drained */
	st[1].b[1].e1 = M_PI;
	st[1].b[1].n_err = 1;
	struct wd_backend_state saved[5] = {st[0].b[0], st[0].b[1], st[0].b[2], st[1].b[0], st[1].b[1]};
	CU_ASSERT_EQUAL_FATAL(state_save(path, st, 2, err, sizeof(err)), 0);
	struct wd_errors w = {0};
	CU_ASSERT_EQUAL(load(path, &w), 5);
	CU_ASSERT_EQUAL(w.n, 0);
	struct wd_backend_state *got[5] = {&st[0].b[0], &st[0].b[1], &st[0].b[2], &st[1].b[0], &st[1].b[1]};
	static const char *const names[] = {"s1", "s2", "s3", "v1@file", "v2@file"};
	for (int i = 0; i < 5; i++) {
		CU_ASSERT_STRING_EQUAL(got[i]->name, names[i]);
		CU_ASSERT(got[i]->weight == saved[i].weight); /* bit for bit */
		CU_ASSERT_EQUAL(got[i]->out_weight, saved[i].out_weight);
		CU_ASSERT(got[i]->e1 == saved[i].e1);
		CU_ASSERT(got[i]->e2 == saved[i].e2);
		CU_ASSERT_EQUAL(got[i]->n_err, saved[i].n_err);
		CU_ASSERT_EQUAL(got[i]->stale, saved[i].stale);
	}
	errors_free(&w);
	unlink(path);
}

static void test_missing_and_broken(void)
{
	struct wd_errors w = {0};
	CU_ASSERT_EQUAL(load("/tmp/weightd-test-state-does-not-exist.json", &w), 0);
	CU_ASSERT_EQUAL(w.n, 0);
	static const char *const bad[] = {"{\"version\":1,\"services\":{", "[]", "",
					  "{\"version\":7,\"services\":{}}", "{\"version\":1}"};
	static const char *const why[] = {"not valid JSON", "not valid JSON", "not valid JSON",
					  "not a version 1", "no \"services\""};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *path = tu_write_temp(bad[i]);
		CU_ASSERT_EQUAL(load(path, &w), -1);
		CU_ASSERT(has_warning(&w, why[i]));
		CU_ASSERT(has_warning(&w, "starting from the configured weights"));
		CU_ASSERT_EQUAL(st[0].b[0].out_weight, 63); /* untouched: 50 : 30 filled to 100 beside the drained s3 */
		errors_free(&w);
		unlink(path);
		free(path);
	}
}

static void test_bad_entries_skipped(void)
{
	char *path = tu_write_temp(
		"{\"version\":1,\"services\":{"
		"\"gone\":{\"x\":{\"weight\":1}},"
		"\"app\":{\"s1\":{\"weight\":\"many\",\"out_weight\":60,\"e1\":0,\"e2\":0,\"n_err\":0,\"stale\":0},"
		"\"s2\":{\"weight\":40,\"out_weight\":40,\"e1\":0.5,\"e2\":0.25,\"n_err\":2,\"stale\":0},"
		"\"old\":{\"weight\":40,\"out_weight\":40,\"e1\":0,\"e2\":0,\"n_err\":0,\"stale\":0}},"
		"\"canary\":{\"v1@file\":{\"weight\":95,\"out_weight\":95,\"e1\":0,\"e2\":0,\"n_err\":5,\"stale\":0},"
		"\"v2@file\":{\"weight\":500,\"out_weight\":0,\"e1\":0,\"e2\":0,\"n_err\":0,\"stale\":1}},"
		"\"future\":7}, \"extra\": true}");
	struct wd_errors w = {0};
	CU_ASSERT_EQUAL(load(path, &w), 2);
	CU_ASSERT(has_warning(&w, "service \"gone\" is not in the config"));
	CU_ASSERT(has_warning(&w, "service \"future\" is not in the config"));
	CU_ASSERT(has_warning(&w, "backend \"old\" is not in the config"));
	CU_ASSERT(has_warning(&w, "backend \"s1\": weight is not a non-negative number"));
	CU_ASSERT(has_warning(&w, "backend \"v1@file\": n_err must be 0, 1 or 2"));
	CU_ASSERT_EQUAL(w.n, 5);
	/* s1 skipped (its configured start, 62.5), s2 restored (40), s3
	 * drained: 62.5 : 40 filled to total. */
	CU_ASSERT_EQUAL(st[0].b[0].out_weight, 61);
	CU_ASSERT_EQUAL(st[0].b[1].out_weight, 39);
	CU_ASSERT(st[0].b[1].e2 == 0.25);
	/* v2's weight clamped to max_weight 90 beside v1's start of 90: even. */
	CU_ASSERT(st[1].b[1].weight == 50.0);
	CU_ASSERT_EQUAL(st[1].b[0].out_weight, 50);
	CU_ASSERT_EQUAL(st[1].b[1].out_weight, 50);
	CU_ASSERT_EQUAL(st[1].b[1].stale, 1);
	errors_free(&w);
	unlink(path);
	free(path);
}

static void test_pin_wins(void)
{
	char *path = tu_write_temp(
		"{\"version\":1,\"services\":{\"app\":{\"s3\":{\"weight\":33,\"out_weight\":33,"
		"\"e1\":0,\"e2\":0,\"n_err\":0,\"stale\":0}}}}");
	struct wd_errors w = {0};
	CU_ASSERT_EQUAL(load(path, &w), 1);
	CU_ASSERT_EQUAL(st[0].b[2].out_weight, 0); /* pin = 0: stays drained */
	errors_free(&w);
	unlink(path);
	free(path);
}

/* Sums the out_weights of a service's state and checks each against its
 * pin or the bounds [2, 90] of the fixture. */
static int valid_sum(const struct wd_service_state *ss, const struct wd_service_cfg *svc)
{
	int sum = 0;
	for (size_t i = 0; i < ss->n; i++) {
		int w = ss->b[i].out_weight, pin = svc->backends[i].pin;
		CU_ASSERT(pin >= 0 ? w == pin : (w >= 2 && w <= 90));
		sum += w;
	}
	return sum;
}

/* Saved under another config: total was 110 (s1 70, s2 40), and the canary's
 * v2 did not exist yet. Restored as they are, the weights carried until the
 * first tick with data would not sum to total; they are made valid as any
 * start set is, keeping their proportions and the PID memory. */
static void test_restored_set_made_valid(void)
{
	char *path = tu_write_temp(
		"{\"version\":1,\"services\":{"
		"\"app\":{\"s1\":{\"weight\":70,\"out_weight\":70,\"e1\":0.5,\"e2\":0,\"n_err\":1,\"stale\":0},"
		"\"s2\":{\"weight\":40,\"out_weight\":40,\"e1\":0,\"e2\":0,\"n_err\":0,\"stale\":0}},"
		"\"canary\":{\"v1@file\":{\"weight\":70,\"out_weight\":70,\"e1\":0,\"e2\":0,\"n_err\":0,\"stale\":0}}}}");
	struct wd_errors w = {0};
	CU_ASSERT_EQUAL(load(path, &w), 3);
	CU_ASSERT_EQUAL(valid_sum(&st[0], &cfg->services[0]), 100);
	CU_ASSERT_EQUAL(valid_sum(&st[1], &cfg->services[1]), 100);
	CU_ASSERT_EQUAL(st[0].b[0].out_weight, 64); /* 70 : 40 filled to 100 */
	CU_ASSERT_EQUAL(st[0].b[1].out_weight, 36);
	CU_ASSERT(fabs(st[0].b[0].weight + st[0].b[1].weight - 100) < 1e-9);
	CU_ASSERT(st[0].b[0].e1 == 0.5 && st[0].b[0].n_err == 1);
	CU_ASSERT_EQUAL(st[1].b[0].out_weight, 88); /* 70 : 10 filled to 100 */
	CU_ASSERT_EQUAL(st[1].b[1].out_weight, 12);
	errors_free(&w);
	unlink(path);
	free(path);
}

static void test_save_failure(void)
{
	char err[256];
	fresh();
	CU_ASSERT_EQUAL(state_save("/tmp/weightd-test-no-such-dir/state.json", st, 2, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "cannot create a temporary file in /tmp/weightd-test-no-such-dir"));
}

/* Loads the config every test shares. */
static int suite_init(void)
{
	char *path = tu_write_temp(conf);
	struct wd_errors errs = {0};
	int rc = path ? config_load(path, &cfg, &errs, NULL) : -1;
	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.msgs[i]);
	errors_free(&errs);
	if (path) {
		unlink(path);
		free(path);
	}
	return rc < 0 ? -1 : 0;
}

static int suite_cleanup(void)
{
	for (size_t i = 0; i < 2; i++)
		policy_state_free(&st[i]);
	config_free(cfg);
	return 0;
}

static const struct tu_test state_tests[] = {
	{"roundtrip", test_roundtrip},
	{"missing and broken files", test_missing_and_broken},
	{"bad entries skipped", test_bad_entries_skipped},
	{"pin wins", test_pin_wins},
	{"restored set made valid", test_restored_set_made_valid},
	{"save failure", test_save_failure},
	{NULL, NULL},
};

const struct tu_suite tu_suites[] = {
	{"state", suite_init, suite_cleanup, state_tests},
	{NULL, NULL, NULL, NULL},
};
