/* test_policy_loop: the policy in closed loop with a queueing model (qmodel),
 * no network. Four backends of 100, 60, 40 and 20 req/s share 150 req/s,
 * measured over the last 4 ticks with 3 % noise, from equal weights: the
 * weights must settle without oscillating, ordered like the capacities; when
 * one backend's capacity drops, traffic must move away from it. */
#include <math.h>
#include <stdlib.h>

#include "policy_fixture.h"
#include "qmodel.h"
#include "testutil.h"

#define NB 4
#define MAX_TICKS 1700

static const double caps[NB] = {100, 60, 40, 20};

struct run {
	int w[MAX_TICKS + 1][NB]; /* w[t]: weights in force during tick t */
	double lat[MAX_TICKS][NB];
	int ticks;
	unsigned writes;
	unsigned oscillations[NB]; /* found by the policy's damping */
	double gain[NB];           /* its damping at the end */
	int first_osc;             /* tick of the first oscillation found (-1 none) */
};

/* A backend failing a share of its requests during ticks [from, to). */
struct fault {
	int b, from, to;
	double ratio;
};

/* The windowed error ratio the policy reads at tick t: the failing ticks'
 * share of the last `window` ticks. */
static double fault_ratio(const struct fault *f, int t, int window)
{
	int n = 0;
	for (int k = t - window + 1; k <= t; k++)
		n += k >= f->from && k < f->to;
	return f->ratio * n / window;
}

/* Runs `ticks` ticks measured over a window of `window` ticks; at tick
 * drop_at (if >= 0) backend drop_b's capacity becomes drop_cap; fault (if
 * not NULL) adds a failing spell. */
static void run_loop_window(struct run *r, const struct wd_policy_cfg *pc, int window, int ticks,
			    uint64_t seed, int drop_at, int drop_b, double drop_cap,
			    const struct fault *fault)
{
	struct pf_service f;
	pf_init(&f, NB, NULL);
	f.svc.policy = *pc;
	struct wd_service_state st = {0};
	CU_ASSERT_FATAL(policy_state_sync(&st, &f.svc) == 0);
	struct qmodel q;
	qm_init(&q, NB, caps, 150, window, 0.03, seed);
	struct wd_measurement m[NB];
	struct wd_decision d[NB];
	memset(r, 0, sizeof(*r));
	r->ticks = ticks;
	r->first_osc = -1;
	for (int i = 0; i < NB; i++)
		r->w[0][i] = st.b[i].out_weight;
	for (int t = 0; t < ticks; t++) {
		if (t == drop_at)
			q.cap[drop_b] = drop_cap;
		qm_tick(&q, r->w[t], m);
		if (fault)
			m[fault->b].error_ratio = fault_ratio(fault, t, window);
		for (int i = 0; i < NB; i++)
			r->lat[t][i] = q.last_lat[i];
		if (policy_step(&f.svc, &st, m, true, d))
			r->writes++;
		for (int i = 0; i < NB; i++)
			if (d[i].oscillating && r->first_osc < 0)
				r->first_osc = t;
		for (int i = 0; i < NB; i++)
			r->w[t + 1][i] = st.b[i].out_weight;
	}
	for (int i = 0; i < NB; i++) {
		r->oscillations[i] = st.b[i].damp.count;
		r->gain[i] = damping_gain(&st.b[i].damp);
	}
	policy_state_free(&st);
}

static void run_loop(struct run *r, const struct wd_policy_cfg *pc, int ticks, uint64_t seed,
		     int drop_at, int drop_b, double drop_cap)
{
	run_loop_window(r, pc, 4, ticks, seed, drop_at, drop_b, drop_cap, NULL);
}

/* Direction reversals of one backend's weight from tick `from` on, ignoring
 * wiggles smaller than h: a reversal is a move of at least h against the
 * current trend, measured from the last extreme. */
