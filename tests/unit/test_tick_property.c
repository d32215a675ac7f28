/* test_tick_property: whatever Prometheus says, weights never leave weightd
 * as NaN, negative, non-integer, above total, or all zero for a service.
 *
 * Random valid configs (totals 1..1000, bounds, pins, drains, freezes) and
 * random or adversarial query results (NaN, +-Inf, negative, huge, tiny,
 * missing, duplicate and unknown series, failed queries) go through the whole
 * tick as the daemon runs it: measure_fill -> policy_step -> the file output's
 * YAML (parsed back with libyaml) and the Redis output's keys. A tenth of the
 * ticks start with a reload (policy_state_sync with a new random config:
 * backends kept, added or removed, total, bounds and pins redrawn); the
 * daemon writes the carried weights even when that tick has no data for the
 * service, so they must already fit the new config. Case c runs from tu_seed() + c;
 * a failure prints it. */
#include <math.h>
#include <stdint.h>
#include <yaml.h>

#include "config.h"
#include "measure.h"
#include "output.h"
#include "policy.h"
#include "prom.h"
#include "testutil.h"

#define CASES 1500
#define TICKS 25

static uint64_t rng_state;
static uint64_t next_u64(void)
{
	/* splitmix64: small, fast, and the same everywhere */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}
static double uni(void) { return (next_u64() >> 11) * (1.0 / 9007199254740992.0); }
static int irange(int lo, int hi) { return lo + (int)(next_u64() % (uint64_t)(hi - lo + 1)); }

static const double adversarial[] = {NAN, INFINITY, -INFINITY, -1, 0, 1e-300, 1e300, 1e308,
				      -0.0, 5e-324, 1.0, 0.5};

static double sample_value(double typical)
{
	if (uni() < 0.15)
		return adversarial[irange(0, sizeof(adversarial) / sizeof(adversarial[0]) - 1)];
	return typical * exp(uni() * 4 - 2);
}

/* Builds one random config text; returns NULL when the draw is not valid for
 * the config loader (the case is then redrawn). */
static struct wd_config *random_config(char *path_out, size_t pathlen)
{
	int total = irange(0, 3) == 0 ? irange(1, 10) : irange(10, 1000);
	int nb = irange(1, 12);
	int min_w = irange(1, total / nb > 1 ? total / nb : 1);
	if (min_w * nb > total)
		min_w = 1;
	if (nb > total)
		return NULL;
	int max_w = irange(min_w, total);
	if ((long)max_w * nb < total)
		max_w = total;
	char text[16384];
	int len = snprintf(text, sizeof(text),
			   "prometheus = { url = \"http://127.0.0.1:9\"; };\n"
			   "output = { type = \"file\"; path = \"/tmp/weightd-prop.yml\"; };\n"
			   "policy = { total = %d; min_weight = %d; max_weight = %d; kp = %g; ki = %g; kd = %g;\n"
			   "  max_step = %g; deadband = %d; stale_ticks = %d; eject_error_ratio = %g;\n"
			   "  error_penalty = %g; objective = \"%s\"; latency_query = \"l\"; error_query = \"e\"; rate_query = \"r\"; };\n"
			   "services = ( { name = \"svc\"; kind = \"%s\"; freeze = %s; backends = (\n",
			   total, min_w, max_w, uni() * 2, uni() * 2, uni() * 0.5, 0.05 + uni() * 3,
			   irange(0, 5), irange(1, 6), 0.05 + uni() * 0.95, uni() * 50,
			   uni() < 0.5 ? "latency" : "marginal", uni() < 0.5 ? "servers" : "weighted",
			   uni() < 0.1 ? "true" : "false");
	int pinsum = 0;
	for (int i = 0; i < nb; i++) {
		char pin[32] = "";
		if (uni() < 0.2) {
			int p = uni() < 0.5 ? 0 : irange(0, total / nb);
			pinsum += p;
			snprintf(pin, sizeof(pin), " pin = %d;", p);
		}
		(void)pinsum;
		len += snprintf(text + len, sizeof(text) - (size_t)len,
				"  { name = \"b%d\";%s weight = %d;%s }%s\n", i,
				strstr(text, "kind = \"servers\"") ? " url = \"http://b:1\";" : "",
				irange(min_w, max_w), pin, i + 1 < nb ? "," : "");
	}
	snprintf(text + len, sizeof(text) - (size_t)len, "); } );\n");
	char *path = tu_write_temp(text);
	snprintf(path_out, pathlen, "%s", path ? path : "");
	free(path);
	struct wd_config *cfg = NULL;
	struct wd_errors errs = {0};
	if (config_load(path_out, &cfg, &errs, NULL) < 0)
		cfg = NULL;
	errors_free(&errs);
	unlink(path_out);
	return cfg;
}

