/* test_policy: the policy rule by rule with hand-computed weights (tables of
 * apportionments and of single ticks), stateful sequences (stale drift,
 * deadband, reloads, freeze and pin lifted, restart), and randomized property
 * tests drawing from tu_seed(). */
#include <math.h>
#include <stdlib.h>

#include "delay.h"
#include "measure.h"
#include "policy_fixture.h"
#include "qmodel.h"
#include "testutil.h"

#define NP (-1) /* not pinned */
#define NONE (-1.0) /* no series */

/* ---- apportionment ---------------------------------------------------------- */

struct app_case {
	const char *name;
	size_t n;
	double w[6];
	int total;
	int lo[6], hi[6];
	int rc;
	int expect[6];
};

static const struct app_case app_cases[] = {
	/* 33.33 each: floors 99, the unit left goes to the lowest index. */
	{"thirds", 3, {1, 1, 1}, 100, {1, 1, 1}, {100, 100, 100}, 0, {34, 33, 33}},
	{"exact", 3, {50, 30, 20}, 100, {1, 1, 1}, {100, 100, 100}, 0, {50, 30, 20}},
	/* 3.33 and 6.67: the larger remainder gets the unit. */
	{"largest remainder", 2, {1, 2}, 10, {0, 0}, {10, 10}, 0, {3, 7}},
	/* 98:1:1 with max 60: 60, and 40 split evenly. */
	{"max clamp", 3, {98, 1, 1}, 100, {1, 1, 1}, {60, 60, 60}, 0, {60, 20, 20}},
	/* 1000:1:1 with min 5: the small ones at 5, the big one takes 90. */
	{"min clamp", 3, {1000, 1, 1}, 100, {5, 5, 5}, {100, 100, 100}, 0, {90, 5, 5}},
	/* a drain (0..0) and 1:3 for the rest. */
	{"fixed zero", 3, {0, 1, 3}, 100, {0, 1, 1}, {0, 100, 100}, 0, {0, 25, 75}},
	/* a pin (30..30): 70 left, split 1:1. */
	{"fixed pin", 3, {30, 1, 1}, 100, {30, 1, 1}, {30, 100, 100}, 0, {30, 35, 35}},
	/* all weights 0: even shares 2.5, ties to the lower indices. */
	{"all zero", 4, {0, 0, 0, 0}, 10, {0, 0, 0, 0}, {10, 10, 10, 10}, 0, {3, 3, 2, 2}},
	/* 0.5:0.5:99 with min 1: 1, 1, 98. */
	{"floor at min", 3, {0.5, 0.5, 99}, 100, {1, 1, 1}, {100, 100, 100}, 0, {1, 1, 98}},
	/* a NaN weight counts as 0. */
	{"nan weight", 2, {NAN, 1}, 10, {0, 0}, {10, 10}, 0, {0, 10}},
	/* weight-0 entries are raised only when the others are full. */
	{"zero raised last", 3, {0, 1, 1}, 100, {0, 0, 0}, {100, 30, 30}, 0, {40, 30, 30}},
	{"lo above total", 2, {1, 1}, 10, {6, 6}, {10, 10}, -1, {0}},
	{"hi below total", 2, {1, 1}, 10, {0, 0}, {4, 4}, -1, {0}},
	{"lo above hi", 2, {1, 1}, 10, {5, 6}, {5, 5}, -1, {0}},
	{"no entries", 0, {0}, 10, {0}, {0}, -1, {0}},
};

static void test_apportion_table(void)
{
	for (size_t c = 0; c < sizeof(app_cases) / sizeof(app_cases[0]); c++) {
		const struct app_case *k = &app_cases[c];
		int out[6] = {0};
		int rc = policy_apportion(k->w, k->n, k->total, k->lo, k->hi, out);
		bool ok = rc == k->rc;
		for (size_t i = 0; ok && rc == 0 && i < k->n; i++)
			ok = out[i] == k->expect[i];
		if (!ok)
			printf("\napportion case \"%s\": rc %d, got %d %d %d %d\n", k->name, rc, out[0],
			       out[1], out[2], out[3]);
		CU_ASSERT(ok);
	}
}

/* ---- single ticks ----------------------------------------------------------- */

struct bm {
	double lat, err, rate; /* NONE: no series */
};

struct step_case {
	const char *name;
	size_t n;
	int weight[4];
	int pin[4];
	void (*tweak)(struct wd_service_cfg *svc);
	struct bm m[4];
	bool no_service_data;
	int expect[4];
	enum wd_action act[4];
	bool write;
	const char *reason[4]; /* a substring each reason must contain; NULL: any */
	double cont[4];        /* expected continuous weights; 0: not checked */
};

static void max60(struct wd_service_cfg *s) { s->policy.max_weight = 60; }
static void min10(struct wd_service_cfg *s) { s->policy.min_weight = 10; }
static void freeze(struct wd_service_cfg *s) { s->freeze = true; }
static void min_rate1(struct wd_service_cfg *s) { s->policy.min_rate = 1; }

#define A WD_ACT_APPLIED
#define H WD_ACT_HELD
#define P WD_ACT_PINNED
#define F WD_ACT_FROZEN
#define E WD_ACT_EJECTED

/* Every case starts from a fresh state (no PID history) whose integers are
 * taken as already written. Defaults: kp 0.2, ki 0.4, kd 0, max_step 0.5. */
static const struct step_case step_cases[] = {
	/* ln cbar = (ln .1 + ln .2)/2, e = +-ln(2)/2 = +-0.34657. No history, so
	 * d = ki*e = +-0.138629; 50e^d : 50e^-d = 1.31951, i.e. 56.887 : 43.113. */
	{"pid: faster gains", 2, {50, 50}, {NP, NP}, NULL,
	 {{0.1, NONE, NONE}, {0.2, NONE, NONE}}, false, {57, 43}, {A, A}, true,
	 {"cost 0.1s vs pool 0.141s", "cost 0.2s vs pool 0.141s"}, {56.8874, 43.1126}},
	/* rates 10/s: n = 1 and 2, g = 1/2 and 1/3; d = 0.069315, -0.046210;
	 * ratio e^0.115525 = 1.12246: 52.885 : 47.115. */
	{"gain schedule 1/(1+n)", 2, {50, 50}, {NP, NP}, NULL,
	 {{0.1, NONE, 10}, {0.2, NONE, 10}}, false, {53, 47}, {A, A}, true, {NULL},
	 {52.8849, 47.1151}},
	/* rates 200/s: n = 20 and 40, both above the cap of 8, so g = 1/9 for
	 * both; d = +-0.138629/9 = +-0.015403: 50.770 : 49.230. The integers
	 * would round to 51 : 49, but the continuous weights moved less than the
	 * deadband of 1 from the written 50 : 50: no write yet. */
	{"gain schedule stops at n = 8", 2, {50, 50}, {NP, NP}, NULL,
	 {{0.1, NONE, 200}, {0.2, NONE, 200}}, false, {50, 50}, {H, H}, false,
	 {"move +1 below deadband 1", "move -1 below deadband 1"}, {50.7701, 49.2299}},
	/* cost = .1*(1 + 10*.1) = .2 equals .2*(1 + 0): no error, no move. */
	{"error penalty in cost", 2, {50, 50}, {NP, NP}, NULL,
	 {{0.1, 0.1, NONE}, {0.2, 0.0, NONE}}, false, {50, 50}, {H, H}, false,
	 {"cost 0.2s vs pool 0.2s", "cost 0.2s vs pool 0.2s"}, {50, 50}},
	/* e = +-ln(10) = 2.3026, ki*e = 0.921 > ln 1.5: limited; 1.5 : 1/1.5. */
	{"step limit ln(1+max_step)", 2, {50, 50}, {NP, NP}, NULL,
	 {{0.01, NONE, NONE}, {1.0, NONE, NONE}}, false, {69, 31}, {A, A}, true, {NULL},
	 {69.2308, 30.7692}},
	/* 69.2 : 30.8 clamped at max 60. */
	{"max_weight clamp", 2, {50, 50}, {NP, NP}, max60,
	 {{0.01, NONE, NONE}, {1.0, NONE, NONE}}, false, {60, 40}, {A, A}, true, {NULL},
	 {60, 40}},
	/* b1, b2 would fall to 6.67 but stop at min 10, so b0 stays at 80. */
	{"min_weight clamp", 3, {80, 10, 10}, {NP, NP, NP}, min10,
	 {{0.01, NONE, NONE}, {1.0, NONE, NONE}, {1.0, NONE, NONE}}, false, {80, 10, 10},
	 {H, H, H}, false, {NULL}, {80, 10, 10}},
	/* at the threshold: b0 to min 1; b1, b2 equal share 99: 49.5 each. */
	{"eject at eject_error_ratio", 3, {34, 33, 33}, {NP, NP, NP}, NULL,
	 {{0.1, 0.5, NONE}, {0.1, NONE, NONE}, {0.1, NONE, NONE}}, false, {1, 50, 49},
	 {E, A, A}, true, {"error ratio 0.5 >= 0.5", NULL, NULL}, {1, 49.5, 49.5}},
	/* eject needs no latency. */
	{"eject without latency", 2, {50, 50}, {NP, NP}, NULL,
	 {{NONE, 0.9, NONE}, {0.1, NONE, NONE}}, false, {1, 99}, {E, A}, true, {NULL},
	 {1, 99}},
	/* the sync already made the start a valid output (30 + 33 : 33 filled to
	 * 100 = 30, 35, 35); equal costs move nothing: no write. */
	{"pin", 3, {34, 33, 33}, {30, NP, NP}, NULL,
	 {{0.1, NONE, NONE}, {0.1, NONE, NONE}, {0.1, NONE, NONE}}, false, {30, 35, 35},
	 {P, H, H}, false, {"pinned to 30", NULL, NULL}, {30, 35, 35}},
	{"drain by pin 0", 3, {34, 33, 33}, {0, NP, NP}, NULL,
	 {{0.1, NONE, NONE}, {0.1, NONE, NONE}, {0.2, NONE, NONE}}, false, {0, 57, 43},
	 {P, A, A}, true, {"drained", NULL, NULL}, {0, 56.8874, 43.1126}},
	{"freeze", 2, {70, 30}, {NP, NP}, freeze, {{0.5, NONE, NONE}, {0.1, NONE, NONE}},
	 false, {70, 30}, {F, F}, false, {"frozen by config", "frozen by config"}, {70, 30}},
	/* the sync filled the start to total (20, 40, 40); frozen, it holds. */
	{"freeze keeps pins", 3, {34, 33, 33}, {20, NP, NP}, freeze,
	 {{0.5, NONE, NONE}, {0.1, NONE, NONE}, {0.1, NONE, NONE}}, false, {20, 40, 40},
	 {P, F, F}, false, {NULL}, {20, 40, 40}},
	{"service queries failed", 2, {70, 30}, {NP, NP}, NULL,
	 {{0.5, NONE, NONE}, {0.1, NONE, NONE}}, true, {70, 30}, {H, H}, false,
	 {"service queries failed", "service queries failed"}, {70, 30}},
	{"no backend has data", 2, {70, 30}, {NP, NP}, NULL,
	 {{NONE, NONE, NONE}, {NONE, NONE, NONE}}, false, {70, 30}, {H, H}, false,
	 {"no data for any backend", "no data for any backend"}, {70, 30}},
	/* b0 held at 34; b1, b2 share 66 as 1.31951 : 1 = 37.546 : 28.454. */
	{"one backend without data", 3, {34, 33, 33}, {NP, NP, NP}, NULL,
	 {{NONE, NONE, NONE}, {0.1, NONE, NONE}, {0.2, NONE, NONE}}, false, {34, 38, 28},
	 {H, A, A}, true, {"no data: no latency series (tick 1 of 4)", NULL, NULL},
	 {34, 37.5457, 28.4543}},
	/* b0 held; b1, b2 (n = 0.5, 1: g = 2/3, 1/2) share 66: d = 0.092420,
	 * -0.069315, ratio e^0.161735 = 1.17555: 35.663 : 30.337. */
	{"rate below min_rate is no data", 3, {34, 33, 33}, {NP, NP, NP}, min_rate1,
	 {{0.1, NONE, 0.5}, {0.1, NONE, 5}, {0.2, NONE, 5}}, false, {34, 36, 30},
	 {H, A, A}, true, {"rate 0.5/s below min_rate 1/s", NULL, NULL}, {34, 35.6628, 30.3372}},
	/* the same with b0 failing 90 %: its error ratio is as thin as its
	 * latency, so it is held, not ejected. */
	{"thin backend is not ejected", 3, {34, 33, 33}, {NP, NP, NP}, min_rate1,
	 {{0.1, 0.9, 0.5}, {0.1, NONE, 5}, {0.2, NONE, 5}}, false, {34, 36, 30},
	 {H, A, A}, true, {"rate 0.5/s below min_rate 1/s", NULL, NULL}, {34, 35.6628, 30.3372}},
	{"NaN latency is no data", 2, {50, 50}, {NP, NP}, NULL,
	 {{NAN, NONE, NONE}, {0.1, NONE, NONE}}, false, {50, 50}, {H, H}, false,
	 {"not a usable value", NULL}, {50, 50}},
};

