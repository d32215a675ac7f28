/* predict: the fleet's predicted p95 under a split of weights (predict.h). */
#include "predict.h"

#include <ctype.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "config.h" /* WD_MAX_BACKENDS */
#include "promql.h"

/* The tail the p95 leaves: 5 % of requests above it. */
#define PREDICT_TAIL 0.05

/* Backend i's predicted latency at weight w. */
static double latency_at(const struct predict_backend *b, int w)
{
	return b->latency_s * pow((double)w / b->seen_weight, b->elasticity);
}

double predict_fleet_p95(const struct predict_backend *b, const int *w, size_t n)
{
	/* per backend with load: its weight and its predicted latency, computed
	 * once for the whole search */
	double share[WD_MAX_BACKENDS], lat[WD_MAX_BACKENDS];
	double sum = 0, hi = 0;
	size_t m = 0;
	if (n > WD_MAX_BACKENDS)
		return NAN;
	for (size_t i = 0; i < n; i++) {
		if (w[i] <= 0)
			continue;
		double l = latency_at(&b[i], w[i]);
		if (!(l > 0) || !isfinite(l))
			return NAN;
		sum += w[i];
		share[m] = w[i];
		lat[m++] = l;
		hi = l > hi ? l : hi;
	}
	if (!(sum > 0))
		return NAN;
	/* Each latency is exponential with its p95 at latency_i (its mean is
	 * latency_i / ln 20); the mixture's p95 lies between the lowest and the
	 * highest of them. */
	double lo = 0;
	for (int k = 0; k < 60; k++) {
		double x = (lo + hi) / 2, tail = 0;
		for (size_t i = 0; i < m; i++)
			tail += share[i] / sum * exp(-x * log(1 / PREDICT_TAIL) / lat[i]);
		if (tail > PREDICT_TAIL)
			lo = x;
		else
			hi = x;
	}
	return (lo + hi) / 2;
}

static bool ident_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == ':';
}

double predict_query_quantile(const char *query)
{
	static const char fn[] = "histogram_quantile";
	const char *p = query;
	while (p && *p) {
		if (*p == '"' || *p == '\'' || *p == '`') {
			p = promql_skip_string(p);
			p += *p != '\0'; /* past its closing quote */
		} else if (*p == '#') { /* a comment, to the end of its line */
			p += strcspn(p, "\n");
		} else if (ident_char(*p)) {
			const char *id = p;
			while (ident_char(*p))
				p++;
			if ((size_t)(p - id) != sizeof(fn) - 1 || strncmp(id, fn, sizeof(fn) - 1) != 0)
				continue;
			const char *q = p + strspn(p, " \t\r\n");
			if (*q != '(')
				continue;
			char *end;
			q++;
			double v = strtod(q, &end);
			return end != q && v > 0 && v < 1 ? v : 0;
		} else {
			p++;
		}
	}
	return 0;
}

double predict_quantile_over_mean(double q)
{
	return q > 0 && q < 1 ? log(1 / (1 - q)) : 1;
}
