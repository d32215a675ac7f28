/* bench: the control benchmark. Runs one scenario of the fleet
 * model (contrib/sim/fleet.h) in simulated time under each policy an operator
 * could choose, and scores them against the oracle (the best static split per
 * phase, searched in the same model).
 *
 * Modules: run.c drives one run (the tick loop, the balancer and the
 * controllers: static, step, weightd's real policy_step on delayed and
 * averaged measurements); oracle.c searches the oracle's splits; score.c
 * turns runs into the CSV's numbers; weightd-bench.c is the command line. */
#ifndef WD_BENCH_H
#define WD_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fleet.h"
#include "scenario.h"

#define BENCH_MAX_W 24      /* steered entities: backends, or weighted child services */
#define BENCH_MAX_SEG 256   /* oracle segments */
#define BENCH_WINDOW_S 60.0   /* rate(...[1m]) unless --window says otherwise */
#define BENCH_MAX_WINDOW 64   /* ticks in a window, and ticks between scrapes, at most */
/* Traefik's passiveHealthCheck defaults (pkg/config/dynamic/http_config.go):
 * the leasttime-phc peer's, and weightd-leasttime's as it writes the key empty */
#define BENCH_PASSIVE_MAX_FAILED 1
#define BENCH_PASSIVE_WINDOW_S 10.0
#define BENCH_ERROR_PENALTY 10.0 /* the oracle's objective: p95 x (1 + 10 x error share) */

enum bench_policy {
	BP_EQUAL,
	BP_CAPACITY,
	BP_P2C,
	BP_LEASTTIME,
	BP_LEASTTIME_PHC,
	BP_STEP,
	BP_WD_LATENCY,
	BP_WD_LEASTTIME,
	BP_ORACLE,
	BP_N
};
extern const char *const bench_policy_names[BP_N];

/* One scenario, prepared for runs. */
struct bench {
	struct scenario sc;
	char name[64];
	double tick_s;          /* the scenario's interval (or --tick): weightd's tick */
	double window_s;        /* the queries' window (rate(...[1m])) */
	size_t window_ticks;    /* ticks the window spans, 1..BENCH_MAX_WINDOW */
	size_t scrape_ticks;    /* ticks between Prometheus scrapes (the scenario's scrape) */
	size_t minute_ticks;    /* ticks in a minute (at least 1), for per-minute figures */
	size_t n_ticks;
	size_t warm_ticks;      /* not scored: the first 5 minutes (a quarter of a short run) */
	bool groups;            /* a weighted service: the child services are steered */
	size_t nw;              /* steered entities */
	char names[BENCH_MAX_W][FLEET_NAME_MAX];
	char urls[BENCH_MAX_W][FLEET_NAME_MAX];
	double capacity[BENCH_MAX_W]; /* nominal: the schedule's largest (summed per child) */
	double init_w[BENCH_MAX_W];   /* the scenario's weights (summed per child) */
	size_t join_tick[BENCH_MAX_W]; /* first tick it is in the balancer */
	size_t changes[BENCH_MAX_SEG]; /* ticks where conditions change (0 first) */
	size_t n_changes;
	size_t seg[BENCH_MAX_SEG + 1]; /* oracle segment starts; seg[n_seg] = n_ticks */
	size_t n_seg;
	double noise;           /* sigma of the lognormal noise on measured latency */
	double tick_override_s; /* --tick: > 0 replaces the scenario's interval */
	uint64_t seed_override; /* --seed: > 0 replaces the scenario's seed */
	const char *policy_set; /* extra keys for weightd's policy group, e.g. "ki = 0.3;" */
	int verbose;
};

/* What one run recorded, tick by tick. */
struct bench_run {
	size_t n_ticks;         /* ticks run */
	size_t nw;
	double *w;              /* n_ticks x nw: weights in force during the tick, summing to 100 */
	double *lat;            /* successful latencies in completion order */
	size_t n_lat, cap_lat;
	size_t *off;            /* n_ticks + 1: tick k's latencies are lat[off[k] .. off[k+1]) */
	uint64_t *arrived, *failed; /* per tick: requests arrived; answered 5xx or refused */
	unsigned writes;        /* weight changes the policy made (Traefik reloads) */
};

/* Loads a scenario and prepares it: entities, nominal capacities, change
 * points (schedule steps and joins, on tick boundaries) and oracle segments
 * (the phases, cut into eighths of a diurnal period). duration_s > 0
 * overrides the scenario's. 0, or -1 with err. */
int bench_load(struct bench *b, const char *path, double duration_s, char *err, size_t errlen);
void bench_free(struct bench *b);

/* Runs policy p for ticks [0, upto) (0: all). seg_w (n_seg x nw) holds the
 * oracle's splits, used only by BP_ORACLE. 0, or -1 with err. */
int bench_run(const struct bench *b, enum bench_policy p, const double *seg_w, size_t upto,
	      struct bench_run *r, char *err, size_t errlen);
void bench_run_free(struct bench_run *r);

/* Whether a policy applies to the scenario (p2c and leasttime do not steer
 * weighted child services; the step policy is for a canary only). */
bool bench_applies(const struct bench *b, enum bench_policy p);

/* Latency quantile q of the successes of ticks [t0, t1) (nearest rank);
 * NAN without any. Sorts a copy. */
double bench_quantile(const struct bench_run *r, size_t t0, size_t t1, double q);
/* Error share of ticks [t0, t1): failed / arrived (0 without arrivals). */
double bench_error_share(const struct bench_run *r, size_t t0, size_t t1);
/* The oracle's objective over ticks [t0, t1): p95 x (1 + penalty x error share). */
double bench_cost(const struct bench_run *r, size_t t0, size_t t1);

/* Searches the oracle's split for every segment in turn (pairwise transfers
 * of weight, halving the step, common random numbers: every evaluation
 * replays the same seed). Fills seg_w (n_seg x nw). 0, or -1 with err. */
int bench_oracle(const struct bench *b, double *seg_w, char *err, size_t errlen);

/* The CSV's numbers for one run against the oracle's. Latencies and errors
 * are scored after the warm-up; settling counts from tick 0. */
struct bench_score {
	double p50_s, p95_s, p99_s, p95_ratio, error_share;
	long settle_ticks;      /* worst over the changes; -1: never within the phase;
				 * -2: does not apply (no weights: p2c, leasttime) */
	double overshoot;       /* past the final weight, share of the move; NAN: no weights */
	double writes_per_100;
};
void bench_score(const struct bench *b, enum bench_policy p, const struct bench_run *r,
		 const struct bench_run *oracle, struct bench_score *s);

#endif
