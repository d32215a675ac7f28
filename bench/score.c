/* score: a run's numbers for the CSV (latency quantiles, error share, ticks
 * to settle near the oracle, overshoot, writes), and the oracle's objective. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

double bench_quantile(const struct bench_run *r, size_t t0, size_t t1, double q)
{
	if (t1 > r->n_ticks)
		t1 = r->n_ticks;
	if (t0 >= t1)
		return NAN;
	size_t a = r->off[t0], n = r->off[t1] - a;
	if (!n)
		return NAN;
	double *v = malloc(n * sizeof *v);
	if (!v)
		return NAN;
	memcpy(v, r->lat + a, n * sizeof *v);
	qsort(v, n, sizeof *v, cmp_double);
	size_t rank = (size_t)ceil(q * (double)n);
	double out = v[rank ? rank - 1 : 0];
	free(v);
	return out;
}

double bench_error_share(const struct bench_run *r, size_t t0, size_t t1)
{
	uint64_t a = 0, e = 0;
	for (size_t k = t0; k < t1 && k < r->n_ticks; k++) {
		a += r->arrived[k];
		e += r->failed[k];
	}
	return a ? (double)e / (double)a : 0;
}

double bench_cost(const struct bench_run *r, size_t t0, size_t t1)
{
	double p95 = bench_quantile(r, t0, t1, 0.95);
	if (isnan(p95))
		return INFINITY;
	return p95 * (1 + BENCH_ERROR_PENALTY * bench_error_share(r, t0, t1));
}

/* Ticks after the change at c until every weight stays within 10 points
 * (10 % of the total) of the oracle's for the rest of the phase [c, e);
 * -1 if it never does. Weights, not latencies: a minute's p95 near
 * saturation swings by 20 % between two runs of the same split. */
static long settle(const struct bench_run *r, const struct bench_run *o, size_t c, size_t e)
{
	long s = -1;
	for (size_t k = e; k-- > c;) {
		bool near = true;
		for (size_t i = 0; i < r->nw; i++)
			near &= fabs(r->w[k * r->nw + i] - o->w[k * r->nw + i]) <= 10;
		if (!near)
			break;
		s = (long)(k - c);
	}
	return s;
}

/* Largest swing of a weight past where it ends the phase [c, e) (the mean
 * of the last quarter), as a share of its move from where it started;
 * moves under 2 % of the total are noise. */
static double overshoot(const struct bench_run *r, size_t c, size_t e)
{
	double worst = 0;
	size_t tail = c + 3 * (e - c) / 4;
	for (size_t i = 0; i < r->nw; i++) {
		double fin = 0;
		for (size_t k = tail; k < e; k++)
			fin += r->w[k * r->nw + i];
		fin /= (double)(e - tail);
		double start = r->w[c * r->nw + i]; /* in force when the change came */
		double move = fin - start;
		/* a backend that joins starts where the operator put it, not the controller */
		if (fabs(move) < 2 || start == 0)
			continue;
		for (size_t k = c; k < e; k++) {
			double past = (r->w[k * r->nw + i] - fin) * (move > 0 ? 1 : -1) / fabs(move);
			worst = past > worst ? past : worst;
		}
	}
	return worst;
}

void bench_score(const struct bench *b, enum bench_policy p, const struct bench_run *r,
		 const struct bench_run *oracle, struct bench_score *s)
{
	size_t n = r->n_ticks, w0 = b->warm_ticks;
	s->p50_s = bench_quantile(r, w0, n, 0.50);
	s->p95_s = bench_quantile(r, w0, n, 0.95);
	s->p99_s = bench_quantile(r, w0, n, 0.99);
	s->p95_ratio = s->p95_s / bench_quantile(oracle, w0, oracle->n_ticks, 0.95);
	s->error_share = bench_error_share(r, w0, n);
	/* under leasttime the weights divide a score: no split to settle on */
	bool weights = p != BP_P2C && p != BP_LEASTTIME && p != BP_LEASTTIME_PHC &&
		       p != BP_WD_LEASTTIME;
	s->settle_ticks = weights ? 0 : -2;
	s->overshoot = weights ? 0 : NAN;
	for (size_t i = 0; i < b->n_changes; i++) {
		size_t c = b->changes[i], e = i + 1 < b->n_changes ? b->changes[i + 1] : n;
		if (e > n)
			e = n;
		if (c >= e)
			continue;
		if (!weights)
			continue;
		long st = settle(r, oracle, c, e);
		if (st < 0 || s->settle_ticks < 0)
			s->settle_ticks = -1;
		else if (st > s->settle_ticks)
			s->settle_ticks = st;
		if (!isnan(s->overshoot)) {
			double os = overshoot(r, c, e);
			s->overshoot = os > s->overshoot ? os : s->overshoot;
		}
	}
	s->writes_per_100 = n ? 100.0 * r->writes / (double)n : 0;
}