static int reversals(const struct run *r, int b, int from, int h)
{
	int trend = 0, n = 0, ext = r->w[from][b];
	for (int t = from + 1; t <= r->ticks; t++) {
		int v = r->w[t][b];
		if (trend >= 0 && v > ext) {
			ext = v;
		} else if (trend <= 0 && v < ext) {
			ext = v;
		} else if (trend >= 0 && ext - v >= h) {
			n += trend > 0;
			trend = -1;
			ext = v;
		} else if (trend <= 0 && v - ext >= h) {
			n += trend < 0;
			trend = 1;
			ext = v;
		}
		if (trend == 0 && abs(v - r->w[from][b]) >= h)
			trend = v > r->w[from][b] ? 1 : -1;
	}
	return n;
}

static int spread(const struct run *r, int b, int from, int to)
{
	int lo = r->w[from][b], hi = lo;
	for (int t = from; t <= to; t++) {
		lo = r->w[t][b] < lo ? r->w[t][b] : lo;
		hi = r->w[t][b] > hi ? r->w[t][b] : hi;
	}
	return hi - lo;
}

static void print_run(const char *title, const struct run *r, int every)
{
	printf("\n%s (writes %u)\n tick  w0  w1  w2  w3   lat0   lat1   lat2   lat3\n", title,
	       r->writes);
	for (int t = 0; t < r->ticks; t += every)
		printf("%5d %3d %3d %3d %3d %6.3f %6.3f %6.3f %6.3f\n", t, r->w[t][0], r->w[t][1],
		       r->w[t][2], r->w[t][3], r->lat[t][0], r->lat[t][1], r->lat[t][2],
		       r->lat[t][3]);
}

#define SETTLE 40   /* ticks allowed to settle from equal weights */
#define HYST 3      /* a swing smaller than this is noise, not oscillation */

static void test_settles_without_oscillation(void)
{
	static struct run r;
	struct wd_policy_cfg pc;
	pf_defaults(&pc);
	uint64_t sd = tu_seed();
	run_loop(&r, &pc, 200, sd, -1, 0, 0);
	print_run("default gains, equal start", &r, getenv("WD_LOOP_EVERY") ? atoi(getenv("WD_LOOP_EVERY")) : 5);
	for (int b = 0; b < NB; b++) {
		int rev = reversals(&r, b, SETTLE, HYST);
		int spr = spread(&r, b, r.ticks - 50, r.ticks);
		printf("backend %d: reversals after tick %d: %d, spread over the last 50 ticks: %d\n",
		       b, SETTLE, rev, spr);
		CU_ASSERT(rev <= 1);
		CU_ASSERT(spr <= 2 * HYST);
	}
	for (int b = 0; b + 1 < NB; b++)
		CU_ASSERT(r.w[r.ticks][b] > r.w[r.ticks][b + 1]);
	/* a loop that settles is not damped */
	printf("oscillations found: %u %u %u %u, first at tick %d\n", r.oscillations[0],
	       r.oscillations[1], r.oscillations[2], r.oscillations[3], r.first_osc);
	for (int b = 0; b < NB; b++)
		CU_ASSERT_EQUAL(r.oscillations[b], 0);
}

static void test_capacity_drop_moves_traffic_away(void)
{
	static struct run r;
	struct wd_policy_cfg pc;
	pf_defaults(&pc);
	uint64_t sd = tu_seed();
	const int drop = 150;
	run_loop(&r, &pc, 300, sd, drop, 0, 50); /* backend 0: 100 -> 50 req/s */
	print_run("default gains, backend 0 drops from 100 to 50 req/s at tick 150", &r,
		  getenv("WD_LOOP_EVERY") ? atoi(getenv("WD_LOOP_EVERY")) : 10);
	double before = 0, after = 0;
	for (int t = drop - 20; t < drop; t++)
		before += r.w[t][0] / 20.0;
	for (int t = r.ticks - 20; t < r.ticks; t++)
		after += r.w[t][0] / 20.0;
	printf("backend 0 weight: %.1f before the drop, %.1f after\n", before, after);
	/* The optimum moves from about 55 to about 30; ask for most of the way. */
	CU_ASSERT(after <= before - 15);
	/* It starts moving at once (the next tick that sees the slowdown) and
	 * never comes back up past where it was. */
	CU_ASSERT(r.w[drop + 3][0] < r.w[drop][0]);
	for (int t = drop; t <= r.ticks; t++)
		CU_ASSERT(r.w[t][0] <= r.w[drop][0]);
	for (int b = 0; b < NB; b++) {
		CU_ASSERT(reversals(&r, b, drop + SETTLE, HYST) <= 1);
		CU_ASSERT(spread(&r, b, r.ticks - 50, r.ticks) <= 2 * HYST);
	}
	/* New capacities 50, 60, 40, 20: backend 1 now leads. */
	CU_ASSERT(r.w[r.ticks][1] > r.w[r.ticks][0]);
	CU_ASSERT(r.w[r.ticks][0] > r.w[r.ticks][2]);
	CU_ASSERT(r.w[r.ticks][2] > r.w[r.ticks][3]);
}