/* A query result as Prometheus might return it for this service. */
static void random_result(const struct wd_service_cfg *svc, struct prom_result *r, double typical)
{
	memset(r, 0, sizeof(*r));
	if (uni() < 0.05) {
		snprintf(r->err, sizeof(r->err), "query failed");
		return;
	}
	r->ok = 1;
	size_t cap = svc->n_backends * 2 + 2;
	r->samples = calloc(cap, sizeof(*r->samples));
	for (size_t b = 0; b < svc->n_backends; b++) {
		int copies = uni() < 0.1 ? 0 : uni() < 0.05 ? 2 : 1; /* missing, duplicate */
		for (int c = 0; c < copies; c++) {
			r->samples[r->n_samples].label = strdup(svc->backends[b].name);
			r->samples[r->n_samples++].value = sample_value(typical);
		}
	}
	if (uni() < 0.1) { /* a series for no known backend */
		r->samples[r->n_samples].label = strdup(uni() < 0.5 ? "" : "stranger:1");
		r->samples[r->n_samples++].value = sample_value(typical);
	}
}

static int failures;
#define CHECK(cond, ...)                                                                      \
	do {                                                                                  \
		if (!(cond)) {                                                                \
			fprintf(stderr, "\nseed %llu tick %d: ", (unsigned long long)seed, tick); \
			fprintf(stderr, __VA_ARGS__);                                         \
			fprintf(stderr, "\n");                                                \
			failures++;                                                           \
			goto done;                                                            \
		}                                                                             \
	} while (0)

static int is_integer_text(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/* Parses the YAML back and checks every "weight" value is a plain integer;
 * returns their sum, or -1 when the document does not parse. */
static long yaml_weight_sum(const char *doc, size_t len, int *bad)
{
	yaml_parser_t p;
	yaml_event_t ev;
	long sum = 0;
	int want_value = 0, depth_ok = 1;
	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)doc, len);
	for (;;) {
		if (!yaml_parser_parse(&p, &ev)) {
			depth_ok = 0;
			break;
		}
		if (ev.type == YAML_SCALAR_EVENT) {
			const char *v = (const char *)ev.data.scalar.value;
			if (want_value) {
				if (!is_integer_text(v))
					(*bad)++;
				else
					sum += atol(v);
				want_value = 0;
			} else if (strcmp(v, "weight") == 0) {
				want_value = 1;
			}
		}
		int end = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
		if (end)
			break;
	}
	yaml_parser_delete(&p);
	return depth_ok ? sum : -1;
}