/* Raw values, screened by the data rules as measure_fill screens them (the
 * policy trusts what it gets). */
static void fill_measurements(const struct wd_policy_cfg *pc, const struct bm *b, size_t n,
			      struct wd_measurement *m)
{
	for (size_t i = 0; i < n; i++) {
		memset(&m[i], 0, sizeof(m[i]));
		if (!(b[i].lat == NONE)) {
			m[i].has_latency = true;
			m[i].latency_s = b[i].lat;
		}
		if (b[i].err != NONE) {
			m[i].has_error = true;
			m[i].error_ratio = b[i].err;
		}
		if (b[i].rate != NONE) {
			m[i].has_rate = true;
			m[i].rate = b[i].rate;
		}
		measure_screen(pc, false, &m[i]);
	}
}

static void test_step_table(void)
{
	for (size_t c = 0; c < sizeof(step_cases) / sizeof(step_cases[0]); c++) {
		const struct step_case *k = &step_cases[c];
		struct pf_service f;
		pf_init(&f, k->n, k->weight);
		for (size_t i = 0; i < k->n; i++)
			f.b[i].pin = k->pin[i];
		if (k->tweak)
			k->tweak(&f.svc);
		struct wd_service_state st = {0};
		CU_ASSERT_FATAL(policy_state_sync(&st, &f.svc) == 0);
		st.dirty = false; /* as if the synced integers were written */
		struct wd_measurement m[4];
		struct wd_decision d[4];
		fill_measurements(&f.svc.policy, k->m, k->n, m);
		bool w = policy_step(&f.svc, &st, m, !k->no_service_data, d);
		bool ok = w == k->write;
		for (size_t i = 0; i < k->n; i++) {
			ok = ok && st.b[i].out_weight == k->expect[i] && d[i].new_weight == k->expect[i];
			ok = ok && d[i].action == k->act[i];
			ok = ok && (!k->reason[i] || strstr(d[i].reason, k->reason[i]));
			ok = ok && (k->cont[i] == 0 || fabs(st.b[i].weight - k->cont[i]) < 1e-3);
		}
		if (!ok) {
			printf("\nstep case \"%s\": write %d\n", k->name, w);
			for (size_t i = 0; i < k->n; i++)
				printf("  b%zu: %d -> %d (%.4f) %s \"%s\"\n", i, d[i].old_weight,
				       d[i].new_weight, st.b[i].weight, policy_action_name(d[i].action),
				       d[i].reason);
		}
		CU_ASSERT(ok);
		policy_state_free(&st);
	}
}

/* ---- sequences -------------------------------------------------------------- */

/* A synced state whose integers count as written. */
static void setup(struct pf_service *f, struct wd_service_state *st, size_t n, const int *w)
{
	pf_init(f, n, w);
	memset(st, 0, sizeof(*st));
	CU_ASSERT_FATAL(policy_state_sync(st, &f->svc) == 0);
	st->dirty = false;
}

/* Sets a backend's learned state (as a restart from the state file would). */
static void learned(struct wd_service_state *st, size_t i, double w, int out)
{
	st->b[i].weight = w;
	st->b[i].out_weight = out;
}