/* Gains well above the stable range (a loop gain near 1 per tick against
 * 4 ticks of averaging) make the same model oscillate: the criterion sees
 * it in the first ticks, the policy finds it too and damps the gains, and
 * the loop then settles. */
static void test_oscillation_found_and_damped(void)
{
	static struct run r;
	struct wd_policy_cfg pc;
	pf_defaults(&pc);
	pc.kp = 0;
	pc.ki = 1.5;
	run_loop(&r, &pc, 200, tu_seed(), -1, 0, 0);
	print_run("kp 0, ki 1.5", &r, 5);
	struct run early = r;
	early.ticks = SETTLE;
	int worst_early = 0, worst_late = 0;
	unsigned found = 0;
	for (int b = 0; b < NB; b++) {
		/* late, the noise's wiggles of HYST may remain; no swing of twice that */
		int e = reversals(&early, b, 0, HYST), l = reversals(&r, b, 2 * SETTLE, 2 * HYST);
		worst_early = e > worst_early ? e : worst_early;
		worst_late = l > worst_late ? l : worst_late;
		found += r.oscillations[b];
		printf("backend %d: %u oscillations found, gain %.3f\n", b, r.oscillations[b], r.gain[b]);
	}
	printf("kp 0, ki 1.5: worst reversals before tick %d: %d, after tick %d: %d; first found at tick %d\n",
	       SETTLE, worst_early, 2 * SETTLE, worst_late, r.first_osc);
	CU_ASSERT(worst_early > 1);
	CU_ASSERT(found > 0);
	CU_ASSERT(r.first_osc >= 0 && r.first_osc < SETTLE);
	CU_ASSERT(worst_late <= 1);
	for (int b = 0; b < NB; b++)
		CU_ASSERT(spread(&r, b, r.ticks - 50, r.ticks) <= 2 * HYST);
}

/* Ticks after `from` until backend b's weight stays within 2 HYST of where
 * it ends (its mean over the last `tail` ticks) for good. */
static int settle_ticks(const struct run *r, int b, int from, int tail)
{
	double fin = 0;
	for (int t = r->ticks - tail; t < r->ticks; t++)
		fin += r->w[t][b] / (double)tail;
	int last_out = from;
	for (int t = from; t <= r->ticks; t++)
		if (fabs(r->w[t][b] - fin) > 2 * HYST)
			last_out = t;
	return last_out - from;
}

/* The same one-minute window read at 1, 4, 8, 12 and 16 ticks per window
 * (ticks of 60, 15, 7.5, 5 and 3.75 s), an hour each, backend 0 losing half
 * its capacity at 30 minutes: with the gains set per unit of the signal's
 * delay, every ratio settles without oscillating, ordered like the
 * capacities, moves away from the slowed backend, and does so in the same
 * wall-clock time (from a cold start, a one-minute tick takes its few
 * ticks). */
