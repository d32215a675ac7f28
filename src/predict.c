/* predict: the fleet's predicted p95 under a split of weights (predict.h). */
#include "predict.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The tail the p95 leaves: 5 % of requests above it. */
#define PREDICT_TAIL 0.05

/* Backend i's predicted latency at weight w. */
static double latency_at(const struct predict_backend *b, int w)
{
	return b->latency_s * pow((double)w / b->seen_weight, b->elasticity);
}

double predict_fleet_p95(const struct predict_backend *b, const int *w, size_t n)
{
	double sum = 0, hi = 0;
	for (size_t i = 0; i < n; i++) {
		if (w[i] <= 0)
			continue;
		sum += w[i];
		double l = latency_at(&b[i], w[i]);
		hi = l > hi ? l : hi;
	}
	if (!(sum > 0) || !(hi > 0) || !isfinite(hi))
		return NAN;
	/* Each latency is exponential with its p95 at latency_i (its mean is
	 * latency_i / ln 20); the mixture's p95 lies between the lowest and the
	 * highest of them. */
	double lo = 0;
	for (int k = 0; k < 60; k++) {
		double x = (lo + hi) / 2, tail = 0;
		for (size_t i = 0; i < n; i++)
			if (w[i] > 0)
				tail += w[i] / sum * exp(-x * log(1 / PREDICT_TAIL) / latency_at(&b[i], w[i]));
		if (tail > PREDICT_TAIL)
			lo = x;
		else
			hi = x;
	}
	return (lo + hi) / 2;
}

double predict_query_quantile(const char *query)
{
	static const char fn[] = "histogram_quantile";
	const char *p = query ? strstr(query, fn) : NULL;
	if (!p)
		return 0;
	p += sizeof(fn) - 1;
	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	if (*p++ != '(')
		return 0;
	char *end;
	double q = strtod(p, &end);
	return end != p && q > 0 && q < 1 ? q : 0;
}

double predict_quantile_over_mean(double q)
{
	return q > 0 && q < 1 ? log(1 / (1 - q)) : 1;
}
