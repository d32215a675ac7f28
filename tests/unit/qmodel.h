/* qmodel: a small queueing model of a fleet for closed-loop tests of the
 * policy, without a network. Each backend is an M/M/1 queue of capacity
 * cap[i] req/s; the offered load is split by the integer weights; what the
 * policy sees is each backend's mean latency and rate averaged over the last
 * `window` ticks (a Prometheus rate()/histogram over a window spanning that
 * many ticks) with multiplicative Gaussian noise. Deterministic for a seed.
 * (The benchmark's discrete-event simulator lives in contrib/sim.) */
#ifndef WD_QMODEL_H
#define WD_QMODEL_H

#include <stddef.h>
#include <stdint.h>

#include "policy.h"

#define QM_MAX 16
#define QM_MAX_WINDOW 16

struct qmodel {
	size_t n;
	double cap[QM_MAX];   /* service capacity, req/s */
	double load;          /* offered load, req/s */
	int window;           /* ticks averaged, 1..QM_MAX_WINDOW */
	double noise;         /* relative standard deviation of a measurement */
	uint64_t rng;
	double lat[QM_MAX][QM_MAX_WINDOW], rate[QM_MAX][QM_MAX_WINDOW];
	int filled, pos;
	double last_rate[QM_MAX], last_lat[QM_MAX]; /* this tick's true values */
};

/* Sets up the model; no history yet. */
void qm_init(struct qmodel *q, size_t n, const double *cap, double load, int window,
	     double noise, uint64_t seed);

/* Mean time in an M/M/1 system of capacity mu at arrival rate lambda. Beyond
 * 95 % utilisation it grows linearly (a stand-in for a queue that builds up),
 * so an overloaded backend is slow but finite. */
double qm_latency(double mu, double lambda);

/* One tick: routes the load by weights (n entries, not all 0), records the
 * true latency and served rate, and fills m[0..n) with the windowed, noisy
 * measurements the policy would read. */
void qm_tick(struct qmodel *q, const int *weights, struct wd_measurement *m);

/* Deterministic pseudo-random numbers: uniform in [0,1) and standard normal. */
double qm_uniform(uint64_t *state);
double qm_normal(uint64_t *state);

#endif