static void test_any_tick_per_window(void)
{
	static const int ratios[] = {1, 4, 8, 12, 16};
	enum { NR = sizeof(ratios) / sizeof(ratios[0]), WINDOWS = 60, DROP = 30 };
	static struct run r;
	int fin[NR][NB], settle_s[NR], before_s[NR];
	uint64_t sd = tu_seed();
	printf("\n ratio tick  final weights     settle b0 (s)  first settle (s)  reversals\n");
	for (int k = 0; k < NR; k++) {
		int q = ratios[k], ticks = WINDOWS * q, drop = DROP * q;
		struct wd_policy_cfg pc;
		pf_defaults(&pc);
		pc.signal_window_ms = 60000;
		pc.tick_ms = 60000 / q;
		run_loop_window(&r, &pc, q, ticks, sd, drop, 0, 50, NULL);
		int worst = 0;
		/* reversals once settled: before the drop, and after it (the ring
		 * of the drop's first ten control steps is its settling) */
		struct run before = r;
		before.ticks = drop;
		for (int b = 0; b < NB; b++) {
			int rev = reversals(&before, b, 10 * q, HYST) + reversals(&r, b, drop + 10 * q, HYST);
			worst = rev > worst ? rev : worst;
			fin[k][b] = r.w[ticks][b];
		}
		/* settling in seconds: from equal weights, and after the drop */
		struct run first = r;
		first.ticks = drop;
		before_s[k] = settle_ticks(&first, 0, 0, 5 * q) * pc.tick_ms / 1000;
		settle_s[k] = settle_ticks(&r, 0, drop, 10 * q) * pc.tick_ms / 1000;
		printf("%5d %5.2fs  %3d %3d %3d %3d   %8d %16d %10d\n", q, pc.tick_ms / 1000.0,
		       fin[k][0], fin[k][1], fin[k][2], fin[k][3], settle_s[k], before_s[k], worst);
		CU_ASSERT(worst <= 2);
		/* ordered like the capacities before the drop, and like the new
		 * ones (50, 60, 40, 20) after it */
		for (int b = 0; b + 1 < NB; b++)
			CU_ASSERT(r.w[drop][b] > r.w[drop][b + 1]);
		CU_ASSERT(fin[k][1] > fin[k][0] && fin[k][0] > fin[k][2] && fin[k][2] > fin[k][3]);
		/* moves away from the slowed backend within one window of the drop */
		CU_ASSERT(r.w[drop + q][0] < r.w[drop][0]);
		for (int t = drop + q; t <= ticks; t++)
			CU_ASSERT(r.w[t][0] <= r.w[drop][0]);
		for (int b = 0; b < NB; b++)
			CU_ASSERT(spread(&r, b, ticks - 10 * q, ticks) <= 2 * HYST);
	}
	int ref = 1; /* ratios[1] == 4, the reference */
	for (int k = 0; k < NR; k++) {
		for (int b = 0; b < NB; b++)
			CU_ASSERT(abs(fin[k][b] - fin[ref][b]) <= 2 * HYST);
		/* the same in seconds, give or take a window */
		CU_ASSERT(abs(settle_s[k] - settle_s[ref]) <= 60);
		/* from a cold start a one-minute tick needs its few ticks */
		if (ratios[k] >= 4) {
			CU_ASSERT(abs(before_s[k] - before_s[ref]) <= 60);
		} else {
			CU_ASSERT(before_s[k] <= 5 * 60);
		}
	}
	printf("seed %llu (replay: WEIGHTD_SEED=%llu)\n", (unsigned long long)sd,
	       (unsigned long long)sd);
}

/* Backend 1 fails 90 % of its requests for 20 ticks, then recovers: it is
 * ejected as soon as its windowed error ratio reaches eject_error_ratio,
 * and once the ratio falls below it again, probation brings it back near
 * its share within 10 ticks, without oscillating afterwards. */
