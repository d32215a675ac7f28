/* qmodel: M/M/1 fleet model for the policy's closed-loop tests (see qmodel.h). */
#include "qmodel.h"

#include <math.h>
#include <string.h>

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

double qm_uniform(uint64_t *state)
{
	return (double)(splitmix64(state) >> 11) * 0x1.0p-53;
}

double qm_normal(uint64_t *state)
{
	double u1 = qm_uniform(state), u2 = qm_uniform(state);
	if (u1 < 1e-300)
		u1 = 1e-300;
	return sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

void qm_init(struct qmodel *q, size_t n, const double *cap, double load, int window,
	     double noise, uint64_t seed)
{
	memset(q, 0, sizeof(*q));
	q->n = n > QM_MAX ? QM_MAX : n;
	memcpy(q->cap, cap, q->n * sizeof(*cap));
	q->load = load;
	q->window = window < 1 ? 1 : window > QM_MAX_WINDOW ? QM_MAX_WINDOW : window;
	q->noise = noise;
	q->rng = seed;
}

double qm_latency(double mu, double lambda)
{
	const double knee = 0.95;
	double rho = lambda / mu;
	if (rho < knee)
		return 1 / (mu - lambda);
	double t0 = 1 / (mu * (1 - knee)), slope = 1 / (mu * (1 - knee) * (1 - knee));
	return t0 + slope * (rho - knee);
}

void qm_tick(struct qmodel *q, const int *weights, struct wd_measurement *m)
{
	long sum = 0;
	for (size_t i = 0; i < q->n; i++)
		sum += weights[i] > 0 ? weights[i] : 0;
	for (size_t i = 0; i < q->n; i++) {
		double lambda = sum > 0 && weights[i] > 0 ? q->load * weights[i] / sum : 0;
		q->last_lat[i] = qm_latency(q->cap[i], lambda);
		q->last_rate[i] = lambda < q->cap[i] ? lambda : q->cap[i];
		q->lat[i][q->pos] = q->last_lat[i];
		q->rate[i][q->pos] = q->last_rate[i];
	}
	q->pos = (q->pos + 1) % q->window;
	if (q->filled < q->window)
		q->filled++;
	for (size_t i = 0; i < q->n; i++) {
		/* The window's latency is request-weighted, its rate a plain mean. */
		double req = 0, lat_req = 0, rate = 0;
		for (int k = 0; k < q->filled; k++) {
			req += q->rate[i][k];
			lat_req += q->rate[i][k] * q->lat[i][k];
			rate += q->rate[i][k];
		}
		memset(&m[i], 0, sizeof(m[i]));
		if (req <= 0)
			continue; /* no requests in the window: no series */
		double noise = 1 + q->noise * qm_normal(&q->rng);
		m[i].has_latency = true;
		m[i].latency_s = lat_req / req * (noise > 0.5 ? noise : 0.5);
		m[i].has_rate = true;
		m[i].rate = rate / q->filled;
		m[i].has_error = true;
		m[i].error_ratio = 0;
	}
}