static void test_velocity_pid_with_history(void)
{
	/* kd 0.1; b0 had e' = 0.2, e'' = 0.1 (b1 the mirror). e = 0.34657:
	 * d = 0.2*(e - 0.2) + 0.4*e + 0.1*(e - 0.4 + 0.1) = 0.172602;
	 * ratio e^(2d) = 1.41227: 58.545 : 41.455. */
	struct pf_service f;
	struct wd_service_state st;
	setup(&f, &st, 2, (int[]){50, 50});
	f.svc.policy.kd = 0.1;
	st.b[0].e1 = 0.2, st.b[0].e2 = 0.1, st.b[0].n_err = 2;
	st.b[1].e1 = -0.2, st.b[1].e2 = -0.1, st.b[1].n_err = 2;
	struct wd_measurement m[2] = {pf_lat(0.1), pf_lat(0.2)};
	struct wd_decision d[2];
	CU_ASSERT(policy_step(&f.svc, &st, m, true, d));
	CU_ASSERT_DOUBLE_EQUAL(st.b[0].weight, 58.5454, 1e-3);
	CU_ASSERT_EQUAL(st.b[0].out_weight, 59);
	CU_ASSERT_EQUAL(st.b[1].out_weight, 41);
	CU_ASSERT_DOUBLE_EQUAL(d[0].error, 0.346574, 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(st.b[0].e1, 0.346574, 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(st.b[0].e2, 0.2, 1e-12);
	CU_ASSERT_EQUAL(st.b[0].n_err, 2);
	CU_ASSERT_DOUBLE_EQUAL(d[0].cost, 0.1, 1e-12);
	CU_ASSERT_EQUAL(d[0].old_weight, 50);
	CU_ASSERT_EQUAL(d[0].new_weight, 59);
	policy_state_free(&st);
}

static void test_stale_drifts_toward_initial(void)
{
	/* Learned 10 : 90 from an initial 50 : 50. b0 loses its data: held for
	 * stale_ticks = 4 ticks, then x1.5 a tick toward 50: 15, 22.5, 33.75, 50. */
	struct pf_service f;
	struct wd_service_state st;
	setup(&f, &st, 2, (int[]){50, 50});
	learned(&st, 0, 10, 10);
	learned(&st, 1, 90, 90);
	struct wd_measurement m[2] = {{0}, pf_lat(0.1)};
	struct wd_decision d[2];
	static const int want0[] = {10, 10, 10, 10, 15, 23, 34, 50, 50};
	static const enum wd_action act0[] = {H, H, H, H, WD_ACT_STALE, WD_ACT_STALE,
					      WD_ACT_STALE, WD_ACT_STALE, WD_ACT_STALE};
	for (size_t t = 0; t < sizeof(want0) / sizeof(want0[0]); t++) {
		/* b1's samples are new every tick (an exact repeat means none came) */
		m[1].latency_s = 0.1 * (1 + 1e-6 * (double)t);
		bool w = policy_step(&f.svc, &st, m, true, d);
		CU_ASSERT_EQUAL(st.b[0].out_weight, want0[t]);
		CU_ASSERT_EQUAL(st.b[1].out_weight, 100 - want0[t]);
		CU_ASSERT_EQUAL(d[0].action, act0[t]);
		CU_ASSERT_EQUAL(w, t >= 4 && t <= 7);
		if (t < 4) {
			char buf[64];
			snprintf(buf, sizeof(buf), "tick %zu of 4", t + 1);
			CU_ASSERT_PTR_NOT_NULL(strstr(d[0].reason, buf));
		}
	}
	CU_ASSERT_DOUBLE_EQUAL(st.b[0].weight, 50, 1e-9);
	/* Data again: the stale count resets and the backend is steered. */
	m[0] = pf_lat(0.1);
	policy_step(&f.svc, &st, m, true, d);
	CU_ASSERT_EQUAL(st.b[0].stale, 0);
	CU_ASSERT_EQUAL(d[0].action, H); /* equal costs: no move, nothing to write */
	CU_ASSERT_PTR_NOT_NULL(strstr(d[0].reason, "cost 0.1s vs pool 0.1s"));
	policy_state_free(&st);
}

/* A measurement with a rate. */
static struct wd_measurement lat_rate(double lat, double rate)
{
	struct wd_measurement m = pf_lat(lat);
	m.has_rate = true;
	m.rate = rate;
	return m;
}

static void test_thin_signal_held_or_probed(void)
{
	/* b2 was starved to weight 2 and its latency is an overload left over
	 * from when it had traffic: 0.1 req/s over the (four-tick, 60 s)
	 * window is 6 requests, below min_requests 10. The old rule pushed it
	 * further down; now it is probed back, one step a tick, toward the
	 * weight that would give it twice min_requests a window: 100 x 20 /
	 * (10.1 req/s x 60 s) = 3.3. */
	struct pf_service f;
	struct wd_service_state st;
	setup(&f, &st, 3, (int[]){49, 49, 2});
	learned(&st, 0, 49, 49);
	learned(&st, 1, 49, 49);
	learned(&st, 2, 2, 2);
	struct wd_measurement m[3] = {lat_rate(0.1, 5), lat_rate(0.1, 5), lat_rate(5.0, 0.1)};
	struct wd_decision d[3];
	CU_ASSERT(policy_step(&f.svc, &st, m, true, d));
	CU_ASSERT_EQUAL(d[2].action, WD_ACT_PROBING);
	CU_ASSERT_PTR_NOT_NULL(strstr(d[2].reason, "signal from 6 requests (min_requests 10)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(d[2].reason, "probing back toward weight 3.3"));
	CU_ASSERT_EQUAL(st.b[2].out_weight, 3);
	/* once at the probe's share it holds there, never pushed down */
	for (int t = 0; t < 5; t++) {
		m[0].latency_s *= 1.0001; /* new samples every tick */
		policy_step(&f.svc, &st, m, true, d);
		CU_ASSERT(st.b[2].out_weight >= 3);
	}
	CU_ASSERT_EQUAL(d[2].action, H);
	CU_ASSERT_PTR_NOT_NULL(strstr(d[2].reason, ": holding"));
	/* enough requests again: steered on its (slow) latency, and down it goes */
	m[2] = lat_rate(5.0, 1);
	int before = st.b[2].out_weight;
	policy_step(&f.svc, &st, m, true, d);
	CU_ASSERT_PTR_NOT_NULL(strstr(d[2].reason, "cost 5s vs pool"));
	CU_ASSERT(st.b[2].weight < before);
	policy_state_free(&st);

	/* Every signal thin (a quiet service): everything holds, nothing probes. */
	setup(&f, &st, 2, (int[]){90, 10});
	struct wd_measurement q[2] = {lat_rate(0.1, 0.1), lat_rate(0.5, 0.01)};
	CU_ASSERT(!policy_step(&f.svc, &st, q, true, d));
	CU_ASSERT_EQUAL(d[0].action, H);
	CU_ASSERT_EQUAL(d[1].action, H);
	CU_ASSERT_EQUAL(st.b[1].out_weight, 10);
	policy_state_free(&st);
}

static void test_repeated_latency_is_stale(void)
{
	/* No rate query: a starved backend (below half a fair share) whose
	 * latency repeats exactly for longer than the signal's delay (five
	 * ticks at the reference) is no longer pushed on it. */
	struct pf_service f;
	struct wd_service_state st;
	setup(&f, &st, 3, (int[]){48, 48, 4});
	struct wd_measurement m[3] = {pf_lat(0.1), pf_lat(0.1), pf_lat(0.4)};
	struct wd_decision d[3] = {{0}};
	int t;
	for (t = 0; t < 10 && !strstr(d[2].reason, "unchanged"); t++) {
		m[0].latency_s *= 1.001; /* the others get new samples */
		m[1].latency_s *= 1.001;
		policy_step(&f.svc, &st, m, true, d);
	}
	/* the same value in six ticks: over the delay of five; without rates
	 * the probe's share is a quarter of a fair share */
	CU_ASSERT_EQUAL(t, 6);
	CU_ASSERT_EQUAL(d[2].action, WD_ACT_PROBING);
	CU_ASSERT_PTR_NOT_NULL(strstr(d[2].reason, "latency unchanged for 6 ticks: probing back toward weight 8.33"));
	policy_state_free(&st);
}

static void test_sample_spacing(void)
{
	/* A 30 s scrape read every 15 s: every other tick sees nothing new. */
	struct pf_service f;
	struct wd_service_state st;
	setup(&f, &st, 2, NULL);
	struct wd_measurement m[2] = {pf_lat(0.1), pf_lat(0.1)};
	struct wd_decision d[2];
	for (int t = 0; t < 40; t++) {
		if (t % 2 == 0) {
			m[0].latency_s *= 1.01;
			m[1].latency_s *= 0.99;
		}
		policy_step(&f.svc, &st, m, true, d);
		if (t < POLICY_SPACING_MIN_TICKS - 1)
			CU_ASSERT_DOUBLE_EQUAL(policy_sample_spacing(&st), 1.0, 1e-12);
	}
	CU_ASSERT_DOUBLE_EQUAL(policy_sample_spacing(&st), 2.0, 0.25);
	policy_state_free(&st);
	/* fresh every tick */
	setup(&f, &st, 2, NULL);
	for (int t = 0; t < 40; t++) {
		m[0].latency_s *= 1.01;
		policy_step(&f.svc, &st, m, true, d);
	}
	CU_ASSERT_DOUBLE_EQUAL(policy_sample_spacing(&st), 1.0, 1e-12);
	policy_state_free(&st);
}

static void test_leasttime_mode(void)
{
	/* Under Traefik's leasttime a weight divides the balancer's latency
	 * score: latency alone never takes a backend below a quarter of a fair
	 * share (errors still do), moves under a tenth of the total are not
	 * written (each write wipes the balancer's history), and a backend the
	 * balancer starves (no data) gets the write that rebuilds it. */
	struct pf_service f;
	struct wd_service_state st;
	setup(&f, &st, 4, NULL);
	f.svc.policy.leasttime = true;
	struct wd_measurement m[4] = {pf_lat(0.1), pf_lat(0.1), pf_lat(0.1), pf_lat(2.0)};
	struct wd_decision d[4];
	unsigned writes = 0;
	for (int t = 0; t < 40; t++) {
		for (int i = 0; i < 4; i++)
			m[i].latency_s *= 1.0001; /* new samples every tick */
		if (policy_step(&f.svc, &st, m, true, d)) {
			writes++;
			bool big = false; /* some weight moved by the deadband of 10 */
			for (int i = 0; i < 4; i++)
				big |= abs(st.b[i].out_weight - d[i].old_weight) >= 10;
			CU_ASSERT(big || t == 0);
		}
	}
	CU_ASSERT(st.b[3].weight >= 25.0 / 4 - 1e-9);
	CU_ASSERT(st.b[3].out_weight >= 6);
	CU_ASSERT(writes >= 1 && writes <= 4);
	/* errors take it lower */
	m[3].has_error = true;
	m[3].error_ratio = 0.2;
	for (int t = 0; t < 20; t++) {
		for (int i = 0; i < 4; i++)
			m[i].latency_s *= 1.0001;
		policy_step(&f.svc, &st, m, true, d);
	}
	CU_ASSERT(st.b[3].out_weight < 6);
	/* starved: no data for stale_ticks, then one forced write */
	m[3] = (struct wd_measurement){0};
	bool wrote[8];
	for (int t = 0; t < 8; t++) {
		for (int i = 0; i < 3; i++)
			m[i].latency_s *= 1.0001;
		wrote[t] = policy_step(&f.svc, &st, m, true, d);
	}
	CU_ASSERT(!wrote[0] && !wrote[1] && !wrote[2]);
	CU_ASSERT(wrote[4]); /* the tick it turns stale (after 4 held) */
	CU_ASSERT_EQUAL(d[3].action, WD_ACT_STALE);
	policy_state_free(&st);
}

static void test_leasttime_recovery_and_steering(void)
{
	/* Under leasttime an ejected backend is left out (weight 0), and stays
	 * out while it has no data. Once its window has forgotten it (no data
	 * past stale_ticks) it goes back to the floor, a quarter of a fair
	 * share, in one write: the deadband of a tenth of the total held the
	 * step-by-step probe at 1 or 2 for minutes. */
	struct pf_service f;
	struct wd_service_state st;
	setup(&f, &st, 3, NULL);
	f.svc.policy.leasttime = true;
	struct wd_measurement m[3] = {pf_lat(0.1), pf_lat(0.1), pf_lat(0.1)};
	for (int i = 0; i < 3; i++)
		m[i].has_error = true;
	struct wd_decision d[3];
	policy_step(&f.svc, &st, m, true, d);
	m[2].error_ratio = 0.9;
	policy_step(&f.svc, &st, m, true, d);
	CU_ASSERT_EQUAL(d[2].action, WD_ACT_EJECTED);
	CU_ASSERT_EQUAL(st.b[2].out_weight, 0);
	m[2] = (struct wd_measurement){0};
	int t = 0, early_writes = 0;
	for (; t < 12 && st.b[2].out_weight < 8; t++) {
		m[0].latency_s *= 1.0001;
		m[1].latency_s *= 0.9999;
		bool wrote = policy_step(&f.svc, &st, m, true, d);
		if (t < 4) /* held, and left out: weight 1 would only rebuild the balancer */
			early_writes += wrote || st.b[2].out_weight != 0;
	}
	CU_ASSERT_EQUAL(early_writes, 0);
	CU_ASSERT_EQUAL(t, 5); /* four ticks held, then the stale tick */
	CU_ASSERT_EQUAL(st.b[2].out_weight, 8);
	policy_state_free(&st);

	/* A backend leasttime already sends under a third of its weight's share
	 * of the requests (a cold restart) is not cut for its latency; one it
	 * sends two thirds of it is. */
	for (int k = 0; k < 2; k++) {
		setup(&f, &st, 3, NULL);
		f.svc.policy.leasttime = true;
		struct wd_measurement r[3] = {pf_lat(0.1), pf_lat(0.1), pf_lat(0.3)};
		double rate[3] = {100, 100, k == 0 ? 10 : 45};
		for (int i = 0; i < 3; i++) {
			r[i].has_rate = true;
			r[i].rate = rate[i];
		}
		for (t = 0; t < 20; t++) {
			for (int i = 0; i < 3; i++)
				r[i].latency_s *= 1.0001;
			policy_step(&f.svc, &st, r, true, d);
		}
		if (k == 0) {
			CU_ASSERT_EQUAL(st.b[2].out_weight, 33);
			CU_ASSERT_PTR_NOT_NULL(strstr(d[2].reason, "leasttime sends it 5% of the requests: holding"));
		} else {
			CU_ASSERT(st.b[2].out_weight < 23);
		}
		policy_state_free(&st);
	}
}

static void test_eject_on_the_newest_tick(void)
{
	/* Failures that began a tick ago show as a quarter of their ratio in a
	 * four-tick window; the window's move (0 -> 0.2) says the newest tick
	 * failed 0.8: ejected now, not three ticks later. A small rise (0.01 ->
	 * 0.03, 0.09 newest) ejects nothing. */
	struct pf_service f;
	struct wd_service_state st;
	setup(&f, &st, 3, NULL);
	struct wd_measurement m[3] = {pf_lat(0.1), pf_lat(0.1), pf_lat(0.1)};
	for (int i = 0; i < 3; i++) {
		m[i].has_error = true;
		m[i].error_ratio = i == 1 ? 0.01 : 0;
	}
	struct wd_decision d[3];
	policy_step(&f.svc, &st, m, true, d);
	m[0].error_ratio = 0.2;
	m[1].error_ratio = 0.03;
	m[2].latency_s *= 1.001;
	policy_step(&f.svc, &st, m, true, d);
	CU_ASSERT_EQUAL(d[0].action, WD_ACT_EJECTED);
	CU_ASSERT_PTR_NOT_NULL(strstr(d[0].reason, "error ratio 0.2, rising: 0.8 in the newest tick >= 0.5"));
	CU_ASSERT_EQUAL(st.b[0].out_weight, 1);
	CU_ASSERT_NOT_EQUAL(d[1].action, WD_ACT_EJECTED);
	policy_state_free(&st);
}

static void test_probation_ramps_a_recovered_backend(void)
{
	/* b2 was ejected; its failures stop. While its window still holds
	 * them (errors falling) and its latency is well below the pool's, it
	 * ramps by a full step a tick and is at its fair share within 10
	 * ticks of its error ratio falling below eject_error_ratio. The old
	 * rule climbed from min_weight by the PID alone (30 after 20 ticks). */
	struct pf_service f;
	struct wd_service_state st;
	setup(&f, &st, 3, NULL);
	struct wd_measurement m[3] = {pf_lat(0.1), pf_lat(0.1), pf_lat(0.05)};
	for (int i = 0; i < 3; i++) {
		m[i].has_error = true;
		m[i].error_ratio = 0;
	}
	m[2].error_ratio = 0.8;
	struct wd_decision d[3];
	for (int t = 0; t < 3; t++)
		policy_step(&f.svc, &st, m, true, d);
	CU_ASSERT_EQUAL(d[2].action, WD_ACT_EJECTED);
	CU_ASSERT_EQUAL(st.b[2].out_weight, 1);
	int t;
	for (t = 0; t < 20 && st.b[2].out_weight < 30; t++) {
		m[2].error_ratio = m[2].error_ratio > 0.1 ? m[2].error_ratio - 0.1 : 0;
		m[0].latency_s *= 1.0001;
		m[1].latency_s *= 1.0001;
		m[2].latency_s *= 1.0001;
		double before = st.b[2].weight;
		policy_step(&f.svc, &st, m, true, d);
		if (m[2].error_ratio < 0.5) /* ramping: half again at least, or at a fair share */
			CU_ASSERT(st.b[2].probation == WD_PROBATION_RAMPING &&
				  (st.b[2].weight >= 1.5 * before || st.b[2].weight >= 30));
	}
	printf("\nrecovered backend at weight %d after %d ticks\n", st.b[2].out_weight, t);
	CU_ASSERT(st.b[2].out_weight >= 30);
	CU_ASSERT(t <= 3 + 10); /* ejected for three more ticks, then 10 */
	/* at its fair share, probation is over: the PID steers it again */
	policy_step(&f.svc, &st, m, true, d);
	CU_ASSERT_PTR_NULL(strstr(d[2].reason, "ramping"));
	CU_ASSERT_EQUAL(st.b[2].probation, WD_PROBATION_NONE);
	policy_state_free(&st);
}

static void test_deadband(void)
{
	/* deadband 5, costs 0.1 vs 0.11: the integers creep 1 a tick at most, so
	 * nothing is written until the gap reaches 5; the continuous weight
	 * integrates meanwhile. */
	struct pf_service f;
	struct wd_service_state st;
	setup(&f, &st, 2, (int[]){50, 50});
	f.svc.policy.deadband = 5;
	struct wd_measurement m[2] = {pf_lat(0.1), pf_lat(0.11)};
	struct wd_decision d[2];
	int t, first_write = -1;
	for (t = 0; t < 30 && first_write < 0; t++) {
		double before = st.b[0].weight;
		if (policy_step(&f.svc, &st, m, true, d)) {
			first_write = t;
			CU_ASSERT(st.b[0].out_weight - d[0].old_weight >= 5);
			CU_ASSERT_EQUAL(d[0].action, A);
		} else {
			CU_ASSERT_EQUAL(st.b[0].out_weight, 50);
			CU_ASSERT(st.b[0].weight > before);
			CU_ASSERT_EQUAL(d[0].action, H);
			if (lround(st.b[0].weight) != 50)
				CU_ASSERT_PTR_NOT_NULL(strstr(d[0].reason, "below deadband 5"));
		}
	}
	CU_ASSERT(first_write > 1);
	policy_state_free(&st);
}

/* Two backends at 50 : 50, the first 5 % slower, both with many requests in
 * flight (rate x latency about 8; the prediction takes at most 4): moving load to the second would push it up
 * its queue's curve more than it relieves the first, so the fleet's
 * predicted p95 rises and the one-point moves the controller asks for are
 * not written, with the reason, and the controller restarts from the written
 * weights each time (no windup). With few in flight (0.5) the same gap is
 * worth a move, and it is written. */
static void test_small_move_needs_predicted_gain(void)
{
	for (int busy = 1; busy >= 0; busy--) {
		struct pf_service f;
		struct wd_service_state st;
		setup(&f, &st, 2, (int[]){50, 50});
		double rate = busy ? 80 : 5;
		struct wd_measurement m[2] = {lat_rate(0.105, rate), lat_rate(0.1, rate)};
		struct wd_decision d[2];
		int writes = 0, vetoed = 0;
		for (int t = 0; t < 300; t++) {
			if (policy_step(&f.svc, &st, m, true, d)) {
				writes++;
				continue;
			}
			if (strstr(d[0].reason, "would not lower the predicted p95")) {
				vetoed++;
				CU_ASSERT_EQUAL(st.b[0].out_weight, 50);
				CU_ASSERT_DOUBLE_EQUAL(st.b[0].weight, 50, 1e-9);
				CU_ASSERT_EQUAL(d[0].action, H);
			}
		}
		printf("\n%s in flight: %d writes, %d moves not written\n", busy ? "8" : "0.5", writes,
		       vetoed);
		if (busy) {
			CU_ASSERT_EQUAL(writes, 0);
			CU_ASSERT(vetoed > 0);
		} else {
			CU_ASSERT(writes > 0);
			CU_ASSERT(st.b[0].out_weight < 50);
			CU_ASSERT_EQUAL(vetoed, 0);
		}
		policy_state_free(&st);
	}
}

/* Two backends at 50 : 50 with few requests in flight, where a one-point
 * move is worth writing: the first 20 % slower until a move off it is
 * written, then the second. The move back takes back that write within a
 * signal window, and the prediction does not lower the p95 by 5 % for it:
 * it is held, with the reason, until a window has passed without a write;
 * then it is written (the same move, as any small one, needs only a lower
 * predicted p95). */
static void test_small_move_back_waits_a_window(void)
{
	struct pf_service f;
	struct wd_service_state st;
	setup(&f, &st, 2, (int[]){50, 50});
	struct wd_measurement m[2] = {lat_rate(0.12, 5), lat_rate(0.1, 5)};
	struct wd_decision d[2];
	int t = 0;
	while (t < 50 && !policy_step(&f.svc, &st, m, true, d))
		t++;
	CU_ASSERT_FATAL(t < 50);
	CU_ASSERT(st.b[0].out_weight < 50);
	/* the queries name no window: the default of four ticks */
	int after = st.b[0].out_weight, window = DELAY_REF_TICKS_PER_WINDOW;
	m[0] = lat_rate(0.1, 5);
	m[1] = lat_rate(0.12, 5);
	int held = 0, back = -1;
	for (int k = 0; k < 50 && back < 0; k++) {
		if (policy_step(&f.svc, &st, m, true, d)) {
			back = k;
			break;
		}
		if (strstr(d[0].reason, "by 5 % (it takes back the last write)")) {
			held++;
			CU_ASSERT_EQUAL(st.b[0].out_weight, after);
		}
	}
	printf("\nmove back held %d ticks, written at tick %d after the first\n", held, back);
	CU_ASSERT(held > 0);
	CU_ASSERT(back > window);
	CU_ASSERT(st.b[0].out_weight > after);
	policy_state_free(&st);
}

/* Noise the controller chases: two backends whose latencies swap every
 * tick (0.10 s and 0.15 s), so every tick asks for a move back. */
static void swapping_latencies(struct wd_measurement m[2], int t)
{
	m[0] = pf_lat(t % 2 ? 0.15 : 0.1);
	m[1] = pf_lat(t % 2 ? 0.1 : 0.15);
}

/* The noise of swapping_latencies. With a write budget of 25 per 100
 * ticks no 100 ticks in a row hold more than 25 writes, a move that waits
 * says why (in its reason and in the state the metrics export) and leaves
 * the controller at the written weights (no windup), and an ejection is
 * written at once however spent the budget is. Without a budget
 * (write_budget = 0) the same noise is written every tick. */
static void test_write_budget(void)
{
	for (int budget = 25; budget >= 0; budget -= 25) {
		struct pf_service f;
		struct wd_service_state st;
		setup(&f, &st, 2, (int[]){50, 50});
		CU_ASSERT_EQUAL(f.svc.policy.write_budget, 25); /* the default */
		f.svc.policy.write_budget = budget;
		struct wd_decision d[2];
		bool wrote[300];
		int writes = 0, waited = 0, most = 0;
		for (int t = 0; t < 300; t++) {
			struct wd_measurement m[2];
			swapping_latencies(m, t);
			wrote[t] = policy_step(&f.svc, &st, m, true, d);
			writes += wrote[t];
			CU_ASSERT_EQUAL(st.budget_waiting,
					!wrote[t] && strstr(d[0].reason, "waits: write budget") != NULL);
			if (!wrote[t] && strstr(d[0].reason, "waits: write budget of 25 per 100 ticks spent")) {
				waited++;
				CU_ASSERT_EQUAL(d[0].action, H);
				CU_ASSERT_DOUBLE_EQUAL(st.b[0].weight, st.b[0].out_weight, 1e-9);
				CU_ASSERT_DOUBLE_EQUAL(st.b[1].weight, st.b[1].out_weight, 1e-9);
			}
			int in_100 = 0;
			for (int k = t; k >= 0 && k > t - 100; k--)
				in_100 += wrote[k];
			if (in_100 > most)
				most = in_100;
		}
		printf("\nwrite_budget %d: %d writes in 300 ticks, at most %d in 100, %d moves waited\n",
		       budget, writes, most, waited);
		if (budget) {
			CU_ASSERT(most <= 25);
			CU_ASSERT(waited > 0);
			/* a tick whose queries failed holds everything: no move waits */
			for (int t = 300; t < 310 && !st.budget_waiting; t++) {
				struct wd_measurement m[2];
				swapping_latencies(m, t);
				policy_step(&f.svc, &st, m, true, d);
			}
			CU_ASSERT_TRUE(st.budget_waiting);
			policy_step(&f.svc, &st, NULL, false, d);
			CU_ASSERT_FALSE(st.budget_waiting);
			/* spent: an ejection does not wait */
			struct wd_measurement m[2] = {pf_lat(0.1), pf_lat(0.1)};
			m[1].has_error = true;
			m[1].error_ratio = 0.9;
			CU_ASSERT(st.write_debt + 1.0 > 5.0);
			CU_ASSERT_TRUE(policy_step(&f.svc, &st, m, true, d));
			CU_ASSERT_EQUAL(st.b[1].out_weight, f.svc.policy.min_weight);
		} else {
			CU_ASSERT_EQUAL(writes, 300);
			CU_ASSERT_EQUAL(waited, 0);
		}
		policy_state_free(&st);
	}
}

/* A write that carries a move not the PID's (here an ejection) spends none
 * of the write budget: the steering that follows it still has the whole
 * burst. */
static void test_write_budget_spares_the_exempt(void)
{
	struct pf_service f;
	struct wd_service_state st;
	setup(&f, &st, 2, (int[]){50, 50});
	f.svc.policy.write_budget = 25;
	struct wd_decision d[2];
	struct wd_measurement m[2] = {pf_lat(0.1), pf_lat(0.1)};
	m[1].has_error = true;
	m[1].error_ratio = 0.9;
	CU_ASSERT_TRUE(policy_step(&f.svc, &st, m, true, d));
	CU_ASSERT_EQUAL(d[1].action, WD_ACT_EJECTED);
	CU_ASSERT_DOUBLE_EQUAL(st.write_debt, 0.0, 1e-9);
	policy_state_free(&st);
}

/* A backend that turns four times as slow as the pool, at a load that
 * keeps the controller's steps small (2-3 points a tick), after noise has
 * spent the write budget. For a signal window it may be noise (a few slow
 * requests in a heavy-tailed p95): its moves wait like any. Slow for
 * longer, it is a slowdown: its moves are urgent and none waits, so it
 * loses its traffic at the controller's pace (at 1 s ticks such a backend
 * once stopped at 26 % of the traffic for 22 s, tests/integration/086). */
static void test_write_budget_spares_a_slowdown(void)
{
	struct pf_service f;
	struct wd_service_state st;
	setup(&f, &st, 2, (int[]){50, 50});
	f.svc.policy.write_budget = 25;
	f.svc.policy.tick_ms = 15000;
	f.svc.policy.signal_window_ms = 60000;
	struct wd_decision d[2];
	struct wd_measurement m[2];
	for (int t = 0; t < 40; t++) { /* noise spends the budget */
		swapping_latencies(m, t);
		policy_step(&f.svc, &st, m, true, d);
	}
	int window = (int)(f.svc.policy.signal_window_ms / f.svc.policy.tick_ms);
	int waited = 0, late_waits = 0, late_writes = 0;
	int before = st.b[1].out_weight;
	for (int t = 0; t < window + 12; t++) {
		m[0] = lat_rate(0.1, 200); /* g = 1/9: small steps */
		m[1] = lat_rate(0.4, 200);
		bool wrote = policy_step(&f.svc, &st, m, true, d);
		bool waits = strstr(d[1].reason, "waits: write budget") != NULL;
		if (t < window)
			waited += waits;
		else {
			late_waits += waits;
			late_writes += wrote;
		}
	}
	printf("\nwindow %d ticks: %d moves waited in it, %d after it; %d writes after it; weight %d -> %d\n",
	       window, waited, late_waits, late_writes, before, st.b[1].out_weight);
	CU_ASSERT(window >= 2);
	CU_ASSERT(waited > 0);
	CU_ASSERT_EQUAL(late_waits, 0);
	CU_ASSERT(late_writes >= 6);
	CU_ASSERT(st.b[1].out_weight <= before - 8);
	CU_ASSERT_PTR_NOT_NULL(strstr(d[1].reason, "; slowdown: three times the rest's cost or more"));
	CU_ASSERT_PTR_NULL(strstr(d[0].reason, "slowdown"));
	policy_state_free(&st);
}

static void test_rounding_noise_is_not_a_move(void)
{
	/* deadband 1: a continuous weight that crosses a rounding boundary
	 * (50 -> 50.77, rounding to 51) is not written; one that has moved a
	 * whole unit from the written weight (-> 51.54) is. The weights written
	 * then are the rounded continuous ones, 52 : 48. */
	struct pf_service f;
	struct wd_service_state st;
	setup(&f, &st, 2, (int[]){50, 50});
	struct wd_measurement m[2] = {pf_lat(0.1), pf_lat(0.2)};
	m[0].has_rate = m[1].has_rate = true;
	m[0].rate = m[1].rate = 200; /* g = 1/9: small steps */
	struct wd_decision d[2];
	CU_ASSERT_FALSE(policy_step(&f.svc, &st, m, true, d));
	CU_ASSERT_EQUAL(st.b[0].out_weight, 50);
	CU_ASSERT_DOUBLE_EQUAL(st.b[0].weight, 50.7701, 1e-3);
	CU_ASSERT_EQUAL(d[0].action, H);
	CU_ASSERT_TRUE(policy_step(&f.svc, &st, m, true, d));
	CU_ASSERT(st.b[0].weight > 51 && st.b[0].weight < 52);
	CU_ASSERT_EQUAL(st.b[0].out_weight, 52);
	CU_ASSERT_EQUAL(st.b[1].out_weight, 48);
	CU_ASSERT_EQUAL(d[0].action, A);
	CU_ASSERT_EQUAL(d[0].old_weight, 50);
	CU_ASSERT_EQUAL(d[0].new_weight, 52);
	policy_state_free(&st);
}

static void test_reload_keeps_backends_by_name(void)
{
	struct pf_service f;
	struct wd_service_state st;
	setup(&f, &st, 3, (int[]){34, 33, 33});
	learned(&st, 0, 60.5, 60);
	learned(&st, 1, 25.5, 26);
	learned(&st, 2, 14, 14);
	st.b[0].e1 = 0.3, st.b[0].n_err = 1;
	/* New config: b1 removed, b2 kept (now first), b9 added at weight 20,
	 * other gains. */
	struct pf_service g;
	pf_init(&g, 3, (int[]){33, 20, 33});
	snprintf(g.names[0], sizeof(g.names[0]), "b2");
	snprintf(g.names[1], sizeof(g.names[1]), "b9");
	snprintf(g.names[2], sizeof(g.names[2]), "b0");
	g.svc.policy.ki = 0.1;
	CU_ASSERT_FATAL(policy_state_sync(&st, &g.svc) == 0);
	CU_ASSERT_EQUAL(st.n, 3);
	/* The carried set 14 + 20 + 60 no longer makes total, so the sync fills
	 * the continuous weights 14 : 20 : 60.5 to 100 (14.815 : 21.164 : 64.021,
	 * integers 15, 21, 64): what is written before the first tick with data
	 * is already a valid output. */
	CU_ASSERT_STRING_EQUAL(st.b[0].name, "b2");
	CU_ASSERT_DOUBLE_EQUAL(st.b[0].weight, 14.8148, 1e-3);
	CU_ASSERT_EQUAL(st.b[0].out_weight, 15);
	CU_ASSERT_STRING_EQUAL(st.b[1].name, "b9");
	CU_ASSERT_DOUBLE_EQUAL(st.b[1].weight, 21.1640, 1e-3);
	CU_ASSERT_EQUAL(st.b[1].out_weight, 21);
	CU_ASSERT_EQUAL(st.b[1].n_err, 0);
	CU_ASSERT_STRING_EQUAL(st.b[2].name, "b0");
	CU_ASSERT_DOUBLE_EQUAL(st.b[2].weight, 64.0212, 1e-3);
	CU_ASSERT_EQUAL(st.b[2].out_weight, 64);
	CU_ASSERT_DOUBLE_EQUAL(st.b[2].e1, 0.3, 1e-12);
	CU_ASSERT_EQUAL(st.b[2].n_err, 1);
	CU_ASSERT(st.dirty);
	/* Equal costs, e = 0. b0 kept its memory e' = 0.3, so its proportional
	 * term backs out: d = 0.2*(0 - 0.3) = -0.06, 64.021e^-0.06 = 60.293.
	 * 14.815 : 21.164 : 60.293 scaled to 100 is 15.389 : 21.984 : 62.628;
	 * floors 15, 21, 62 leave 2 units for the largest remainders: 15, 22, 63. */
	struct wd_measurement m[3] = {pf_lat(0.1), pf_lat(0.1), pf_lat(0.1)};
	struct wd_decision d[3];
	CU_ASSERT(policy_step(&g.svc, &st, m, true, d));
	CU_ASSERT_EQUAL(st.b[0].out_weight, 15);
	CU_ASSERT_EQUAL(st.b[1].out_weight, 22);
	CU_ASSERT_EQUAL(st.b[2].out_weight, 63);
	CU_ASSERT_DOUBLE_EQUAL(st.b[2].weight, 62.6278, 1e-3);
	CU_ASSERT(!st.dirty);
	/* The same config again: nothing changed, no write due. */
	CU_ASSERT_FATAL(policy_state_sync(&st, &g.svc) == 0);
	CU_ASSERT(!st.dirty);
	CU_ASSERT(!policy_step(&g.svc, &st, m, true, d));
	/* A rename is a removal plus an addition: the new name starts afresh. */
	snprintf(g.names[2], sizeof(g.names[2]), "b0-new");
	g.b[2].weight = 40;
	CU_ASSERT_FATAL(policy_state_sync(&st, &g.svc) == 0);
	/* 15.389 : 21.984 : 40 filled to 100. */
	CU_ASSERT_DOUBLE_EQUAL(st.b[2].weight, 51.6982, 1e-3);
	CU_ASSERT_EQUAL(st.b[0].out_weight + st.b[1].out_weight + st.b[2].out_weight, 100);
	CU_ASSERT_EQUAL(st.b[2].n_err, 0);
	CU_ASSERT(st.dirty);
	policy_state_free(&st);
	policy_state_free(&st); /* freeing twice is harmless */
}

static void test_freeze_lifted_is_bumpless(void)
{
	struct pf_service f;
	struct wd_service_state st;
	setup(&f, &st, 2, (int[]){50, 50});
	learned(&st, 0, 70, 70);
	learned(&st, 1, 30, 30);
	st.b[0].e1 = 0.9, st.b[0].n_err = 2; /* old memory: would kick if kept */
	st.b[1].e1 = -0.9, st.b[1].n_err = 2;
	f.svc.freeze = true;
	struct wd_measurement m[2] = {pf_lat(0.2), pf_lat(0.1)};
	struct wd_decision d[2];
	CU_ASSERT(!policy_step(&f.svc, &st, m, true, d));
	CU_ASSERT_EQUAL(st.b[0].n_err, 0);
	f.svc.freeze = false;
	/* Lifted: continues from 70 : 30 with only the integral term.
	 * ln cbar = .7 ln .2 + .3 ln .1: e0 = -0.3 ln 2 = -0.207944, e1 = 0.485203;
	 * d = 0.4 e: 70e^-0.083178 : 30e^0.194081 = 64.413 : 36.426 -> 63.877 : 36.123. */
	CU_ASSERT(policy_step(&f.svc, &st, m, true, d));
	CU_ASSERT_DOUBLE_EQUAL(st.b[0].weight, 63.8772, 1e-3);
	CU_ASSERT_EQUAL(st.b[0].out_weight, 64);
	CU_ASSERT_EQUAL(st.b[1].out_weight, 36);
	policy_state_free(&st);
}

static void test_pin_set_and_lifted(void)
{
	struct pf_service f;
	struct wd_service_state st;
	setup(&f, &st, 3, (int[]){34, 33, 33});
	struct wd_measurement m[3] = {pf_lat(0.1), pf_lat(0.1), pf_lat(0.1)};
	struct wd_decision d[3];
	/* Reload pins b0 at 34 (its current integer): nothing moves, but the
	 * pin set changed, so a write is due. */
	f.b[0].pin = 34;
	CU_ASSERT_FATAL(policy_state_sync(&st, &f.svc) == 0);
	CU_ASSERT(policy_step(&f.svc, &st, m, true, d));
	CU_ASSERT_EQUAL(d[0].action, P);
	CU_ASSERT(!policy_step(&f.svc, &st, m, true, d));
	/* Repinned at 20: the others share 80. */
	f.b[0].pin = 20;
	CU_ASSERT(policy_step(&f.svc, &st, m, true, d));
	CU_ASSERT_EQUAL(st.b[0].out_weight, 20);
	CU_ASSERT_EQUAL(st.b[1].out_weight, 40);
	CU_ASSERT_EQUAL(st.b[2].out_weight, 40);
	/* Lifted: continues from 20, not from the configured 34. */
	f.b[0].pin = NP;
	CU_ASSERT(policy_step(&f.svc, &st, m, true, d));
	CU_ASSERT_EQUAL(st.b[0].out_weight, 20);
	CU_ASSERT_EQUAL(d[0].action, A);
	CU_ASSERT(!policy_step(&f.svc, &st, m, true, d));
	/* Drained, then undrained: back at its configured weight 34. */
	f.b[0].pin = 0;
	CU_ASSERT(policy_step(&f.svc, &st, m, true, d));
	CU_ASSERT_EQUAL(st.b[0].out_weight, 0);
	CU_ASSERT_EQUAL(st.b[1].out_weight, 50);
	f.b[0].pin = NP;
	m[0] = (struct wd_measurement){0}; /* no traffic while drained: no data */
	CU_ASSERT(policy_step(&f.svc, &st, m, true, d));
	CU_ASSERT_EQUAL(st.b[0].out_weight, 34);
	CU_ASSERT_EQUAL(st.b[1].out_weight + st.b[2].out_weight, 66);
	CU_ASSERT_EQUAL(d[0].action, H);
	policy_state_free(&st);
}

static void test_restart_continues(void)
{
	/* What state_load restores (weight, out_weight, e1, e2, n_err, stale)
	 * is all the policy needs to continue exactly. */
	struct pf_service f;
	struct wd_service_state a, b;
	setup(&f, &a, 2, (int[]){50, 50});
	setup(&f, &b, 2, (int[]){50, 50});
	struct wd_measurement m[2] = {pf_lat(0.1), pf_lat(0.15)};
	struct wd_decision d[2];
	for (int t = 0; t < 3; t++)
		policy_step(&f.svc, &a, m, true, d);
	for (size_t i = 0; i < 2; i++) {
		b.b[i].weight = a.b[i].weight;
		b.b[i].out_weight = a.b[i].out_weight;
		b.b[i].e1 = a.b[i].e1;
		b.b[i].e2 = a.b[i].e2;
		b.b[i].n_err = a.b[i].n_err;
		b.b[i].stale = a.b[i].stale;
	}
	m[1] = pf_lat(0.3);
	policy_step(&f.svc, &a, m, true, d);
	policy_step(&f.svc, &b, m, true, d);
	for (size_t i = 0; i < 2; i++) {
		CU_ASSERT_DOUBLE_EQUAL(a.b[i].weight, b.b[i].weight, 1e-12);
		CU_ASSERT_EQUAL(a.b[i].out_weight, b.b[i].out_weight);
	}
	policy_state_free(&a);
	policy_state_free(&b);
}

static void test_failed_queries_hold_everything(void)
{
	/* Prometheus down: nothing changes, not the weights, not the memory, not
	 * even a reload's pins or new backends (they wait for data); the set
	 * change stays due and is written at the first tick with data. */
	struct pf_service f;
	struct wd_service_state st;
	setup(&f, &st, 2, (int[]){50, 50});
	learned(&st, 0, 61.5, 61);
	learned(&st, 1, 38.4, 39); /* sums to 99.9: held as is all the same */
	st.b[0].e1 = 0.25, st.b[0].e2 = 0.5, st.b[0].n_err = 2, st.b[0].stale = 3;
	pf_init(&f, 3, (int[]){40, 40, 20});
	f.b[0].pin = 30;
	CU_ASSERT_FATAL(policy_state_sync(&st, &f.svc) == 0);
	struct wd_backend_state before[3];
	memcpy(before, st.b, sizeof(before));
	struct wd_measurement m[3] = {pf_lat(0.1), pf_lat(0.1), pf_lat(0.1)};
	struct wd_decision d[3];
	CU_ASSERT(!policy_step(&f.svc, &st, NULL, false, d));
	CU_ASSERT(!policy_step(&f.svc, &st, m, false, d));
	CU_ASSERT(memcmp(before, st.b, sizeof(before)) == 0);
	CU_ASSERT(st.dirty);
	for (size_t i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(d[i].action, H);
		CU_ASSERT_STRING_EQUAL(d[i].reason, "service queries failed: holding all");
		CU_ASSERT_EQUAL(d[i].old_weight, before[i].out_weight);
		CU_ASSERT_EQUAL(d[i].new_weight, before[i].out_weight);
		CU_ASSERT(isnan(d[i].cost) && isnan(d[i].error));
	}
	/* Data again: pin 30, the others share 70 as 38.4 : 20. */
	CU_ASSERT(policy_step(&f.svc, &st, m, true, d));
	CU_ASSERT(!st.dirty);
	CU_ASSERT_EQUAL(st.b[0].out_weight, 30);
	CU_ASSERT_EQUAL(st.b[1].out_weight, 46);
	CU_ASSERT_EQUAL(st.b[2].out_weight, 24);
	CU_ASSERT(!policy_step(&f.svc, &st, m, true, d));
	policy_state_free(&st);
}

static void test_no_data_hold_keeps_memory(void)
{
	/* No backend has data: weights and PID memory hold; staleness does not
	 * count (the service's metrics are gone, not one backend). */
	struct pf_service f;
	struct wd_service_state st;
	setup(&f, &st, 2, (int[]){50, 50});
	learned(&st, 0, 60.25, 60);
	learned(&st, 1, 39.75, 40);
	st.b[0].e1 = 0.1, st.b[0].n_err = 1;
	struct wd_measurement m[2] = {{0}, {0}};
	struct wd_decision d[2];
	for (int t = 0; t < 10; t++)
		CU_ASSERT(!policy_step(&f.svc, &st, m, true, d));
	CU_ASSERT_EQUAL(st.b[0].out_weight, 60);
	CU_ASSERT(st.b[0].weight == 60.25);
	CU_ASSERT(st.b[0].e1 == 0.1);
	CU_ASSERT_EQUAL(st.b[0].n_err, 1);
	CU_ASSERT_EQUAL(st.b[0].stale, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(d[1].reason, "no data for any backend"));
	policy_state_free(&st);
}

static void test_action_names(void)
{
	CU_ASSERT_STRING_EQUAL(policy_action_name(WD_ACT_APPLIED), "applied");
	CU_ASSERT_STRING_EQUAL(policy_action_name(WD_ACT_DRY_RUN), "dry_run");
	CU_ASSERT_STRING_EQUAL(policy_action_name(WD_ACT_HELD), "held");
	CU_ASSERT_STRING_EQUAL(policy_action_name(WD_ACT_PINNED), "pinned");
	CU_ASSERT_STRING_EQUAL(policy_action_name(WD_ACT_FROZEN), "frozen");
	CU_ASSERT_STRING_EQUAL(policy_action_name(WD_ACT_EJECTED), "ejected");
	CU_ASSERT_STRING_EQUAL(policy_action_name(WD_ACT_STALE), "stale");
	CU_ASSERT_STRING_EQUAL(policy_action_name((enum wd_action)99), "?");
}

/* ---- properties --------------------------------------------------------------- */

#define PROP_CASES 5000
#define PROP_N 8

static double uni(uint64_t *r, double a, double b)
{
	return a + (b - a) * qm_uniform(r);
}

static int irange(uint64_t *r, int a, int b)
{
	return a + (int)(qm_uniform(r) * (b - a + 1));
}

/* A random valid service (what config validation lets through). */
static void random_service(uint64_t *r, struct pf_service *f, bool allow_pins)
{
	size_t n = (size_t)irange(r, 1, PROP_N);
	pf_init(f, n, NULL);
	struct wd_policy_cfg *pc = &f->svc.policy;
	static const int totals[] = {1, 10, 100, 100, 100, 1000};
	pc->total = totals[irange(r, 0, 5)];
	if (pc->total < (int)n)
		pc->total = (int)n * 10;
	pc->min_weight = irange(r, 1, pc->total / (int)n > 3 ? 3 : pc->total / (int)n);
	pc->max_weight = irange(r, (pc->total + (int)n - 1) / (int)n, pc->total);
	pc->kp = uni(r, 0, 1);
	pc->ki = uni(r, 0, 1.5);
	pc->kd = irange(r, 0, 1) ? 0 : uni(r, 0, 0.5);
	pc->error_penalty = uni(r, 0, 20);
	pc->eject_error_ratio = uni(r, 0.05, 1);
	pc->max_step = uni(r, 0.05, 2);
	pc->deadband = irange(r, 0, 4);
	pc->stale_ticks = irange(r, 1, 5);
	pc->min_rate = irange(r, 0, 3) ? 0 : uni(r, 0, 5);
	/* Pins: each backend maybe, as long as the rest can still be shared. */
	long left = pc->total;
	size_t unpinned = n;
	for (size_t i = 0; allow_pins && i < n; i++) {
		if (qm_uniform(r) > 0.15 || unpinned == 1)
			continue;
		int pin = irange(r, 0, pc->max_weight);
		long rest = left - pin;
		if (rest < (long)(unpinned - 1) * pc->min_weight ||
		    rest > (long)(unpinned - 1) * pc->max_weight)
			continue;
		f->b[i].pin = pin;
		left = rest;
		unpinned--;
	}
	for (size_t i = 0; i < n; i++)
		f->b[i].weight = irange(r, pc->min_weight, pc->max_weight);
	f->svc.freeze = qm_uniform(r) < 0.05;
}

/* Random raw values, NaN and negative ones included, screened by the data
 * rules as measure_fill screens them. */
static void random_measurement(uint64_t *r, const struct wd_policy_cfg *pc, struct wd_measurement *m)
{
	memset(m, 0, sizeof(*m));
	double u = qm_uniform(r);
	m->has_latency = u < 0.85;
	m->latency_s = u < 0.8 ? exp(uni(r, log(1e-4), log(10))) : u < 0.82 ? NAN : u < 0.84 ? -1 : 0;
	if (qm_uniform(r) < 0.5) {
		m->has_error = true;
		m->error_ratio = qm_uniform(r) < 0.9 ? uni(r, 0, 0.3) : uni(r, 0, 1);
	}
	if (qm_uniform(r) < 0.6) {
		m->has_rate = true;
		m->rate = qm_uniform(r) < 0.95 ? exp(uni(r, log(0.01), log(1000))) : INFINITY;
	}
	measure_screen(pc, false, m);
}

/* Random learned state within the bounds (as state_load would leave it). */
static void random_state(uint64_t *r, const struct pf_service *f, struct wd_service_state *st)
{
	const struct wd_policy_cfg *pc = &f->svc.policy;
	for (size_t i = 0; i < st->n; i++) {
		struct wd_backend_state *b = &st->b[i];
		if (f->b[i].pin < 0)
			b->weight = uni(r, pc->min_weight, pc->max_weight);
		b->out_weight = f->b[i].pin >= 0 ? f->b[i].pin : irange(r, pc->min_weight, pc->max_weight);
		b->e1 = uni(r, -2, 2);
		b->e2 = uni(r, -2, 2);
		b->n_err = irange(r, 0, 2);
		b->stale = irange(r, 0, 6);
	}
	st->dirty = qm_uniform(r) < 0.5;
}

/* The invariants every tick must keep. Returns false (and says why). */
static bool check_invariants(const struct pf_service *f, const struct wd_service_state *st,
			     const struct wd_decision *d, char *why, size_t len)
{
	const struct wd_policy_cfg *pc = &f->svc.policy;
	long sum = 0;
	bool positive = false;
	for (size_t i = 0; i < st->n; i++) {
		int w = st->b[i].out_weight;
		double cw = st->b[i].weight;
		sum += w;
		positive |= w > 0;
		if (!isfinite(cw) || cw < 0) {
			snprintf(why, len, "b%zu: continuous weight %g", i, cw);
			return false;
		}
		if (f->b[i].pin >= 0 ? w != f->b[i].pin : w < pc->min_weight || w > pc->max_weight) {
			snprintf(why, len, "b%zu: weight %d outside [%d, %d] (pin %d)", i, w,
				 pc->min_weight, pc->max_weight, f->b[i].pin);
			return false;
		}
		if (d[i].new_weight != w) {
			snprintf(why, len, "b%zu: decision says %d, state %d", i, d[i].new_weight, w);
			return false;
		}
		if (d[i].reason[0] == '\0' || d[i].action == WD_ACT_DRY_RUN) {
			snprintf(why, len, "b%zu: action %s without reason", i,
				 policy_action_name(d[i].action));
			return false;
		}
	}
	if (sum != pc->total || !positive) {
		snprintf(why, len, "weights sum to %ld, total %d", sum, pc->total);
		return false;
	}
	return true;
}

static void print_case(const struct pf_service *f, uint64_t seed, int c)
{
	const struct wd_policy_cfg *pc = &f->svc.policy;
	printf("\nproperty failed: seed %llu case %d\n"
	       "  n %zu total %d min %d max %d kp %g ki %g kd %g max_step %g deadband %d "
	       "objective %d freeze %d\n",
	       (unsigned long long)seed, c, f->svc.n_backends, pc->total,
	       pc->min_weight, pc->max_weight, pc->kp, pc->ki, pc->kd, pc->max_step, pc->deadband,
	       (int)pc->objective, (int)f->svc.freeze);
}

/* Sum to total, bounds or pin, never NaN / negative / all zero, over runs of
 * several ticks with random data and data gaps, from the first tick with
 * data on; a tick whose queries failed changes nothing at all. */
static void test_property_invariants(void)
{
	uint64_t seed = tu_seed(), r = seed;
	int failures = 0;
	for (int c = 0; c < PROP_CASES && failures < 3; c++) {
		struct pf_service f;
		random_service(&r, &f, true);
		struct wd_service_state st = {0};
		CU_ASSERT_FATAL(policy_state_sync(&st, &f.svc) == 0);
		if (qm_uniform(&r) < 0.7)
			random_state(&r, &f, &st);
		bool seen_data = false; /* the invariants hold from the first tick with data */
		for (int t = 0; t < 4; t++) {
			struct wd_measurement m[PROP_N];
			struct wd_decision d[PROP_N];
			for (size_t i = 0; i < f.svc.n_backends; i++)
				random_measurement(&r, &f.svc.policy, &m[i]);
			bool data = qm_uniform(&r) < 0.9;
			struct wd_backend_state before[PROP_N];
			memcpy(before, st.b, f.svc.n_backends * sizeof(*before));
			policy_step(&f.svc, &st, data ? m : NULL, data, d);
			char why[160];
			if (!data && memcmp(before, st.b, f.svc.n_backends * sizeof(*before)) != 0) {
				print_case(&f, seed, c);
				printf("  tick %d: a failed tick changed the state\n", t);
				failures++;
				CU_FAIL("failed queries changed the state");
				break;
			}
			if (data)
				seen_data = true;
			if (seen_data && !check_invariants(&f, &st, d, why, sizeof(why))) {
				print_case(&f, seed, c);
				printf("  tick %d: %s\n", t, why);
				for (size_t i = 0; i < f.svc.n_backends; i++)
					printf("  b%zu: pin %d %d -> %d (%.4g) %s \"%s\"\n", i, f.b[i].pin,
					       d[i].old_weight, d[i].new_weight, st.b[i].weight,
					       policy_action_name(d[i].action), d[i].reason);
				failures++;
				CU_FAIL("invariant broken");
				break;
			}
		}
		policy_state_free(&st);
	}
	printf("\n%d cases from seed %llu\n", PROP_CASES, (unsigned long long)seed);
}

/* With no PID history (first tick after start, reload, or a hold), or a
 * history equal to the current error (a settled measurement), a backend
 * whose cost is below the pool never loses weight relative to one above it:
 * its ratio new/old is at least the other's, unless it ended at max_weight or
 * the other at min_weight. (With other histories the velocity form's
 * proportional term may reverse a move on purpose: it damps.) */
static void test_property_faster_never_loses(void)
{
	uint64_t seed = tu_seed() ^ 0x1, r = seed;
	int failures = 0;
	long pairs = 0;
	for (int c = 0; c < PROP_CASES && failures < 3; c++) {
		struct pf_service f;
		random_service(&r, &f, true);
		f.svc.freeze = false;
		struct wd_service_state st = {0};
		CU_ASSERT_FATAL(policy_state_sync(&st, &f.svc) == 0);
		random_state(&r, &f, &st);
		struct wd_measurement m[PROP_N];
		struct wd_decision d[PROP_N];
		double before[PROP_N];
		bool settled = qm_uniform(&r) < 0.5;
		for (size_t i = 0; i < f.svc.n_backends; i++) {
			random_measurement(&r, &f.svc.policy, &m[i]);
			st.b[i].n_err = 0;
			before[i] = st.b[i].weight;
		}
		if (settled) {
			/* Compute this tick's errors with a first dry step on a copy. */
			struct wd_backend_state save[PROP_N];
			memcpy(save, st.b, f.svc.n_backends * sizeof(*save));
			bool dirty = st.dirty;
			policy_step(&f.svc, &st, m, true, d);
			memcpy(st.b, save, f.svc.n_backends * sizeof(*save));
			st.dirty = dirty;
			for (size_t i = 0; i < f.svc.n_backends; i++) {
				if (isfinite(d[i].error)) {
					st.b[i].e1 = st.b[i].e2 = d[i].error;
					st.b[i].n_err = 2;
				}
			}
		}
		policy_step(&f.svc, &st, m, true, d);
		const struct wd_policy_cfg *pc = &f.svc.policy;
		for (size_t i = 0; i < f.svc.n_backends; i++) {
			for (size_t j = 0; j < f.svc.n_backends; j++) {
				bool steered_i = d[i].action == A || (d[i].action == H && strncmp(d[i].reason, "cost", 4) == 0);
				bool steered_j = d[j].action == A || (d[j].action == H && strncmp(d[j].reason, "cost", 4) == 0);
				if (!steered_i || !steered_j || !(d[i].error > 0) || !(d[j].error < 0))
					continue;
				double ri = st.b[i].weight / before[i], rj = st.b[j].weight / before[j];
				pairs++;
				bool clamped = st.b[i].weight >= pc->max_weight - 1e-9 ||
					       st.b[j].weight <= pc->min_weight + 1e-9;
				if (ri < rj * (1 - 1e-9) && !clamped) {
					print_case(&f, seed, c);
					printf("  b%zu (error %g) x%g, b%zu (error %g) x%g\n", i, d[i].error,
					       ri, j, d[j].error, rj);
					failures++;
					CU_FAIL("a faster backend lost weight to a slower one");
				}
			}
		}
		policy_state_free(&st);
	}
	printf("\n%ld (faster, slower) pairs checked\n", pairs);
	CU_ASSERT(pairs > PROP_CASES); /* the generator does produce such pairs */
}

/* Equal costs, no pins, no freeze, a consistent state (integers are the
 * apportionment of the continuous weights) and no PID history, or a history
 * of zero error: nothing moves and no write is due. */
static void test_property_equal_costs_nothing_moves(void)
{
	uint64_t seed = tu_seed() ^ 0x2, r = seed;
	int failures = 0;
	for (int c = 0; c < PROP_CASES && failures < 3; c++) {
		struct pf_service f;
		random_service(&r, &f, false);
		f.svc.freeze = false;
		const struct wd_policy_cfg *pc = &f.svc.policy;
		size_t n = f.svc.n_backends;
		struct wd_service_state st = {0};
		CU_ASSERT_FATAL(policy_state_sync(&st, &f.svc) == 0);
		double w[PROP_N], lo[PROP_N], hi[PROP_N], x[PROP_N];
		int ilo[PROP_N], ihi[PROP_N], iw[PROP_N];
		for (size_t i = 0; i < n; i++) {
			w[i] = uni(&r, 0.1, 10);
			lo[i] = ilo[i] = pc->min_weight;
			hi[i] = ihi[i] = pc->max_weight;
		}
		CU_ASSERT_FATAL(policy_fill(w, n, pc->total, lo, hi, x) == 0);
		CU_ASSERT_FATAL(policy_apportion(x, n, pc->total, ilo, ihi, iw) == 0);
		bool zero_history = qm_uniform(&r) < 0.5;
		struct wd_measurement m[PROP_N];
		double lat = exp(uni(&r, log(1e-3), log(5))), err = uni(&r, 0, 0.9 * pc->eject_error_ratio);
		for (size_t i = 0; i < n; i++) {
			st.b[i].weight = x[i];
			st.b[i].out_weight = iw[i];
			st.b[i].e1 = st.b[i].e2 = 0;
			st.b[i].n_err = zero_history ? 2 : 0;
			st.b[i].stale = irange(&r, 0, pc->stale_ticks);
			m[i] = pf_lat(lat);
			m[i].has_error = true;
			m[i].error_ratio = err;
		}
		if (pc->min_rate > 0)
			f.svc.policy.min_rate = 0;
		st.dirty = false;
		struct wd_decision d[PROP_N];
		bool wrote = policy_step(&f.svc, &st, m, true, d);
		bool ok = !wrote;
		for (size_t i = 0; i < n; i++)
			ok = ok && st.b[i].out_weight == iw[i] &&
			     st.b[i].weight == x[i] && d[i].error == 0;
		if (!ok) {
			print_case(&f, seed, c);
			for (size_t i = 0; i < n; i++)
				printf("  b%zu: %d -> %d, %.9g -> %.9g, %s \"%s\"\n", i, iw[i],
				       st.b[i].out_weight, x[i], st.b[i].weight,
				       policy_action_name(d[i].action), d[i].reason);
			failures++;
			CU_FAIL("equal costs moved a weight");
		}
		policy_state_free(&st);
	}
}

static const struct tu_test policy_tests[] = {
	{"apportionment table", test_apportion_table},
	{"one tick per rule (table)", test_step_table},
	{"velocity PID with history and kd", test_velocity_pid_with_history},
	{"stale backend drifts toward its initial weight", test_stale_drifts_toward_initial},
	{"thin signal: held or probed back", test_thin_signal_held_or_probed},
	{"a small move needs a lower predicted p95", test_small_move_needs_predicted_gain},
	{"a small move back waits a window, or a clear gain", test_small_move_back_waits_a_window},
	{"ordinary writes keep to the write budget", test_write_budget},
	{"the write budget spares writes that are not the PID's", test_write_budget_spares_the_exempt},
	{"the write budget spares a lasting slowdown", test_write_budget_spares_a_slowdown},
	{"a starved backend's repeated latency is stale", test_repeated_latency_is_stale},
	{"samples' spacing from repeated ticks", test_sample_spacing},
	{"leasttime mode: floor, deadband, rebuild for the starved", test_leasttime_mode},
	{"leasttime mode: back to the floor at once; no cut leasttime already makes",
	 test_leasttime_recovery_and_steering},
	{"probation ramps a recovered backend", test_probation_ramps_a_recovered_backend},
	{"ejected on the newest tick's failures", test_eject_on_the_newest_tick},
	{"deadband", test_deadband},
	{"rounding noise is not a move", test_rounding_noise_is_not_a_move},
	{"reload keeps backends by name", test_reload_keeps_backends_by_name},
	{"freeze lifted is bumpless", test_freeze_lifted_is_bumpless},
	{"pin set, changed, lifted; drain and undrain", test_pin_set_and_lifted},
	{"restart from saved state continues", test_restart_continues},
	{"failed queries hold everything", test_failed_queries_hold_everything},
	{"no data anywhere: hold with memory", test_no_data_hold_keeps_memory},
	{"action names", test_action_names},
	{NULL, NULL},
};

static const struct tu_test policy_property_tests[] = {
	{"sum, bounds, pins, finite, never all zero", test_property_invariants},
	{"faster than the pool never loses to slower", test_property_faster_never_loses},
	{"equal costs: nothing moves", test_property_equal_costs_nothing_moves},
	{NULL, NULL},
};

const struct tu_suite tu_suites[] = {
	{"policy", NULL, NULL, policy_tests},
	{"policy properties", NULL, NULL, policy_property_tests},
	{NULL, NULL, NULL, NULL},
};