static void test_recovery_after_ejection(void)
{
	static struct run r;
	struct wd_policy_cfg pc;
	pf_defaults(&pc);
	const struct fault fault = {1, 100, 120, 0.9};
	run_loop_window(&r, &pc, 4, 250, tu_seed(), -1, 0, 0, &fault);
	print_run("backend 1 fails 90 % from tick 100 to 120", &r, 5);
	double before = 0;
	for (int t = 80; t < 100; t++)
		before += r.w[t][1] / 20.0;
	/* ejected (min_weight) the tick its ratio crosses 0.5: 3 of 4 window ticks */
	int crossed = 0;
	while (fault_ratio(&fault, crossed, 4) < pc.eject_error_ratio)
		crossed++;
	CU_ASSERT_EQUAL(r.w[crossed + 1][1], pc.min_weight);
	/* below 0.5 again from this tick on */
	int clear = fault.to;
	while (fault_ratio(&fault, clear, 4) >= pc.eject_error_ratio)
		clear++;
	int back = -1;
	for (int t = clear; t <= r.ticks && back < 0; t++)
		if (r.w[t][1] >= 0.8 * before)
			back = t - clear;
	printf("weight %.1f before; ejected at tick %d; clear at %d; back at 80 %% after %d ticks\n",
	       before, crossed + 1, clear, back);
	/* three ticks: the window forgets the failures (error falling), then a
	 * fivefold ramp a tick (a threefold one took four) */
	CU_ASSERT(back >= 0 && back <= 3);
	for (int b = 0; b < NB; b++) {
		CU_ASSERT(reversals(&r, b, clear + 40, HYST) <= 1);
		CU_ASSERT(spread(&r, b, r.ticks - 50, r.ticks) <= 2 * HYST);
	}
}

/* The fleet's p95 latency (s) when backend i takes share s[i] of the load:
 * each backend's time in system is exponential with the model's mean (exact
 * for M/M/1 below the knee), so the fleet's is their mixture; the quantile
 * x solves sum s_i exp(-x / T_i) = 0.05, found by bisection. */
static double fleet_p95(const double *cap, const double *s)
{
	double t[NB], hi = 0;
	for (int i = 0; i < NB; i++) {
		t[i] = qm_latency(cap[i], 150 * s[i]);
		if (s[i] > 0 && t[i] > hi)
			hi = t[i];
	}
	hi *= log(20.0); /* the slowest backend's p95 bounds the mixture's */
	double lo = 0;
	for (int k = 0; k < 100; k++) {
		double x = (lo + hi) / 2, tail = 0;
		for (int i = 0; i < NB; i++)
			tail += s[i] > 0 ? s[i] * exp(-x / t[i]) : 0;
		if (tail > 0.05)
			lo = x;
		else
			hi = x;
	}
	return (lo + hi) / 2;
}

static double weights_p95(const double *cap, const int *w)
{
	double s[NB], sum = 0;
	for (int i = 0; i < NB; i++)
		sum += w[i];
	for (int i = 0; i < NB; i++)
		s[i] = w[i] / sum;
	return fleet_p95(cap, s);
}

/* The best static split's p95 for these capacities: a grid of shares in
 * steps of 5 %, then moves of a shrinking share between pairs of backends
 * while one lowers the p95. */
static double best_split_p95(const double *cap, double *best)
{
	const int g = 20;
	double s[NB], p = INFINITY;
	for (int a = 0; a <= g; a++)
		for (int b = 0; a + b <= g; b++)
			for (int c = 0; a + b + c <= g; c++) {
				s[0] = (double)a / g, s[1] = (double)b / g, s[2] = (double)c / g;
				s[3] = (double)(g - a - b - c) / g;
				double v = fleet_p95(cap, s);
				if (v < p) {
					p = v;
					memcpy(best, s, sizeof(s));
				}
			}
	for (double step = 0.025; step > 1e-6; step /= 2)
		for (bool better = true; better;) {
			better = false;
			for (int i = 0; i < NB; i++)
				for (int j = 0; j < NB; j++) {
					if (i == j || best[i] < step)
						continue;
					memcpy(s, best, sizeof(s));
					s[i] -= step, s[j] += step;
					double v = fleet_p95(cap, s);
					if (v < p) {
						p = v, better = true;
						memcpy(best, s, sizeof(s));
					}
				}
		}
	return p;
}

/* Slow start: three backends of 60, 40 and 20 req/s share 100 req/s; at
 * tick JOIN a fourth (100 req/s once warm) is added to the config at weight
 * 25, but it is cold: 10 req/s for COLD ticks. While cold it must only lose
 * weight (it measures badly, so probation waits); once warm it must be back
 * at 80 % of the share it settles at within 10 ticks, and settle without
 * oscillating. */