static void run_case(uint64_t seed)
{
	rng_state = seed;
	int tick = 0;
	char path[256];
	struct wd_config *cfg = NULL;
	for (int tries = 0; !cfg && tries < 50; tries++)
		cfg = random_config(path, sizeof(path));
	if (!cfg)
		return;
	const struct wd_service_cfg *svc = &cfg->services[0];
	const struct wd_policy_cfg *pc = &svc->policy;
	size_t n = svc->n_backends;
	struct wd_service_state st = {0};
	struct wd_measurement m[WD_MAX_BACKENDS];
	struct wd_decision d[WD_MAX_BACKENDS];
	int w[WD_MAX_BACKENDS];
	CU_ASSERT_EQUAL_FATAL(policy_state_sync(&st, svc), 0);
	for (tick = 0; tick < TICKS; tick++) {
		if (tick > 0 && uni() < 0.1) {
			/* SIGHUP: a new config for the same service (backends b0.. kept,
			 * added or removed; total, bounds, pins, freeze redrawn). */
			struct wd_config *ncfg = NULL;
			for (int tries = 0; !ncfg && tries < 50; tries++)
				ncfg = random_config(path, sizeof(path));
			if (ncfg) {
				CU_ASSERT_EQUAL_FATAL(policy_state_sync(&st, &ncfg->services[0]), 0);
				config_free(cfg);
				cfg = ncfg;
				svc = &cfg->services[0];
				pc = &svc->policy;
				n = svc->n_backends;
			}
		}
		struct prom_result lat, err, rate;
		random_result(svc, &lat, 0.1);
		random_result(svc, &err, 0.05);
		random_result(svc, &rate, 50);
		measure_fill(svc, &lat, &err, &rate, m, NULL);
		bool ok = lat.ok && err.ok && rate.ok;
		prom_result_clear(&lat);
		prom_result_clear(&err);
		prom_result_clear(&rate);
		policy_step(svc, &st, m, ok, d);

		long sum = 0;
		int positive = 0;
		for (size_t i = 0; i < n; i++) {
			w[i] = st.b[i].out_weight;
			const struct wd_backend_cfg *b = &svc->backends[i];
			CHECK(isfinite(st.b[i].weight) && st.b[i].weight >= 0, "backend %zu continuous weight %g",
			      i, st.b[i].weight);
			CHECK(w[i] >= 0 && w[i] <= pc->total, "backend %zu weight %d outside 0..%d", i, w[i],
			      pc->total);
			if (b->pin >= 0) /* from the sync on, even before a tick with data */
				CHECK(w[i] == b->pin, "backend %zu pinned to %d has %d", i, b->pin, w[i]);
			else if (b->pin < 0)
				CHECK(w[i] >= pc->min_weight && w[i] <= pc->max_weight,
				      "backend %zu weight %d outside [%d, %d]", i, w[i], pc->min_weight,
				      pc->max_weight);
			sum += w[i];
			positive += w[i] > 0;
		}
		CHECK(sum == pc->total, "weights sum to %ld, not %d", sum, pc->total);
		CHECK(positive > 0, "every weight is zero");

		struct wd_output_service os = {.cfg = svc, .weights = w};
		char *doc = NULL, errbuf[256];
		size_t len = 0;
		CHECK(traefik_yaml(&os, 1, &doc, &len, errbuf, sizeof(errbuf)) == 0,
		      "file render failed: %s", errbuf);
		int bad = 0;
		long ysum = yaml_weight_sum(doc, len, &bad);
		free(doc);
		CHECK(ysum == pc->total && bad == 0, "YAML weights sum %ld (want %d), %d non-integers",
		      ysum, pc->total, bad);

		struct wd_kv_list kv = {0};
		CHECK(traefik_kv("traefik", &os, 1, &kv, errbuf, sizeof(errbuf)) == 0,
		      "redis render failed: %s", errbuf);
		long ksum = 0;
		int kbad = 0;
		for (size_t k = 0; k < kv.n; k++) {
			size_t kl = strlen(kv.kv[k].key);
			if (kl > 7 && strcmp(kv.kv[k].key + kl - 7, "/weight") == 0) {
				if (!is_integer_text(kv.kv[k].value))
					kbad++;
				else
					ksum += atol(kv.kv[k].value);
			}
		}
		traefik_kv_free(&kv);
		CHECK(ksum == pc->total && kbad == 0, "Redis weights sum %ld (want %d), %d non-integers",
		      ksum, pc->total, kbad);
	}
done:
	policy_state_free(&st);
	config_free(cfg);
}

static void test_whole_tick_property(void)
{
	for (uint64_t c = 0; c < CASES && failures < 5; c++)
		run_case(tu_seed() + c);
	CU_ASSERT_EQUAL(failures, 0);
}

static const struct tu_test tick_property_tests[] = {
	{"weights always integral, bounded, summing to total, never all zero", test_whole_tick_property},
	{NULL, NULL},
};

const struct tu_suite tu_suites[] = {
	{"whole tick", NULL, NULL, tick_property_tests},
	{NULL, NULL, NULL, NULL},
};