static void test_cold_join_slow_start(void)
{
	enum { JOIN = 60, COLD = 30, TICKS = 220, WARM = JOIN + COLD };
	static const double cap4[NB] = {60, 40, 20, 100};
	static int w[TICKS + 1][NB];
	struct pf_service f3, f4;
	pf_init(&f3, 3, NULL);
	pf_init(&f4, 4, (int[]){25, 25, 25, 25});
	struct wd_service_state st = {0};
	CU_ASSERT_FATAL(policy_state_sync(&st, &f3.svc) == 0);
	struct qmodel q;
	qm_init(&q, NB, cap4, 100, 4, 0.03, tu_seed());
	struct wd_measurement m[NB];
	struct wd_decision d[NB];
	for (int i = 0; i < 3; i++)
		w[0][i] = st.b[i].out_weight;
	w[0][3] = 0; /* not in the balancer yet */
	for (int t = 0; t < TICKS; t++) {
		if (t == JOIN) {
			CU_ASSERT_FATAL(policy_state_sync(&st, &f4.svc) == 0);
			for (int i = 0; i < NB; i++)
				w[t][i] = st.b[i].out_weight; /* the reload's weights are written */
		}
		q.cap[3] = t < WARM ? 10 : 100;
		qm_tick(&q, w[t], m);
		const struct wd_service_cfg *svc = t < JOIN ? &f3.svc : &f4.svc;
		policy_step(svc, &st, m, true, d);
		for (int i = 0; i < NB; i++)
			w[t + 1][i] = i < (int)st.n ? st.b[i].out_weight : 0;
	}
	double fin = 0;
	for (int t = TICKS - 20; t < TICKS; t++)
		fin += w[t][3] / 20.0;
	int back = -1, peak_cold = 0;
	for (int t = JOIN + 1; t <= WARM; t++) {
		/* while cold it never gains weight */
		CU_ASSERT(w[t][3] <= w[t - 1][3]);
		peak_cold = w[t][3] > peak_cold ? w[t][3] : peak_cold;
	}
	for (int t = WARM; t <= TICKS && back < 0; t++)
		if (w[t][3] >= 0.8 * fin)
			back = t - WARM;
	printf("\njoined at weight %d, cold until tick %d: weight %d at its end; back at 80 %% of "
	       "its final %.1f %d ticks after warming\n", w[JOIN][3], WARM, w[WARM][3], fin, back);
	for (int t = JOIN - 2; t <= WARM + 16; t += 2)
		printf("%4d %3d %3d %3d %3d\n", t, w[t][0], w[t][1], w[t][2], w[t][3]);
	CU_ASSERT(w[WARM][3] < 25);
	CU_ASSERT(fin > 40); /* the biggest backend ends with the biggest share */
	CU_ASSERT(back >= 0 && back <= 10);
	/* no oscillation once it is back */
	struct run r;
	memset(&r, 0, sizeof(r));
	r.ticks = TICKS;
	for (int t = 0; t <= TICKS; t++)
		memcpy(r.w[t], w[t], sizeof(w[t]));
	for (int b = 0; b < NB; b++) {
		CU_ASSERT(reversals(&r, b, WARM + 20, HYST) <= 1);
		CU_ASSERT(spread(&r, b, TICKS - 50, TICKS) <= 2 * HYST);
	}
	policy_state_free(&st);
}

#define STEP_SETTLE 8      /* ticks allowed after a capacity step */
#define STEP_BAND 1.15     /* p95 within 15 % of the best split's */

/* At four ticks per one-minute window, backend 0 loses half its capacity
 * (100 -> 50 req/s, the fleet then at 88 % of its capacity): how many of
 * `seeds` runs (each on its own seed) have, from at most STEP_SETTLE ticks
 * after the step on, every tick's fleet p95 within STEP_BAND of the best
 * static split for the new capacities. The p95 is the true one of the
 * weights in force each tick, not the policy's noisy, windowed
 * measurement. WD_LOOP_EVERY=N prints the first run every N ticks. */
static int capacity_step_held(int write_budget, int seeds)
{
	enum { TICKS = 300, DROP = 150 };
	int held = 0;
	static struct run r;
	double after[NB] = {50, 60, 40, 20}, share[NB];
	double best_before = best_split_p95(caps, share);
	double best = best_split_p95(after, share);
	printf("\nwrite_budget %d; best split p95: %.1f ms before the step; %.1f ms after it, at shares"
	       " %.3f %.3f %.3f %.3f\n", write_budget, 1000 * best_before, 1000 * best, share[0], share[1],
	       share[2], share[3]);
	printf(" seed                  settle (ticks)  worst after  worst before step  first ticks' ratios\n");
	uint64_t sd = tu_seed();
	for (int k = 0; k < seeds; k++) {
		struct wd_policy_cfg pc;
		pf_defaults(&pc);
		pc.signal_window_ms = 60000;
		pc.tick_ms = 15000;
		pc.write_budget = write_budget;
		run_loop_window(&r, &pc, 4, TICKS, sd + k, DROP, 0, after[0], NULL);
		double ratio[TICKS], worst_before = 0;
		for (int t = DROP - 50; t < DROP; t++) {
			double v = weights_p95(caps, r.w[t]) / best_before;
			worst_before = v > worst_before ? v : worst_before;
		}
		int settled = DROP;
		for (int t = DROP; t < TICKS; t++) {
			ratio[t] = weights_p95(after, r.w[t]) / best;
			if (ratio[t] > STEP_BAND)
				settled = t + 1;
		}
		double worst_after = 0;
		for (int t = settled; t < TICKS; t++)
			worst_after = ratio[t] > worst_after ? ratio[t] : worst_after;
		bool ok = settled - DROP <= STEP_SETTLE;
		held += ok;
		if (k < 5 || !ok) { /* the first few, and every one that missed */
			printf("%20llu %15d %12.3f %18.3f  ", (unsigned long long)(sd + k),
			       settled - DROP, worst_after, worst_before);
			for (int t = DROP; t < DROP + 12; t++)
				printf(" %.2f", ratio[t]);
			printf("\n");
		}
		if (getenv("WD_LOOP_EVERY") && k == 0)
			print_run("capacity step", &r, atoi(getenv("WD_LOOP_EVERY")));
	}
	printf("held within %.0f %% from tick %d on: %d of %d seeds\n", 100 * (STEP_BAND - 1),
	       STEP_SETTLE, held, seeds);
	return held;
}

/* The capacity step, counted over many seeds (WD_LOOP_SEEDS overrides the
 * counts). With or without the default write budget (25) at least 92 % must
 * hold the band: both hold it on 94-98 % (400 seeds from each of 32
 * bases). Without the margin for a small move that takes back the last
 * write within a window, on 86-90.5 % with the budget and 81-82 % without
 * (late walks between neighbouring integer splits, a tick or three each at
 * 1.16-1.39 of the best split's p95); without the budget's overdraft for
 * writes worth it, on 65.5-71 %; without the predicted-p95 rule for small
 * moves, on 55 %. */
static void test_capacity_step_p95_settles(void)
{
	int seeds = getenv("WD_LOOP_SEEDS") ? atoi(getenv("WD_LOOP_SEEDS")) : 0;
	int n = seeds ? seeds : 400;
	CU_ASSERT(capacity_step_held(0, n) * 100 >= 92 * n);
	CU_ASSERT(capacity_step_held(25, n) * 100 >= 92 * n);
}

static const struct tu_test policy_loop_tests[] = {
	{"settles without oscillating, ordered like capacities", test_settles_without_oscillation},
	{"capacity drop moves traffic away", test_capacity_drop_moves_traffic_away},
	{"oscillation found and damped", test_oscillation_found_and_damped},
	{"any tick per window: same loop in seconds", test_any_tick_per_window},
	{"recovery after ejection", test_recovery_after_ejection},
	{"cold join: waits while cold, back within 10 ticks of warming", test_cold_join_slow_start},
	{"capacity step: p95 near the best split within 8 ticks", test_capacity_step_p95_settles},
	{NULL, NULL},
};

const struct tu_suite tu_suites[] = {
	{"policy closed loop", NULL, NULL, policy_loop_tests},
	{NULL, NULL, NULL, NULL},
};
